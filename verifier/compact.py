"""Verify a QR code's compact signed form (format TC1): a policy in, a structured result out.

The same checks, by the same names and helpers, as `verify_credential`: shape (the QR text decodes to
a well-formed TC1 form), proof (the COSE_Sign1 Ed25519 signature over the facts), key (known, and in a
state that lets it count when the form was signed), issuer (the key's controller, and trusted),
validity and status. The result's `credential` is the minimal credential rebuilt from the signed facts:
what a person compares with the paper in front of them (a valid QR code glued onto another person's
printout verifies; only the name and facts it shows tell them apart).

Nothing here goes to the network except through the policy's resolver and status source; a damaged or
altered QR text is a failed `shape` or `proof` check (verdict "tampered"), never an exception. Only text
that is not a TitleCred QR code at all is unusable input.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from keys.did import ResolvedMethod
from proofs import compact
from proofs.dataintegrity import ProofCheck, parse_datetime
from verifier.policy import Policy
from verifier.result import Check, VerificationResult, unusable
from verifier.verify import (
    _check_shape,
    _issuer_check,
    _key_check,
    _proof_check,
    _validity_check,
    list_problem,
)
from verifier.verify import _status_checks as _verify_status

COMPARE_WARNING = ("the QR code proves the facts shown here, not the paper it is printed on: compare the "
                   "name, ID number and facts with the printout")
# Codes of QR text that is not ours at all (unusable input), as opposed to ours but damaged (tampered).
_UNUSABLE = ("not_titlecred_qr", "input_too_large")


def decode_qr(qr_text: str) -> tuple[compact.CompactSign1, dict[str, Any]]:
    """The parsed compact form and the minimal credential it stands for (signature not checked)."""
    parsed = compact.decode_cose(compact.read_qr_text(qr_text))
    return parsed, compact.credential_from_claims(parsed.claims, parsed.kid)


_cache_lock = threading.Lock()
# Successful resolutions, per resolver: a resolver's answer for a method it has resolved never changes
# (it only ever learns about DIDs it did not know), and resolving builds key records (~35 µs a scan).
# did:key methods are not kept (anyone can mint them); at most 256 methods per resolver.
_resolved_cache: weakref.WeakKeyDictionary[Any, dict[str, ResolvedMethod]] = weakref.WeakKeyDictionary()
_MAX_RESOLVED = 256


def _resolve(policy: Policy, kid: str) -> ResolvedMethod:
    try:
        known = _resolved_cache.get(policy.resolver)
    except TypeError:  # a resolver that cannot be weakly referenced: no cache
        return policy.resolver.resolve_verification_method(kid)
    if known is not None and kid in known:
        return known[kid]
    method = policy.resolver.resolve_verification_method(kid)
    if not kid.startswith("did:key:"):
        with _cache_lock:
            entries = _resolved_cache.setdefault(policy.resolver, {})
            if len(entries) < _MAX_RESOLVED:
                entries[kid] = method
    return method


def verify_compact(qr_text: str, policy: Policy) -> VerificationResult:
    """Verify the text of a certificate's QR code (the whole link, or the TC1: payload alone)."""
    now = policy.now or datetime.now(UTC)
    try:
        parsed, doc = decode_qr(qr_text)
    except compact.CompactError as e:
        if e.code in _UNUSABLE:
            return unusable(e.code, e.message)
        result = VerificationResult()
        result.checks.append(Check("shape", "failed", f"the QR code cannot be read (damaged, incomplete or "
                                   f"altered): {e.message}", e.code))
        return result

    result = VerificationResult(credential=doc)
    result.checks.append(_check_shape(doc))
    resolved: dict[str, ResolvedMethod] = {}
    created = compact.signed_at(parsed.claims) or parse_datetime(doc.get("validFrom"))
    proof = ProofCheck(False, "", "invalid_signature", parsed.kid, created, "cose-sign1-eddsa")
    try:
        method = _resolve(policy, parsed.kid)
    except Exception as e:  # the keys layer's typed errors: keep their code and message
        proof.code = getattr(e, "code", "unresolvable_key")
        proof.reason = getattr(e, "message", str(e))
    else:
        resolved[parsed.kid] = method
        if parsed.verify(method.public_key.verify):
            proof.ok, proof.code = True, ""
            proof.reason = f"the QR code's EdDSA signature (COSE_Sign1) by {parsed.kid} is valid"
        else:
            proof.reason = (f"the QR code's signature by {parsed.kid} does not match its content: the QR text "
                            "was changed after signing, or signed by another key")
    proofs = [proof]
    result.checks.append(_proof_check(proofs))
    result.checks.append(_key_check(doc, proofs, resolved, policy, now))
    result.checks.append(_issuer_check(doc, proofs, resolved, policy))
    result.checks.append(_validity_check(doc, now))
    _status_checks(doc, policy, now, result)
    if result.verified:
        result.warnings.append(COMPARE_WARNING)
    return result


# --- status, with the status lists' own verification cached ------------------------------------------
# The same logic as verifier.verify's status check, except that a status list credential (one JSON-LD
# verification, ~ms) is verified once per policy and content for a minute rather than once per scan:
# a scanning desk checks thousands of QR codes against the same few lists.

_LIST_TTL_SECONDS = 60.0
_LIST_CACHE_SIZE = 256
# key → (the policy and the list object, kept alive so that their ids are not reused; expiry; problem)
_list_cache: OrderedDict[tuple[Any, ...], tuple[Policy, dict[str, Any], float, str | None]] = OrderedDict()


def _list_key(lst: dict[str, Any], policy: Policy) -> tuple[Any, ...]:
    # The same list object with the same signed content: its identity plus what a change of content
    # would change (the signature, the bits, the dates). A str caches its hash, so this is O(1) per scan.
    subject = lst.get("credentialSubject")
    encoded = subject.get("encodedList") if isinstance(subject, dict) else None
    proof = lst.get("proof")
    value = proof.get("proofValue") if isinstance(proof, dict) else repr(proof)
    return (id(policy), id(lst), hash(encoded) if isinstance(encoded, str) else None, value,
            repr(lst.get("validUntil")), repr(lst.get("issuer")))


def _verify_list_cached(lst: dict[str, Any], policy: Policy) -> str | None:
    key = _list_key(lst, policy)
    clock = time.monotonic()
    with _cache_lock:
        hit = _list_cache.get(key)
        if hit is not None and hit[0] is policy and hit[1] is lst and hit[2] > clock:
            _list_cache.move_to_end(key)
            return hit[3]
    problem = list_problem(lst, policy)
    with _cache_lock:
        _list_cache[key] = (policy, lst, clock + _LIST_TTL_SECONDS, problem)
        while len(_list_cache) > _LIST_CACHE_SIZE:
            _list_cache.popitem(last=False)
    return problem


def _status_checks(doc: dict[str, Any], policy: Policy, now: datetime, result: VerificationResult) -> None:
    # The shared status check, with status lists verified once per TTL rather than once per scan.
    _verify_status(doc, policy, now, result, lambda lst: _verify_list_cached(lst, policy))
