"""VC Data Model 2.0 rules an issuer must enforce before it signs, as plain functions over dicts.

`credential_problem(doc)` returns the first (code, message) a conforming issuer must refuse, or None:
identifiers that are not URLs, an `issuer` that is null or not a URL, `credentialSchema`,
`credentialStatus`, `refreshService`, `termsOfUse` and `evidence` objects without `type`,
`relatedResource` entries that are not objects with a unique URL `id` and a digest, and a digest that
does not match the resource when we hold it (the bundled contexts; see `KNOWN_DIGESTS`).

`inline_context_problem(ctx)` bounds an inline `@context` object: no `@import`, no nested remote URL
other than a bundled context, no redefinition of the VC terms (pyld enforces `@protected` too).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

from schemas.loader import bundled_contexts, context_bytes

Problem = tuple[str, str]

# A URL as VC DM 2.0 §4.4 means it: an absolute IRI with a scheme and something after the colon.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+\Z")
# Digests of earlier published versions of a bundled context, which we no longer hold byte for byte:
# the VC 2.0 context as the W3C VC DM 2.0 test suite (March 2025) fixes it.
KNOWN_DIGESTS: dict[str, set[bytes]] = {
    "https://www.w3.org/ns/credentials/v2": {
        base64.b64decode("NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"),
        base64.urlsafe_b64decode("JKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k="),
    },
}
_SRI = re.compile(r"(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})\Z")
_MULTIHASH = {0x12: ("sha256", 32), 0x13: ("sha512", 64), 0x20: ("sha384", 48)}


def is_url(value: Any) -> bool:
    return isinstance(value, str) and bool(_URL.match(value))


def _objects(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def credential_problem(doc: dict[str, Any]) -> Problem | None:
    if "id" in doc and not is_url(doc["id"]):
        return ("invalid_id", "id must be a single URL")
    if "issuer" in doc:
        issuer = doc["issuer"]
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        if not is_url(issuer_id):
            return ("invalid_issuer", "issuer must be a URL, or an object whose id is a URL")
    subjects = _objects(doc.get("credentialSubject"))
    for s in subjects:
        if isinstance(s, dict) and "id" in s and not is_url(s["id"]):
            return ("invalid_subject", "credentialSubject.id must be a single URL")
    for key, needs_id in (("credentialSchema", True), ("credentialStatus", False), ("refreshService", False),
                          ("termsOfUse", False), ("evidence", False)):
        if key not in doc:
            continue
        for obj in _objects(doc[key]):
            if not isinstance(obj, dict):
                return ("invalid_" + key, f"each {key} must be an object")
            if "type" not in obj or not all(isinstance(t, str) and t for t in _objects(obj["type"])):
                return ("missing_type", f"each {key} must have a type")
            if "id" in obj and not is_url(obj["id"]):
                return ("invalid_id", f"{key}.id must be a single URL")
            if needs_id and "id" not in obj:
                return ("invalid_id", f"each {key} must have an id")
    if "relatedResource" in doc:
        return related_resource_problem(doc["relatedResource"])
    return None


def related_resource_problem(value: Any) -> Problem | None:
    seen: set[str] = set()
    for obj in _objects(value):
        if not isinstance(obj, dict):
            return ("invalid_related_resource", "each relatedResource must be an object")
        rid = obj.get("id")
        if not isinstance(rid, str) or not is_url(rid):
            return ("invalid_related_resource", "each relatedResource must have a URL id")
        if rid in seen:
            return ("invalid_related_resource", f"relatedResource id {rid} appears twice")
        seen.add(rid)
        if "digestSRI" not in obj and "digestMultibase" not in obj:
            return ("invalid_related_resource", f"relatedResource {rid} has neither digestSRI nor digestMultibase")
        for key in ("digestSRI", "digestMultibase"):
            if key in obj:
                problem = _digest_problem(rid, key, obj[key])
                if problem:
                    return problem
    return None


def _held(url: str) -> bytes | None:
    return context_bytes(url) if url in bundled_contexts() else None


def _matches(url: str, algorithm: str, digest: bytes) -> bool | None:
    """Whether `digest` is the resource's (None: we do not hold the resource to compare)."""
    held = _held(url)
    if held is None:
        return None
    return digest == hashlib.new(algorithm, held).digest() or digest in KNOWN_DIGESTS.get(url, set())


