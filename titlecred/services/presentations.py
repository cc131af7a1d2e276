"""Presentations (OpenID4VP 1.0): a registration body asks a holder's wallet for a title credential.

1. `create_request`: a signed-in organization account states the fields it needs (and why); a request
   is stored with a fresh `nonce` and `state` (10 minutes) and shown as an `openid4vp://` link / QR.
2. `respond`: the wallet POSTs `vp_token` and `state` to the response endpoint (`direct_post`), once.
   The presentation is verified and the outcome stored for the asker to read (`get_request`).
3. `verify_presentation`: the checks, for a presentation from a request or from
   `POST /presentations/verify`:
   - SD-JWT VC: the issuer's signature, key state, trusted issuer (this bureau), validity, the key-binding
     JWT over our nonce with `aud` = our client_id and `sd_hash` over what was shown, the Token Status List;
   - W3C VP (`ldp_vc`): the holder's Data Integrity proof with `challenge` = our nonce and `domain` = our
     client_id, by the key the credential is bound to (`credentialSubject.id`), then the credential's
     own checks (signature, key state, status);
   - then every requested field must have been disclosed.
A replay under another nonce, a presentation by someone else's key and an undisclosed field each fail
with their own check and reason.

It must never accept a response twice, nor report a field the holder did not disclose.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from proofs.bounds import parse_json
from proofs.errors import ProofLayerError
from titlecred.db.models_wallet import VpRequest
from titlecred.oid4vci.errors import OAuthError, invalid_request
from titlecred.oid4vp import dcql
from titlecred.oid4vp import request as vp_request
from titlecred.services import verification
from titlecred.services.context import Registry
from titlecred.services.errors import Forbidden, Invalid, NotFound
from titlecred.services.principal import Principal
from titlecred.services.token_status import DatabaseTokenStatusSource
from titlecred.services.tx import atomic, locked
from verifier.result import Check, VerificationResult
from verifier.sdjwt import verify_sd_jwt

REQUEST_TTL = timedelta(minutes=10)
# A presentation (a VP with one credential, or an SD-JWT string) inside the DCQL answer object.
VP_TOKEN_LIMITS = replace(verification.REQUEST_LIMITS, max_string=64 * 1024)
MAX_PURPOSE = 200


def create_request(session: Session, registry: Registry, actor: Principal, *, fields: Any, fmt: Any = "dc+sd-jwt",
                   purpose: Any = None) -> VpRequest:
    if actor.is_holder:
        raise Forbidden("presentation requests are made by organizations, not holders")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise Invalid("invalid_fields", "fields must be a list of field names", 422, "fields")
    if purpose is not None and (not isinstance(purpose, str) or len(purpose) > MAX_PURPOSE
                                or not purpose.isprintable()):
        raise Invalid("invalid_purpose", f"purpose is printable text of at most {MAX_PURPOSE} characters", 422,
                      "purpose")
    try:
        query = dcql.build_query(fields, str(fmt))
    except dcql.DcqlError as e:
        raise Invalid(e.code, e.message, 422, "fields" if e.code == "invalid_fields" else "format") from None
    now = registry.now()
    row = VpRequest(state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24),
                    client_id=vp_request.client_id(registry.base_url), account_id=actor.account_id,
                    purpose=purpose.strip() if isinstance(purpose, str) and purpose.strip() else None,
                    dcql_json=json.dumps(query, ensure_ascii=False), created_at=now, expires_at=now + REQUEST_TTL)
    with atomic(session):
        session.add(row)
    session.refresh(row)
    return row


def authorization_request(registry: Registry, row: VpRequest) -> dict[str, Any]:
    return vp_request.authorization_request(registry.base_url, nonce=row.nonce, state=row.state,
                                            dcql_query=json.loads(row.dcql_json))


def get_request(session: Session, actor: Principal, state: str) -> VpRequest:
    row = session.exec(select(VpRequest).where(VpRequest.state == state)).first()
    if row is None:
        raise NotFound("presentation request")
    if row.account_id != actor.account_id and not actor.is_bureau_staff:
        raise Forbidden("this presentation request is another account's")
    return row


def request_state(registry: Registry, row: VpRequest) -> str:
    if row.responded_at is not None:
        return "answered"
    return "expired" if row.expires_at <= registry.now() else "pending"


def _vp_token(form: dict[str, str]) -> Any:
    text = form.get("vp_token")
    if not text:
        raise invalid_request("vp_token is missing")
    try:
        token = parse_json(text, VP_TOKEN_LIMITS)
    except ProofLayerError:
        raise invalid_request("vp_token must be a bounded JSON object (DCQL: {credential query id: "
                              "[presentations]})") from None
    if not isinstance(token, dict) or dcql.QUERY_ID not in token:
        raise invalid_request(f"vp_token must answer the credential query {dcql.QUERY_ID!r}")
    presentations = token[dcql.QUERY_ID]
    if not isinstance(presentations, list) or len(presentations) != 1:
        raise invalid_request("exactly one presentation is expected for the query")
    return presentations[0]


def _check_open(registry: Registry, row: VpRequest | None) -> None:
    if row is None:
        raise invalid_request("no such request")
    if row.responded_at is not None:
        raise invalid_request("this request was already answered")
    if row.expires_at <= registry.now():
        raise invalid_request("this request has expired")


def respond(session: Session, registry: Registry, form: dict[str, str]) -> dict[str, Any]:
    """The response endpoint (direct_post). Returns the JSON to answer the wallet with."""
    state = form.get("state")
    if not state:
        raise invalid_request("state is missing")
    row = session.exec(select(VpRequest).where(VpRequest.state == state)).first()
    _check_open(registry, row)
    assert row is not None
    # Verify first (it reads status lists, which may commit a re-signed list), then record once.
    if "error" in form:
        outcome: dict[str, Any] = {"verified": False, "verdict": "declined", "checks": [],
                                   "error": form.get("error"), "errorDescription": form.get("error_description")}
    else:
        outcome = verify_presentation(session, registry, _vp_token(form), nonce=row.nonce, audience=row.client_id,
                                      query=json.loads(row.dcql_json))
    with atomic(session):
        row = locked(session, select(VpRequest).where(VpRequest.state == state))
        _check_open(registry, row)
        assert row is not None
        row.responded_at, row.result_json = registry.now(), json.dumps(outcome, ensure_ascii=False)
        session.add(row)
    return {}


def _policy(session: Session, registry: Registry) -> Any:
    # Presentations are for this bureau's certificates: no other issuer is trusted here.
    return replace(verification.policy(session, registry), unsafe_any_issuer=False)


def _disclosure_check(query: dict[str, Any] | None, disclosed: dict[str, Any]) -> Check | None:
    if query is None:
        return None
    missing = dcql.missing_claims(query, disclosed)
    if missing:
        return Check("disclosure", "failed", "requested fields not disclosed: " + ", ".join(missing), "not_disclosed")
    return Check("disclosure", "passed", "every requested field was disclosed")


def _requested(query: dict[str, Any] | None, disclosed: dict[str, Any]) -> dict[str, Any]:
    if query is None:
        return {}
    out: dict[str, Any] = {}
    for path in dcql.requested_paths(query):
        node: Any = disclosed
        for step in path:
            node = node.get(step) if isinstance(node, dict) else None
        if node is not None:
            out[path[-1]] = node
    return out


def _outcome(result: VerificationResult, fmt: str, claims: dict[str, Any], holder: Any) -> dict[str, Any]:
    body = result.to_json()
    verdict = body["verdict"]
    failed = {c.name for c in result.checks if not c.ok and c.required}
    if not result.verified and failed and failed <= {"key_binding", "holder_proof", "disclosure"}:
        verdict = "not_disclosed" if failed == {"disclosure"} else "wrong_holder"
    out = {"verified": result.verified, "verdict": verdict, "format": fmt, "checks": body["checks"],
           "errors": body["errors"], "claims": claims if result.verified else {}}
    if "status" in body:
        out["status"] = body["status"]
    if holder is not None:
        out["holder"] = holder
    return out


def verify_presentation(session: Session, registry: Registry, presentation: Any, *, nonce: str | None,
                        audience: str | None, query: dict[str, Any] | None = None) -> dict[str, Any]:
    if isinstance(presentation, str):
        return verify_sd_jwt_presentation(session, registry, presentation, nonce=nonce, audience=audience, query=query)
    return verify_ldp_presentation(session, registry, presentation, nonce=nonce, audience=audience, query=query)


def verify_sd_jwt_presentation(session: Session, registry: Registry, text: str, *, nonce: str | None,
                               audience: str | None, query: dict[str, Any] | None = None) -> dict[str, Any]:
    result = verify_sd_jwt(text, _policy(session, registry), nonce=nonce, audience=audience,
                           require_key_binding=nonce is not None or audience is not None,
                           status_source=DatabaseTokenStatusSource(session, registry))
    claims = dict(result.credential or {})
    check = _disclosure_check(query, claims) if not result.errors else None
    if check is not None:
        result.checks.append(check)
    shown = _requested(query, claims) if query is not None else \
        {k: v for k, v in claims.items() if k not in ("cnf", "status", "_sd_alg")}
    cnf = claims.get("cnf")
    return _outcome(result, "dc+sd-jwt", shown, cnf.get("jwk") if isinstance(cnf, dict) else None)


def verify_ldp_presentation(session: Session, registry: Registry, vp: Any, *, nonce: str | None,
                            audience: str | None, query: dict[str, Any] | None = None) -> dict[str, Any]:
    pres = verification.verify_vp(session, registry, vp, {"challenge": nonce, "domain": audience})
    result = VerificationResult()
    if pres.credentials:
        result = pres.credentials[0]
        if len(pres.credentials) != 1:
            result.checks.append(Check("shape", "failed", "exactly one credential is expected", "invalid_shape"))
    else:
        problem = pres.problems[0] if pres.problems else {"code": "invalid_shape", "detail": "no credential"}
        result.errors.append({"code": problem["code"], "message": problem["detail"]})
        return _outcome(result, "ldp_vc", {}, None)
    vc = result.credential or {}
    subject = vc.get("credentialSubject") if isinstance(vc, dict) else None
    bound = subject.get("id") if isinstance(subject, dict) else None
    proof_ok = bool(pres.proof) and all(p.ok for p in pres.proof)
    signers = {str(p.verification_method or "").split("#")[0] for p in pres.proof}
    if not proof_ok:
        reason = next((p.reason for p in pres.proof if not p.ok), "the presentation is not signed by the holder")
        code = next((p.code for p in pres.proof if not p.ok), "missing_proof") or "invalid_proof"
        if "challenge" in reason:
            code = "nonce_mismatch"
        elif "domain" in reason:
            code = "audience_mismatch"
        result.checks.append(Check("holder_proof", "failed", reason, code))
    elif bound is None or signers != {bound}:
        result.checks.append(Check("holder_proof", "failed", "the presentation is signed by a key the credential is "
                                   "not bound to (someone else's key)", "wrong_holder_key"))
    else:
        result.checks.append(Check("holder_proof", "passed", "the holder the credential is bound to signed this "
                                   "presentation over our nonce and client_id"))
    issuer = vc.get("issuer") if isinstance(vc, dict) else None
    if (issuer.get("id") if isinstance(issuer, dict) else issuer) != registry.profile.did:
        result.checks.append(Check("issuer", "failed", "not a credential of this bureau", "untrusted_issuer"))
    disclosed = vc if isinstance(vc, dict) else {}
    check = _disclosure_check(query, disclosed)
    if check is not None:
        result.checks.append(check)
    shown = _requested(query, disclosed) if query is not None else dict(subject or {})
    return _outcome(result, "ldp_vc", shown, bound)


def respond_error(e: OAuthError) -> dict[str, str]:
    return e.body()
