"""Verify an SD-JWT VC (`dc+sd-jwt`) and, when presented, its key-binding JWT (RFC 9901, SD-JWT VC).

`verify_sd_jwt(text, policy, ...)` returns the same structured `VerificationResult` as a W3C
credential's verification, with these checks:

- `shape`: `typ` is `dc+sd-jwt`, `alg` EdDSA, a `kid`, `iss`, `vct`, `iat`; the disclosures are
  well formed, each referenced exactly once, none repeats a visible claim;
- `proof`, `key`, `issuer`: the issuer's signature under the key `kid` names (resolved by the
  policy's resolver, as for Data Integrity proofs), the key's state at `iat`, a trusted issuer;
- `validity`: `nbf` / `exp`;
- `key_binding`: the KB-JWT (`typ` `kb+jwt`) signed by the key in `cnf.jwk`, over our `nonce` and
  `aud`, fresh `iat`, and `sd_hash` the digest of exactly what was presented;
- `status`: the IETF Token Status List entry (`status.status_list`), fetched through a
  `TokenStatusSource`: 0 valid, 1 revoked, 2 suspended.

`result.credential` holds the disclosed claims (the visible ones plus every disclosed one).
It must never count an undisclosed digest as a claim, nor accept a KB-JWT over another presentation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from keys.errors import KeyMaterialError
from keys.jose import (
    HOLDER_ALGS,
    JoseError,
    alg_for_jwk,
    b64u,
    b64u_decode,
    decode_compact,
    holder_public_jwk,
    verify_compact,
)
from proofs.dataintegrity import ProofCheck
from schemas import tokenstatus
from schemas.bitstring import StatusListError
from verifier.policy import Policy
from verifier.result import Check, VerificationResult, unusable
from verifier.verify import _issuer_check, _key_check

SD_JWT_TYPS = ("dc+sd-jwt",)
KB_TYP = "kb+jwt"
ISSUER_ALGS = ("EdDSA",)
MAX_DISCLOSURES = 64
MAX_DISCLOSURE_CHARS = 8 * 1024
KB_MAX_AGE = timedelta(minutes=5)
FUTURE_SKEW = timedelta(seconds=60)


@dataclass
class ParsedSdJwt:
    jwt: str
    header: dict[str, Any]
    payload: dict[str, Any]
    disclosures: list[str]
    kb_jwt: str | None
    claims: dict[str, Any] = field(default_factory=dict)
    # Everything up to the last '~' before the KB-JWT: what `sd_hash` covers.
    presented: str = ""


def _decode_disclosure(text: str) -> list[Any]:
    if len(text) > MAX_DISCLOSURE_CHARS:
        raise JoseError("malformed_disclosure", "a disclosure is too long")
    try:
        value = json.loads(b64u_decode(text).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        if isinstance(e, JoseError):
            raise
        raise JoseError("malformed_disclosure", "a disclosure is not base64url JSON") from e
    if not isinstance(value, list) or len(value) not in (2, 3) or not isinstance(value[0], str):
        raise JoseError("malformed_disclosure", "a disclosure is [salt, name, value] or [salt, value]")
    return value


def _digest(text: str) -> str:
    return b64u(hashlib.sha256(text.encode("ascii")).digest())


def _reveal(node: Any, by_digest: dict[str, list[Any]], used: set[str], depth: int = 0) -> Any:
    """`node` with every disclosed digest replaced by its claim (recursively); undisclosed ones dropped."""
    if depth > 16:
        raise JoseError("malformed_jwt", "the SD-JWT nests too deeply")
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        digests = node.get("_sd", [])
        if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
            raise JoseError("malformed_jwt", "_sd must be a list of digests")
        for key, value in node.items():
            if key in ("_sd", "_sd_alg"):
                continue
            out[key] = _reveal(value, by_digest, used, depth + 1)
        for d in digests:
            disc = by_digest.get(d)
            if disc is None:
                continue
            if d in used:
                raise JoseError("malformed_disclosure", "a digest appears twice")
            used.add(d)
            if len(disc) != 3 or not isinstance(disc[1], str):
                raise JoseError("malformed_disclosure", "an object property needs [salt, name, value]")
            name = disc[1]
            if name in out or name in ("_sd", "..."):
                raise JoseError("malformed_disclosure", f"disclosed claim {name!r} is already present")
            out[name] = _reveal(disc[2], by_digest, used, depth + 1)
        return out
    if isinstance(node, list):
        items: list[Any] = []
        for item in node:
            if isinstance(item, dict) and set(item) == {"..."}:
                d = item["..."]
                disc = by_digest.get(d) if isinstance(d, str) else None
                if disc is None:
                    continue
                if d in used:
                    raise JoseError("malformed_disclosure", "a digest appears twice")
                used.add(d)
                if len(disc) != 2:
                    raise JoseError("malformed_disclosure", "an array element needs [salt, value]")
                items.append(_reveal(disc[1], by_digest, used, depth + 1))
            else:
                items.append(_reveal(item, by_digest, used, depth + 1))
        return items
    return node


def parse_sd_jwt(text: Any) -> ParsedSdJwt:
    """Split and decode an SD-JWT (with or without a KB-JWT); JoseError if it is not one."""
    if not isinstance(text, str) or "~" not in text:
        raise JoseError("malformed_sd_jwt", "an SD-JWT is <JWT>~<disclosure>~...~[<KB-JWT>]")
    parts = text.split("~")
    jwt, disclosures, last = parts[0], parts[1:-1], parts[-1]
    if len(disclosures) > MAX_DISCLOSURES or any(not d for d in disclosures):
        raise JoseError("malformed_sd_jwt", "empty or too many disclosures")
    header, payload = decode_compact(jwt)
    alg = payload.get("_sd_alg", "sha-256")
    if alg != "sha-256":
        raise JoseError("malformed_sd_jwt", f"_sd_alg {alg!r} is not supported (sha-256 only)")
    by_digest: dict[str, list[Any]] = {}
    for d in disclosures:
        digest = _digest(d)
        if digest in by_digest:
            raise JoseError("malformed_disclosure", "the same disclosure is presented twice")
        by_digest[digest] = _decode_disclosure(d)
    used: set[str] = set()
    claims = _reveal(payload, by_digest, used)
    if used != set(by_digest):
        raise JoseError("malformed_disclosure", "a disclosure is not referenced by the signed token")
    presented = text[: len(text) - len(last)]
    return ParsedSdJwt(jwt, header, payload, disclosures, last or None, claims, presented)


@dataclass(frozen=True)
class FetchedToken:
    """A Status List Token (a JWT) as a source could get it, and when; or why it could not."""

    token: str | None
    fetched_at: datetime
    error: str | None = None


class TokenStatusSource(Protocol):
    def fetch_token(self, uri: str) -> FetchedToken: ...


def _time(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _shape_check(parsed: ParsedSdJwt) -> Check:
    h, p = parsed.header, parsed.payload
    if h.get("typ") not in SD_JWT_TYPS:
        return Check("shape", "failed", f"typ is {h.get('typ')!r}, expected dc+sd-jwt", "invalid_typ")
    if h.get("alg") not in ISSUER_ALGS:
        return Check("shape", "failed", f"alg {h.get('alg')!r} is not accepted for issuers", "unsupported_alg")
    for claim in ("iss", "vct"):
        if not isinstance(p.get(claim), str):
            return Check("shape", "failed", f"the SD-JWT VC has no {claim}", "invalid_shape")
    if _time(p.get("iat")) is None:
        return Check("shape", "failed", "the SD-JWT VC has no iat", "invalid_shape")
    if not isinstance(h.get("kid"), str):
        return Check("shape", "failed", "the header names no key (kid)", "invalid_shape")
    return Check("shape", "passed", f"an SD-JWT VC of type {p['vct']} with {len(parsed.disclosures)} disclosures")


def _key_binding_check(parsed: ParsedSdJwt, nonce: str | None, audience: str | None, now: datetime,
                       required: bool) -> Check:
    if parsed.kb_jwt is None:
        if required:
            return Check("key_binding", "failed", "no key-binding JWT: the holder did not prove the key",
                         "missing_key_binding")
        return Check("key_binding", "skipped", "no key-binding JWT (not asked for)", required=False)
    cnf = parsed.payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    try:
        holder = holder_public_jwk(jwk)
        header, payload = decode_compact(parsed.kb_jwt)
    except JoseError as e:
        return Check("key_binding", "failed", f"the key binding cannot be read: {e.message}", e.code)
    if header.get("typ") != KB_TYP:
        return Check("key_binding", "failed", f"the KB-JWT's typ is {header.get('typ')!r}, not kb+jwt",
                     "invalid_typ")
    alg = alg_for_jwk(holder)
    if header.get("alg") != alg or alg not in HOLDER_ALGS:
        return Check("key_binding", "failed", f"the KB-JWT's alg {header.get('alg')!r} does not fit the holder key",
                     "unsupported_alg")
    if not verify_compact(parsed.kb_jwt, holder, alg):
        return Check("key_binding", "failed", "the KB-JWT is not signed by the key the credential is bound to "
                     "(cnf.jwk): presented by someone else's key", "wrong_holder_key")
    if nonce is not None and payload.get("nonce") != nonce:
        return Check("key_binding", "failed", "the KB-JWT's nonce is not this request's nonce (a replay?)",
                     "nonce_mismatch")
    if audience is not None and payload.get("aud") != audience:
        return Check("key_binding", "failed", f"the KB-JWT's aud is {payload.get('aud')!r}, not {audience!r}",
                     "audience_mismatch")
    iat = _time(payload.get("iat"))
    if iat is None or iat > now + FUTURE_SKEW or iat < now - KB_MAX_AGE:
        return Check("key_binding", "failed", "the KB-JWT's iat is missing or not fresh", "stale_key_binding")
    if payload.get("sd_hash") != _digest(parsed.presented):
        return Check("key_binding", "failed", "the KB-JWT's sd_hash does not match what was presented",
                     "sd_hash_mismatch")
    return Check("key_binding", "passed", "the holder proved the bound key over this request's nonce and audience")


def _status_check(parsed: ParsedSdJwt, policy: Policy, source: TokenStatusSource | None, now: datetime,
                  result: VerificationResult) -> Check:
    status = parsed.payload.get("status")
    ref = status.get("status_list") if isinstance(status, dict) else None
    if ref is None:
        return Check("status", "skipped", "the credential has no status entry", required=False)
    if policy.unsafe_skip_status:
        result.warnings.append("status was not checked: the certificate may be revoked")
        return Check("status", "skipped", "status NOT checked (unsafe_skip_status)", "status_skipped", required=False)
    idx, uri = (ref.get("idx"), ref.get("uri")) if isinstance(ref, dict) else (None, None)
    if not isinstance(idx, int) or isinstance(idx, bool) or idx < 0 or not isinstance(uri, str):
        return Check("status", "failed", "status.status_list needs idx and uri", "malformed_status")
    if source is None:
        result.status = "unknown"
        return Check("status", "indeterminate", "no status source to fetch the Status List Token from",
                     "status_unavailable")
    fetched = source.fetch_token(uri)
    result.status_as_of = fetched.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fetched.token is None:
        result.status = "unknown"
        return Check("status", "indeterminate", fetched.error or "the status list could not be fetched",
                     "status_unavailable")
    problem = _status_token_problem(fetched.token, uri, parsed.payload.get("iss"), policy, now)
    if problem is not None:
        result.status = "unknown"
        return Check("status", "indeterminate", problem, "status_list_invalid")
    _, payload = decode_compact(fetched.token)
    try:
        lst, bits = tokenstatus.decode(payload.get("status_list"))
        value = tokenstatus.get_value(lst, idx, bits)
    except StatusListError as e:
        result.status = "unknown"
        return Check("status", "indeterminate", e.message, "status_list_invalid")
    if value == tokenstatus.VALID:
        result.status = "valid"
        return Check("status", "passed", f"not revoked or suspended (Token Status List {uri}, index {idx})")
    result.status = {tokenstatus.INVALID: "revoked", tokenstatus.SUSPENDED: "suspended"}.get(value, "unknown")
    return Check("status", "failed", f"the certificate is {result.status} (Token Status List {uri}, index {idx})",
                 "revoked" if value == tokenstatus.INVALID else "suspended")


def _status_token_problem(token: str, uri: str, iss: Any, policy: Policy, now: datetime) -> str | None:
    try:
        header, payload = decode_compact(token)
    except JoseError as e:
        return f"the Status List Token cannot be read: {e.message}"
    if header.get("typ") != "statuslist+jwt" or payload.get("sub") != uri:
        return "the Status List Token is not the one referenced (typ statuslist+jwt, sub = uri)"
    kid = header.get("kid")
    try:
        method = policy.resolver.resolve_verification_method(str(kid))
    except KeyMaterialError as e:
        return f"the Status List Token's key cannot be resolved: {e}"
    if method.controller != iss or header.get("alg") != "EdDSA":
        return "the Status List Token is not signed by the credential's issuer"
    signing_input, _, sig = token.rpartition(".")
    try:
        signature = b64u_decode(sig)
    except JoseError:
        return "the Status List Token's signature is not base64url"
    if not method.public_key.verify(signing_input.encode("ascii"), signature):
        return "the Status List Token's signature does not verify"
    exp = _time(payload.get("exp"))
    if exp is not None and exp < now:
        return "the Status List Token has expired"
    return None


def verify_sd_jwt(text: Any, policy: Policy, *, nonce: str | None = None, audience: str | None = None,
                  require_key_binding: bool = False, status_source: TokenStatusSource | None = None
                  ) -> VerificationResult:
    now = policy.now or datetime.now(UTC)
    try:
        parsed = parse_sd_jwt(text)
    except JoseError as e:
        return unusable(e.code, e.message)
    result = VerificationResult(credential=parsed.claims)
    shape = _shape_check(parsed)
    result.checks.append(shape)
    if not shape.ok:
        result.errors.append({"code": shape.code, "message": shape.reason})
        return result
    kid, iss = str(parsed.header["kid"]), str(parsed.payload["iss"])
    iat = _time(parsed.payload["iat"])
    resolved: dict[str, Any] = {}
    try:
        method = policy.resolver.resolve_verification_method(kid)
        resolved[kid] = method
        signing_input, _, sig = parsed.jwt.rpartition(".")
        ok = method.public_key.verify(signing_input.encode("ascii"), b64u_decode(sig))
        proof = ProofCheck(ok, "the issuer's signature verifies" if ok else "the issuer's signature does not verify",
                           "" if ok else "invalid_signature", verification_method=kid, created=iat)
    except KeyMaterialError as e:
        proof = ProofCheck(False, str(e), getattr(e, "code", "unknown_key"), verification_method=kid, created=iat)
    except JoseError as e:
        proof = ProofCheck(False, e.message, e.code, verification_method=kid, created=iat)
    result.checks.append(Check("proof", "passed" if proof.ok else "failed",
                               proof.reason if proof.ok else f"proof invalid: {proof.reason}", proof.code))
    if not proof.ok:
        return result
    doc = {"issuer": iss}
    result.checks.append(_key_check(doc, [proof], resolved, policy, now))
    result.checks.append(_issuer_check(doc, [proof], resolved, policy))
    nbf, exp = _time(parsed.payload.get("nbf")), _time(parsed.payload.get("exp"))
    if nbf is not None and nbf > now:
        result.checks.append(Check("validity", "failed", "not valid yet (nbf)", "not_yet_valid"))
    elif exp is not None and exp < now:
        result.checks.append(Check("validity", "failed", "expired (exp)", "expired"))
    else:
        result.checks.append(Check("validity", "passed", "within its validity period"))
    result.checks.append(_key_binding_check(parsed, nonce, audience, now, require_key_binding))
    result.checks.append(_status_check(parsed, policy, status_source, now, result))
    return result


def disclosed_claims(result: VerificationResult) -> Mapping[str, Any]:
    return result.credential or {}