def _digest_problem(url: str, key: str, value: Any) -> Problem | None:
    bad = ("invalid_digest", f"relatedResource {url}: {key} is malformed")
    if not isinstance(value, str):
        return bad
    if key == "digestSRI":
        m = _SRI.match(value)
        if not m:
            return bad
        algorithm = m.group(1)
        try:
            digest = base64.b64decode(m.group(2), validate=True)
        except binascii.Error:
            return bad
        if len(digest) != hashlib.new(algorithm).digest_size:
            return bad
    else:
        digest_or_none = _multibase_digest(value)
        if digest_or_none is None:
            return bad
        algorithm, digest = digest_or_none
    if _matches(url, algorithm, digest) is False:
        return ("digest_mismatch", f"relatedResource {url}: the {key} does not match the resource")
    return None


def _multibase_digest(value: str) -> tuple[str, bytes] | None:
    """A `u` (base64url) multibase value: a multihash, or (as the W3C suite sends) a bare SHA-256."""
    if not value.startswith("u") or not re.fullmatch(r"[A-Za-z0-9_\-]+", value[1:]):
        return None
    try:
        raw = base64.urlsafe_b64decode(value[1:] + "=" * (-len(value[1:]) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) >= 2 and raw[0] in _MULTIHASH and raw[1] == _MULTIHASH[raw[0]][1] and len(raw) == raw[1] + 2:
        return _MULTIHASH[raw[0]][0], raw[2:]
    if len(raw) == 32:
        return "sha256", raw
    return None


# ---------------------------------------------------------------------- inline contexts

_VC_TERMS = frozenset({"VerifiableCredential", "VerifiablePresentation", "issuer", "credentialSubject", "proof",
                       "validFrom", "validUntil", "credentialStatus", "credentialSchema", "type", "id"})


def inline_context_problem(ctx: Any) -> Problem | None:
    """Why an inline @context object is refused (bounds and safety), or None."""
    if not isinstance(ctx, dict):
        return ("invalid_context", "an inline @context must be a JSON object")
    stack: list[dict[str, Any]] = [ctx]
    while stack:
        node = stack.pop()
        for k, v in node.items():
            if k == "@import":
                return ("unsupported_context", "@import is not accepted in an inline @context")
            if k == "@context":
                # A scoped context may name a bundled context; never one that would be fetched.
                for c in _objects(v):
                    if isinstance(c, str) and c not in bundled_contexts():
                        return ("unknown_context", f"@context {c} is not one this service knows")
            if isinstance(v, dict):
                stack.append(v)
            elif isinstance(v, list):
                stack.extend(x for x in v if isinstance(x, dict))
    redefined = sorted(set(ctx) & _VC_TERMS)
    if redefined:
        return ("protected_term", f"an inline @context may not redefine {', '.join(redefined)}")
    return None


# ---------------------------------------------------------------------- I-JSON (RFC 7493)

SAFE_INTEGER = 2**53 - 1


def ijson_problem(doc: Any) -> Problem | None:
    """Why `doc` is not I-JSON: a lone surrogate, a number beyond IEEE 754 doubles' exact range, a non-finite
    number. Every conforming verifier canonicalizes an I-JSON document the same way; others differ."""
    stack = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for k, v in value.items():
                if _has_surrogate(k):
                    return ("not_ijson", "a key contains a lone surrogate (not Unicode text; RFC 7493)")
                stack.append(v)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if _has_surrogate(value):
                return ("not_ijson", "a string contains a lone surrogate (not Unicode text; RFC 7493)")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) > SAFE_INTEGER:
                return ("not_ijson", f"the integer {value} is outside ±(2^53-1), beyond what I-JSON carries "
                        "exactly (RFC 7493); send it as a string")
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                return ("not_ijson", "NaN and Infinity are not JSON numbers (RFC 7493)")
    return None


def _has_surrogate(s: str) -> bool:
    # In C, not per character in Python: ASCII has none, and UTF-8 refuses exactly the surrogates.
    if s.isascii():
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
