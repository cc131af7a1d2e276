"""`verify_credential(document, policy) -> VerificationResult`: every check, each with its reason.

Checks, in order: shape, contexts, schema, proof (signature), key (known, and its state when the proof
was created), issuer (the key's controller, and trusted), validity (validFrom/validUntil), status.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from keys.did import ResolvedMethod
from keys.state import judge_signature_time
from proofs.bounds import check_document
from proofs.dataintegrity import ProofCheck, parse_datetime, verify_proofs
from proofs.errors import CanonicalizationTooComplex, ProofLayerError
from schemas import CREDENTIALS_V2_URL
from schemas.elicense import INVALID_ELICENSE_ID, credential_identifier_problem
from schemas.errors import SchemaLayerError
from schemas.validate import knows_schema, schema_errors
from schemas.vcdm import inline_context_problem
from verifier import status as status_mod
from verifier.policy import Policy
from verifier.result import Check, VerificationResult, unusable

DI_V2_URL = "https://w3id.org/security/data-integrity/v2"
CREDENTIALS_V1_URL = "https://www.w3.org/2018/credentials/v1"


def issuer_id(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _check_shape(doc: dict[str, Any]) -> Check:
    ctx = doc.get("@context")
    if ctx is None:
        return Check("shape", "failed", "the credential has no @context", "missing_context")
    first = ctx[0] if isinstance(ctx, list) and ctx else ctx
    if first not in (CREDENTIALS_V2_URL, CREDENTIALS_V1_URL):
        return Check("shape", "failed", "the first @context must be the VC Data Model context",
                     "missing_context")
    types = doc.get("type")
    types = types if isinstance(types, list) else [types]
    if "VerifiableCredential" not in types:
        return Check("shape", "failed", "type must include VerifiableCredential", "invalid_shape")
    if issuer_id(doc) is None:
        return Check("shape", "failed", "the credential has no issuer id", "invalid_shape")
    if not isinstance(doc.get("credentialSubject"), dict | list) or not doc.get("credentialSubject"):
        return Check("shape", "failed", "the credential has no credentialSubject", "invalid_shape")
    for key in ("validFrom", "validUntil"):
        if key in doc and parse_datetime(doc[key]) is None:
            return Check("shape", "failed", f"{key} is not a valid date-time", "invalid_shape")
    return Check("shape", "passed", "a VC Data Model credential with issuer and subject")


def _check_contexts(doc: dict[str, Any], policy: Policy) -> Check:
    ctx = doc.get("@context")
    if ctx is None:
        return Check("contexts", "failed", "the credential has no @context", "missing_context")
    entries = ctx if isinstance(ctx, list) else [ctx]
    allowed = policy.contexts()
    for entry in entries:
        if isinstance(entry, dict):
            problem = inline_context_problem(entry)
            if problem:
                return Check("contexts", "failed", f"inline @context refused: {problem[1]}", problem[0])
            continue
        if not isinstance(entry, str):
            return Check("contexts", "failed", "an @context entry must be a URL or an object", "invalid_context")
        if entry not in allowed:
            return Check("contexts", "failed",
                         f"@context {entry} is not one of the contexts this verifier knows (it never "
                         "fetches contexts from the network)", "unknown_context")
    return Check("contexts", "passed", "every @context is a known, bundled context or a bounded inline one")


def _check_schema(doc: dict[str, Any]) -> Check:
    schemas = doc.get("credentialSchema")
    if schemas is None:
        raw_types = doc.get("type")
        types = raw_types if isinstance(raw_types, list) else [raw_types]
        if "ProfessionalTitleCredential" in types:
            return Check("schema", "failed", "a title credential must name its credentialSchema",
                         "schema_violation")
        return Check("schema", "skipped", "the credential names no schema", required=False)
    for schema in schemas if isinstance(schemas, list) else [schemas]:
        sid = schema.get("id") if isinstance(schema, dict) else None
        if not isinstance(sid, str) or not knows_schema(sid):
            return Check("schema", "indeterminate", f"schema {sid!r} is not available offline",
                         "unknown_schema", required=False)
        problems = schema_errors(doc, sid)
        if problems:
            return Check("schema", "failed", "does not match its schema: " + "; ".join(problems),
                         "schema_violation")
    license_problem = credential_identifier_problem(doc)
    if license_problem:
        return Check("schema", "failed", license_problem, INVALID_ELICENSE_ID)
    return Check("schema", "passed", "matches its JSON Schema")


def verify_credential(document: Any, policy: Policy) -> VerificationResult:
    now = policy.now or datetime.now(UTC)
    if not isinstance(document, dict):
        return unusable("malformed_credential", "a credential must be a JSON object")
    try:
        check_document(document, policy.limits)
    except ProofLayerError as e:
        return unusable(e.code, e.message)

    result = VerificationResult(credential=document)
    shape = _check_shape(document)
    contexts = _check_contexts(document, policy)
    result.checks += [shape, contexts]
    if not contexts.ok:
        result.errors.append({"code": contexts.code, "message": contexts.reason})
        return result
    result.checks.append(_check_schema(document))

    resolved: dict[str, ResolvedMethod] = {}

    def resolve_key(vm: str) -> Callable[[bytes, bytes], bool]:
        method = policy.resolver.resolve_verification_method(vm)
        resolved[vm] = method
        return method.public_key.verify

    try:
        proofs = verify_proofs(document, resolve_key, policy.loader, policy.purpose, now)
    except CanonicalizationTooComplex as e:
        # Beyond the work we do for a stranger: we could not check it, which is not evidence of forgery.
        result.checks.append(Check("proof", "indeterminate", f"the proof cannot be checked: {e.message}", e.code))
        return result
    except (ProofLayerError, SchemaLayerError) as e:
        # The document cannot be canonicalized (undefined term, unknown context...): unsigned data.
        result.checks.append(Check("proof", "failed", f"the proof cannot be checked: {e.message}", e.code))
        return result
    result.checks.append(_proof_check(proofs))
    result.checks.append(_key_check(document, proofs, resolved, policy, now))
    result.checks.append(_issuer_check(document, proofs, resolved, policy))
    result.checks.append(_validity_check(document, now))
    _status_checks(document, policy, now, result)
    return result


def _proof_check(proofs: list[ProofCheck]) -> Check:
    bad = [p for p in proofs if not p.ok]
    if bad:
        first = bad[0]
        return Check("proof", "failed", f"proof invalid: {first.reason}", first.code or "invalid_signature")
    return Check("proof", "passed", "; ".join(p.reason for p in proofs))


def _key_check(doc: dict[str, Any], proofs: list[ProofCheck], resolved: dict[str, ResolvedMethod],
               policy: Policy, now: datetime) -> Check:
    reasons = []
    for p in proofs:
        vm = p.verification_method
        if vm is None or vm not in resolved:
            reason = p.reason if p.code in ("unknown_key", "unresolvable_did") else \
                "the signing key could not be resolved"
            return Check("key", "failed", reason, p.code or "unknown_key")
        method = resolved[vm]
        created = p.created or now
        judgement = judge_signature_time(method.record, created)
        if not judgement.ok:
            if judgement.needs_evidence and policy.evidence is not None:
                evidence = policy.evidence(doc)
                compromised = method.record.compromised_at
                if evidence is not None and compromised is not None and evidence.issued_before < compromised:
                    reasons.append(f"key {vm} was later revoked, but {evidence.description} shows this "
                                   "credential existed before the compromise")
                    continue
            return Check("key", "failed", judgement.reason, "key_revoked")
        if "assertionMethod" not in method.relationships and policy.purpose.term == "assertionMethod":
            return Check("key", "failed", f"key {vm} is not an assertion method of its controller",
                         "key_not_authorized")
        reasons.append(f"key {vm} is {method.record.state.value} and was valid when the proof was created")
    return Check("key", "passed", "; ".join(reasons))


def _issuer_check(doc: dict[str, Any], proofs: list[ProofCheck], resolved: dict[str, ResolvedMethod],
                  policy: Policy) -> Check:
    issuer = issuer_id(doc)
    if issuer is None:
        return Check("issuer", "failed", "the credential names no issuer", "invalid_shape")
    controllers = []
    for p in proofs:
        method = resolved.get(p.verification_method or "")
        if method is None:
            return Check("issuer", "failed", "the signing key is unknown", "unknown_key")
        controllers.append(method.controller)
    # A proof set or chain may carry others' proofs too (a witness, a notary: each checked above);
    # at least one must be the issuer's own.
    if issuer not in controllers:
        return Check("issuer", "failed",
                     f"the credential says issuer {issuer}, but the key belongs to {', '.join(controllers)}",
                     "issuer_mismatch")
    if not policy.trusts_issuer(issuer):
        return Check("issuer", "failed",
                     f"issuer {issuer} is not among the trusted issuers (give its DID document or JWKS)",
                     "untrusted_issuer")
    if not policy.resolver.has_document_for(issuer) and issuer in policy.resolver.fetched_dids \
            and issuer not in policy.trusted_issuers and not policy.unsafe_any_issuer:
        return Check("issuer", "passed", f"signed by its issuer {issuer}, whose keys were fetched over HTTPS "
                                         f"from its domain (did:web)")
    return Check("issuer", "passed", f"signed by its issuer {issuer}, a trusted issuer")


def _validity_check(doc: dict[str, Any], now: datetime) -> Check:
    valid_from = parse_datetime(doc.get("validFrom"))
    valid_until = parse_datetime(doc.get("validUntil"))
    if valid_from is not None and valid_from > now:
        return Check("validity", "failed", f"not valid before {doc['validFrom']}", "not_yet_valid")
    if valid_until is not None and valid_until < now:
        return Check("validity", "failed", f"expired at {doc['validUntil']}", "expired")
    return Check("validity", "passed", "within its validity period")


def _status_checks(doc: dict[str, Any], policy: Policy, now: datetime, result: VerificationResult,
                   verify_list: status_mod.ListVerifier | None = None) -> None:
    """Append the status check; `verify_list` lets a caller supply a cached list verifier (QR scans)."""
    entries = status_mod.entries_of(doc)
    if not entries:
        result.checks.append(Check("status", "skipped", "the credential has no status entry", required=False))
        return
    if policy.unsafe_skip_status:
        result.checks.append(Check("status", "skipped", "status NOT checked (unsafe_skip_status)",
                                   "status_skipped", required=False))
        result.warnings.append("status was not checked: the certificate may be revoked")
        return
    issuer = issuer_id(doc)
    memo = policy.list_verifier
    verify_list = verify_list or ((lambda lst: memo(lst, policy)) if memo else (lambda lst: list_problem(lst, policy)))
    outcomes = [status_mod.check_entry(e, issuer, policy.status, verify_list, now, policy.status_max_age)
                for e in entries]
    failed = [o for o in outcomes if o.outcome == "failed"]
    unknown = [o for o in outcomes if o.outcome == "indeterminate"]
    as_of = min((o.as_of for o in outcomes if o.as_of), default=None)
    result.status_as_of = as_of
    if failed:
        o = failed[0]
        result.status = o.status if o.status in ("revoked", "suspended") else "unknown"
        result.checks.append(Check("status", "failed", o.reason, o.code or "status_failed"))
    elif unknown:
        result.status = "unknown"
        result.checks.append(Check("status", "indeterminate", unknown[0].reason, unknown[0].code))
    else:
        result.status = "valid"
        result.checks.append(Check("status", "passed", "; ".join(o.reason for o in outcomes)))


def list_problem(lst: dict[str, Any], policy: Policy) -> str | None:
    """Why a status list credential does not verify under `policy`, or None if it does."""
    sub = verify_credential(lst, _list_policy(policy))
    if sub.verified:
        return None
    bad = next((c for c in sub.checks if not c.ok and c.required), None)
    return bad.reason if bad else (sub.errors[0]["message"] if sub.errors else "invalid")


def _list_policy(policy: Policy) -> Policy:
    from dataclasses import replace

    # The list itself carries no status; it is checked with the same trust otherwise (as of the
    # snapshot's date when the lists come from a dated bundle).
    return replace(policy, unsafe_skip_status=True, now=policy.status_snapshot_at or policy.now)
