"""Server-side verification for the VC API: credentials and presentations, with this registry's trust.

The policy trusts this bureau (its DID document, built from the keystore with every key's state),
reads status from the registry's own lists (`DatabaseStatusSource`), and accepts a credential of a
later-compromised key when the audit log proves it was issued before the compromise
(`audit.evidence_lookup`). By default it also trusts any issuer whose key resolves offline (did:key),
as the W3C interop suites need (`TITLECRED_VERIFY_ANY_ISSUER=0` turns that off); the result still
says which issuer signed.

Every input here is a stranger's: it is bounded (`proofs.bounds`) before any JSON-LD work, and a
failure is a result with problem details, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from keys.did import DidResolver
from proofs.bounds import Limits, check_document
from proofs.dataintegrity import ProofCheck, verify_proofs
from proofs.errors import ProofLayerError
from proofs.purposes import authentication
from schemas.errors import SchemaLayerError
from schemas.loader import default_loader
from titlecred.services.audit import evidence_lookup
from titlecred.services.context import Registry
from titlecred.services.status import DatabaseStatusSource
from verifier.policy import Policy
from verifier.result import VerificationResult
from verifier.status import StatusSource
from verifier.verify import verify_credential

VC_DM = "https://www.w3.org/TR/vc-data-model#"
SECURITY = "https://w3id.org/security#"
STATUS = "https://www.w3.org/ns/credentials/status-list#"
# A presentation carries credentials: a larger envelope than one credential, still bounded.
PRESENTATION_LIMITS = Limits(max_bytes=512 * 1024, max_depth=24, max_nodes=20_000, max_string=8 * 1024,
                             max_blank_nodes=128)
MAX_CREDENTIALS = 20
# A VC API request: the envelope ({verifiableCredential | verifiablePresentation, options}) one level up.
REQUEST_LIMITS = Limits(max_bytes=1024 * 1024, max_depth=26, max_nodes=20_000, max_string=8 * 1024,
                        max_blank_nodes=128)


def policy(session: Session, registry: Registry, checks: Any = None, status: StatusSource | None = None) -> Policy:
    resolver = DidResolver([registry.did_document()], online=False)
    skip_status = isinstance(checks, list) and "credentialStatus" not in checks and "status" not in checks
    ours = frozenset({registry.profile.did, *(r.profile.did for r in registry.instances.values())})
    memo = getattr(status, "check_list", None)
    return Policy(resolver=resolver, trusted_issuers=ours, list_verifier=memo,
                  unsafe_any_issuer=registry.config.verify_any_issuer,
                  status=status or DatabaseStatusSource(session, registry), unsafe_skip_status=skip_status,
                  evidence=evidence_lookup(session), now=registry.now())


def _problem_type(name: str, code: str) -> str:
    if name == "status":
        return STATUS + ("STATUS_VERIFICATION_ERROR" if code in ("revoked", "suspended") else "STATUS_RETRIEVAL_ERROR")
    if name in ("proof", "key", "issuer"):
        if code in ("malformed_proof", "unsupported_proof_type", "unknown_cryptosuite"):
            return SECURITY + "MALFORMED_PROOF_ERROR"
        return SECURITY + "PROOF_VERIFICATION_ERROR"
    return VC_DM + "PARSING_ERROR" if name in ("shape", "contexts", "document") else VC_DM + "VALIDATION_ERROR"


def problem_details(result: VerificationResult) -> list[dict[str, str]]:
    out = [{"type": _problem_type("document", e["code"]), "code": e["code"], "title": "unreadable credential",
            "detail": e["message"]} for e in result.errors]
    for c in result.checks:
        if not c.ok and c.required:
            out.append({"type": _problem_type(c.name, c.code), "code": c.code or c.name,
                        "title": f"{c.name} check {c.outcome}", "detail": c.reason})
    return out


def results_json(result: VerificationResult) -> dict[str, Any]:
    checks = result.to_json()
    out: dict[str, Any] = {"verdict": checks["verdict"], "checks": checks["checks"]}
    if "status" in checks:
        out["credentialStatus"] = checks["status"]
    if checks["warnings"]:
        out["warnings"] = checks["warnings"]
    return out


def verify_vc(session: Session, registry: Registry, credential: Any, options: Any = None,
              status: StatusSource | None = None) -> VerificationResult:
    opts = options if isinstance(options, dict) else {}
    return verify_credential(credential, policy(session, registry, opts.get("checks"), status))


@dataclass
class PresentationResult:
    verified: bool
    proof: list[ProofCheck] = field(default_factory=list)
    credentials: list[VerificationResult] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)


def verify_vp(session: Session, registry: Registry, presentation: Any, options: Any = None,
              status: StatusSource | None = None) -> PresentationResult:
    opts = options if isinstance(options, dict) else {}
    out = PresentationResult(False)

    def fail(code: str, detail: str, kind: str = VC_DM + "PARSING_ERROR") -> PresentationResult:
        out.problems.append({"type": kind, "code": code, "title": "presentation not verified", "detail": detail})
        return out

    if not isinstance(presentation, dict):
        return fail("malformed_presentation", "the presentation must be a JSON object")
    try:
        check_document(presentation, PRESENTATION_LIMITS)
    except ProofLayerError as e:
        return fail(e.code, e.message)
    types = presentation.get("type")
    if "VerifiablePresentation" not in (types if isinstance(types, list) else [types]):
        return fail("invalid_shape", "type must include VerifiablePresentation")
    ctx = presentation.get("@context")
    first = ctx[0] if isinstance(ctx, list) and ctx else ctx
    if first not in ("https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1"):
        return fail("missing_context", "the first @context must be the VC Data Model context")
    vcs = presentation.get("verifiableCredential", [])
    vcs = vcs if isinstance(vcs, list) else [vcs]
    if len(vcs) > MAX_CREDENTIALS:
        return fail("input_too_large", f"at most {MAX_CREDENTIALS} credentials per presentation")
    challenge, domain = opts.get("challenge"), opts.get("domain")
    pol = policy(session, registry, opts.get("checks"), status)
    if "proof" in presentation:
        out.proof = _presentation_proof(presentation, pol, challenge, domain)
        for p in out.proof:
            if not p.ok:
                fail(p.code or "invalid_proof", p.reason, SECURITY + "PROOF_VERIFICATION_ERROR")
    elif challenge is not None or domain is not None:
        fail("missing_proof", "a challenge or domain was given, but the presentation is not signed",
             SECURITY + "PROOF_VERIFICATION_ERROR")
    for vc in vcs:
        if isinstance(vc, dict) and vc.get("type") == "EnvelopedVerifiableCredential":
            fail("unsupported_credential", "enveloped credentials are not supported")
            continue
        result = verify_credential(vc, pol)
        out.credentials.append(result)
        out.problems.extend(problem_details(result))
    out.verified = not out.problems
    return out


def _presentation_proof(vp: dict[str, Any], pol: Policy, challenge: Any, domain: Any) -> list[ProofCheck]:
    holder = vp.get("holder")
    holder_id = holder.get("id") if isinstance(holder, dict) else holder

    def resolve(vm: str) -> Any:
        method = pol.resolver.resolve_verification_method(vm)
        if "authentication" not in method.relationships:
            raise ProofLayerError(f"key {vm} is not an authentication method of {method.controller}")
        if holder_id is not None and method.controller != holder_id:
            raise ProofLayerError(f"the presentation's holder is {holder_id}, but the key belongs to "
                                  f"{method.controller}")
        return method.public_key.verify

    purpose = authentication(challenge if isinstance(challenge, str) else None,
                             domain if isinstance(domain, str) else None)
    try:
        return verify_proofs(vp, resolve, default_loader(), purpose, pol.now)
    except (ProofLayerError, SchemaLayerError) as e:
        return [ProofCheck(False, f"the presentation's proof cannot be checked: {e.message}", e.code)]
