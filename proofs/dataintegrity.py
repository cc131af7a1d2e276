"""Data Integrity proofs (VC Data Integrity 1.0 §4.2–4.3): add a proof, verify each proof of a document.

Written once over `Cryptosuite`. Verification returns a `ProofCheck` for each proof (an invalid proof
is a result, not an exception); only input that cannot be processed at all raises. Key resolution and
key state are the caller's: this module gets a function from verification-method id to a verify
function, and reports the verification method and `created` so that the verifier can judge them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from keys.multikey import multibase_b58_decode, multibase_b58_encode
from proofs.canon import DocumentLoaderFn
from proofs.errors import MalformedProof, ProofLayerError
from proofs.purposes import ASSERTION, ProofPurpose
from proofs.suites import Cryptosuite, suite_for

Signer = Callable[[bytes], bytes]
# Given a verification method id, return a function (message, signature) -> bool, or raise.
KeyResolver = Callable[[str], Callable[[bytes, bytes], bool]]

# XML Schema dateTimeStamp, as the W3C test suites check `created` and `expires`.
DATETIME_STAMP = re.compile(
    r"-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T"
    r"(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|(24:00:00(\.0+)?))"
    r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)


def format_datetime(dt: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`: hashed exactly as written, so one form everywhere."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not DATETIME_STAMP.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class ProofOptions:
    verification_method: str
    created: str
    proof_purpose: str = "assertionMethod"
    cryptosuite: str = "eddsa-rdfc-2022"
    id: str | None = None
    expires: str | None = None
    challenge: str | None = None
    domain: str | None = None
    nonce: str | None = None
    previous_proof: str | list[str] | None = None

    def as_proof(self) -> dict[str, Any]:
        proof: dict[str, Any] = {"type": "DataIntegrityProof"}
        if self.id is not None:
            proof["id"] = self.id
        proof["cryptosuite"] = self.cryptosuite
        proof["created"] = self.created
        if self.expires is not None:
            proof["expires"] = self.expires
        proof["verificationMethod"] = self.verification_method
        proof["proofPurpose"] = self.proof_purpose
        for key, value in (("challenge", self.challenge), ("domain", self.domain), ("nonce", self.nonce),
                           ("previousProof", self.previous_proof)):
            if value is not None:
                proof[key] = value
        return proof


def _proofs_of(document: dict[str, Any]) -> list[Any]:
    proof = document.get("proof")
    if proof is None:
        return []
    return list(proof) if isinstance(proof, list) else [proof]


def _hash_data(
    suite: Cryptosuite, unsecured: dict[str, Any], proof: dict[str, Any], loader: DocumentLoaderFn
) -> bytes:
    if "@context" not in unsecured:
        raise MalformedProof("the document has no @context")
    config = {k: v for k, v in proof.items() if k not in ("proofValue", "@context")}
    config["@context"] = unsecured["@context"]
    return suite.config_hash(config, loader) + suite.document_hash(unsecured, loader)


def add_proof(
    document: dict[str, Any], options: ProofOptions, sign: Signer, loader: DocumentLoaderFn
) -> dict[str, Any]:
    """Return a copy of `document` with one more proof (a proof set if it already had one)."""
    suite = suite_for(options.cryptosuite)
    existing = _proofs_of(document)
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof = options.as_proof()
    if options.previous_proof is not None:
        # A proof chain signs the earlier proofs it names (VC-DI §4.2, step on previousProof).
        wanted = {options.previous_proof} if isinstance(options.previous_proof, str) else set(
            options.previous_proof)
        chained = [p for p in existing if isinstance(p, dict) and p.get("id") in wanted]
        if len(chained) != len(wanted):
            raise MalformedProof("previousProof names a proof that the document does not have")
        unsecured = {**unsecured, "proof": chained[0] if len(chained) == 1 else chained}
    signature = sign(_hash_data(suite, unsecured, proof, loader))
    if suite.proof_carries_context:
        proof["@context"] = document.get("@context")
    proof["proofValue"] = multibase_b58_encode(signature)
    signed = {k: v for k, v in document.items() if k != "proof"}
    all_proofs = [*existing, proof]
    signed["proof"] = all_proofs[0] if len(all_proofs) == 1 else all_proofs
    return signed


@dataclass
class ProofCheck:
    """The outcome for one proof: `ok`, and when not, a stable `code` and a human `reason`."""

    ok: bool
    reason: str
    code: str = ""
    verification_method: str | None = None
    created: datetime | None = None
    cryptosuite: str | None = None
    proof_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _fail(code: str, reason: str, proof: Any) -> ProofCheck:
    p = proof if isinstance(proof, dict) else {}
    vm = p.get("verificationMethod")
    return ProofCheck(False, reason, code, vm if isinstance(vm, str) else None,
                      parse_datetime(p.get("created")), p.get("cryptosuite") if isinstance(
                          p.get("cryptosuite"), str) else None)


def verify_proofs(
    document: dict[str, Any],
    resolve_key: KeyResolver,
    loader: DocumentLoaderFn,
    purpose: ProofPurpose = ASSERTION,
    now: datetime | None = None,
) -> list[ProofCheck]:
    """Verify every proof on `document` (proof sets and chains); one `ProofCheck` per proof."""
    proofs = _proofs_of(document)
    if not proofs:
        return [ProofCheck(False, "the document has no proof", "no_proof")]
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    by_id = {p.get("id"): p for p in proofs if isinstance(p, dict) and p.get("id")}
    return [_verify_one(unsecured, p, by_id, resolve_key, loader, purpose, now) for p in proofs]


def _verify_one(
    unsecured: dict[str, Any],
    proof: Any,
    by_id: dict[Any, Any],
    resolve_key: KeyResolver,
    loader: DocumentLoaderFn,
    purpose: ProofPurpose,
    now: datetime | None,
) -> ProofCheck:
    if not isinstance(proof, dict):
        return _fail("malformed_proof", "the proof is not a JSON object", proof)
    if proof.get("type") != "DataIntegrityProof":
        return _fail("unsupported_proof_type",
                     f"proof type {proof.get('type')!r} is not supported (DataIntegrityProof only)", proof)
    try:
        suite = suite_for(proof.get("cryptosuite"))
    except ProofLayerError as e:
        return _fail(e.code, e.message, proof)
    vm = proof.get("verificationMethod")
    if not isinstance(vm, str) or not vm:
        return _fail("malformed_proof", "the proof has no verificationMethod", proof)
    if not isinstance(proof.get("proofPurpose"), str):
        return _fail("malformed_proof", "the proof has no proofPurpose", proof)
    for key in ("created", "expires"):
        if key in proof and parse_datetime(proof[key]) is None:
            return _fail("malformed_proof", f"the proof's {key} is not a valid date-time stamp", proof)
    expires = parse_datetime(proof.get("expires"))
    if expires is not None and expires < (now or datetime.now(UTC)):
        return _fail("proof_expired", "the proof has expired", proof)
    mismatch = purpose.mismatch(proof)
    if mismatch:
        return _fail("proof_purpose", mismatch, proof)
    value = proof.get("proofValue")
    try:
        if not isinstance(value, str):
            raise MalformedProof("the proof has no proofValue")
        signature = multibase_b58_decode(value)
    except Exception:
        return _fail("malformed_proof", "the proofValue is not base58btc multibase ('z…')", proof)
    if len(signature) != 64:
        return _fail("malformed_proof", f"the signature is {len(signature)} bytes; Ed25519 needs 64", proof)
    if suite.proof_carries_context and "@context" in proof:
        ctx = unsecured.get("@context")
        pctx = proof["@context"]
        if pctx != ctx:
            return _fail("malformed_proof", "the proof's @context differs from the document's", proof)
    doc = unsecured
    previous = proof.get("previousProof")
    if previous is not None:
        wanted = [previous] if isinstance(previous, str) else previous
        if not isinstance(wanted, list) or not all(isinstance(w, str) and w in by_id for w in wanted):
            return _fail("malformed_proof", "previousProof names a proof that the document does not have",
                         proof)
        chained = [by_id[w] for w in wanted]
        doc = {**unsecured, "proof": chained[0] if len(chained) == 1 else chained}
    try:
        verify = resolve_key(vm)
    except ProofLayerError as e:
        return _fail(e.code, e.message, proof)
    except Exception as e:  # a resolver's own typed error (keys layer): keep its code and message
        return _fail(getattr(e, "code", "unresolvable_key"), str(e), proof)
    data = _hash_data(suite, doc, proof, loader)
    check = _fail("invalid_signature", "", proof)
    if verify(data, signature):
        check.ok, check.code = True, ""
        check.reason = f"{suite.name} signature by {vm} is valid"
    else:
        check.reason = (f"the {suite.name} proof by {vm} does not match the document: "
                        "the credential was changed after signing, or signed by another key")
    check.proof_id = proof.get("id") if isinstance(proof.get("id"), str) else None
    return check
