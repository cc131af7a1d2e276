"""The verification bundle: everything a relying party needs to verify a bureau's certificates offline,
in one file signed by the bureau (docs/verification.md).

    {"@context": ["https://w3id.org/security/data-integrity/v2"], "type": "TitleCredVerificationBundle",
     "version": 1, "issuer": DID, "issuerName": ..., "date": T,
     "didDocument": {...every key with its state...},
     "keyHistory": [{"id", "state", "createdAt", "retiredAt", "revokedAt", "compromisedAt", "reason"}],
     "statusLists": [signed BitstringStatusListCredential, ...],
     "issuanceLog": {"seq", "hash", "publishedAt"},
     "proof": DataIntegrityProof eddsa-jcs-2022 by a key of the issuer (assertionMethod)}

The signature, not the host it came from, is what is trusted: any mirror serves the same bytes. A bundle
is read only when its proof verifies with a key of its own issuer that was not compromised when it
signed; given the keys pinned earlier (`pinned`), the signing key must also be one of them (a bundle
cannot bring its own new key past a pin). Its status lists are a dated snapshot: verification with
them says "status as of the bundle's date".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keys.did import DidResolver, ResolvedMethod
from keys.errors import KeyMaterialError
from keys.state import KeyRecord, KeyState, format_utc, judge_signature_time
from proofs.dataintegrity import parse_datetime, verify_proofs
from proofs.errors import ProofLayerError
from schemas.loader import default_loader

BUNDLE_TYPE = "TitleCredVerificationBundle"
BUNDLE_CONTEXT = "https://w3id.org/security/data-integrity/v2"
BUNDLE_VERSION = 1
WELL_KNOWN_PATH = "/.well-known/titlecred-bundle.json"
MAX_BUNDLE_BYTES = 32 * 1024 * 1024
MAX_STATUS_LISTS = 1000


class BundleError(Exception):
    code = "invalid_bundle"

    def __init__(self, message: str, code: str = "invalid_bundle") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def key_history(records: list[KeyRecord]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        row: dict[str, Any] = {"id": r.key_id, "state": r.state.value, "publicKeyMultibase": r.public_key_multibase}
        for name, value in (("createdAt", r.created_at), ("retiredAt", r.retired_at), ("revokedAt", r.revoked_at),
                            ("compromisedAt", r.compromised_at)):
            if value is not None:
                row[name] = format_utc(value)
        if r.revocation_reason:
            row["reason"] = r.revocation_reason
        out.append(row)
    return out


def unsigned_bundle(*, issuer: str, issuer_name: str, date: str, did_document: dict[str, Any],
                    records: list[KeyRecord], status_lists: list[dict[str, Any]],
                    issuance_log: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [BUNDLE_CONTEXT],
        "type": BUNDLE_TYPE,
        "version": BUNDLE_VERSION,
        "issuer": issuer,
        "issuerName": issuer_name,
        "date": date,
        "didDocument": did_document,
        "keyHistory": key_history(records),
        "statusLists": status_lists,
        "issuanceLog": issuance_log,
    }


@dataclass(frozen=True)
class Bundle:
    issuer: str
    issuer_name: str
    date: datetime
    did_document: dict[str, Any]
    status_lists: list[dict[str, Any]]
    issuance_log: dict[str, Any]
    signed_by: str
    document: dict[str, Any]

    @property
    def date_text(self) -> str:
        return format_utc(self.date)


def read_bundle(doc: Any, pinned: Mapping[str, Any] | None = None) -> Bundle:
    """Check a bundle's shape and signature; `pinned`: the issuer's DID document pinned earlier, if any."""
    if not isinstance(doc, dict) or doc.get("type") != BUNDLE_TYPE:
        raise BundleError(f"not a verification bundle (type {BUNDLE_TYPE})")
    if doc.get("version") != BUNDLE_VERSION:
        raise BundleError(f"bundle version {doc.get('version')!r} is not supported (version {BUNDLE_VERSION})")
    issuer, did_doc, lists = doc.get("issuer"), doc.get("didDocument"), doc.get("statusLists")
    date = parse_datetime(doc.get("date"))
    if not isinstance(issuer, str) or not issuer.startswith("did:") or date is None:
        raise BundleError("the bundle has no issuer DID or no date")
    if not isinstance(did_doc, dict) or did_doc.get("id") != issuer:
        raise BundleError("the bundle's DID document is not its issuer's")
    if not isinstance(lists, list) or len(lists) > MAX_STATUS_LISTS or not all(isinstance(x, dict) for x in lists):
        raise BundleError("the bundle's statusLists must be a list of status list credentials")
    log = doc.get("issuanceLog")
    if not isinstance(log, dict):
        raise BundleError("the bundle has no issuanceLog head")
    try:
        own = DidResolver([did_doc])
        trusted = DidResolver([pinned]) if pinned is not None else None
    except KeyMaterialError as e:
        raise BundleError(f"the bundle's DID document is invalid: {e}") from None
    used: dict[str, ResolvedMethod] = {}

    def resolve(vm: str) -> Any:
        if not vm.startswith(issuer + "#"):
            raise BundleError(f"the bundle is signed by {vm}, not by a key of its issuer {issuer}")
        method = own.resolve_verification_method(vm)
        if trusted is not None:
            try:
                known = trusted.resolve_verification_method(vm)
            except KeyMaterialError:
                raise BundleError(f"the bundle is signed by {vm}, which is not among the keys pinned for "
                                  f"{issuer}: refresh the pin first (titlecred trust refresh)",
                                  "bundle_key_not_pinned") from None
            if known.public_key != method.public_key:
                raise BundleError(f"key {vm} in the bundle differs from the pinned one", "bundle_key_not_pinned")
            method = known if known.state is KeyState.REVOKED else method
        used[vm] = method
        return method.public_key.verify

    try:
        checks = verify_proofs(doc, resolve, default_loader())
    except ProofLayerError as e:
        raise BundleError(f"the bundle's proof cannot be checked: {e.message}") from None
    if len(checks) != 1:
        raise BundleError("a bundle carries exactly one proof")
    check = checks[0]
    if not check.ok:
        code = check.code if check.code == "bundle_key_not_pinned" else "bundle_signature_invalid"
        raise BundleError(f"the bundle's signature does not verify: {check.reason}", code)
    vm = check.verification_method or ""
    method = used[vm]
    judgement = judge_signature_time(method.record, check.created or date)
    if not judgement.ok:
        raise BundleError(f"the bundle's signing key cannot vouch for it: {judgement.reason}", "bundle_key_revoked")
    if "assertionMethod" not in method.relationships and method.state is not KeyState.REVOKED:
        raise BundleError(f"key {vm} is not an assertion method of {issuer}", "bundle_signature_invalid")
    name = doc.get("issuerName")
    return Bundle(issuer, name if isinstance(name, str) else "", date, did_doc, list(lists), log, vm, doc)

