"""The W3C VC API endpoints, as the interop suites call them (shared/w3c/vc-api.md).

- POST /credentials/issue: the bureau's API clients; 201 {"verifiableCredential"}; 400 on bad input.
- POST /credentials/verify: public; 200 {"verified": true, ...}, or 422 {"verified": false,
  "problemDetails"} when the credential does not verify, 400 when it cannot be read or is not
  supported (`results.verdict` "unreadable" or "unsupported": nothing was checked).
- POST /presentations/verify: public; signed and unsigned presentations, challenge and domain checked.
- POST /credentials/status and POST /status/{id}/publish (VCALM): the bureau sets a credential's status.

Bodies are parsed here with `proofs.bounds.parse_json` (size, depth and node bounds, duplicate keys
refused) before any other work: the verify endpoints are open to anyone.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from titlecred.api import heavy
from titlecred.api import models as m
from titlecred.api import vc_answers as answers
from titlecred.api.deps import PrincipalDep, RegistryDep, SessionDep
from titlecred.api.problems import MEDIA_TYPE, PROBLEM_BASE
from titlecred.services import certificates, issuance, verification
from titlecred.services.errors import Invalid
from titlecred.services.metrics import VERIFICATIONS
from titlecred.services.rows import parse_json_object

router = APIRouter(tags=["VC API"])


def _doc(model: type[Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


async def _body(request: Request) -> dict[str, Any]:
    data = parse_json_object(await request.body(), "request", verification.REQUEST_LIMITS)
    if not isinstance(data, dict):
        raise Invalid("malformed_request", "the request body must be a JSON object", 400)
    return data


def _not_verified(status: int, code: str, detail: str, details: list[dict[str, Any]],
                  results: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse(answers.not_verified(status, code, detail, details, results), status_code=status,
                        media_type=MEDIA_TYPE)


@router.post("/credentials/issue", summary="Issue (sign) a credential as the bureau (bureau API token)",
             status_code=201, response_model=m.IssueResponse, responses=m.PROBLEMS, openapi_extra=_doc(m.IssueRequest))
async def issue(request: Request, session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> JSONResponse:
    return await _issue(request, session, registry, actor, None)


@router.post("/issuers/{name}/credentials/issue", summary="Issue (sign) a credential as one issuer instance",
             status_code=201, response_model=m.IssueResponse, responses=m.PROBLEMS, openapi_extra=_doc(m.IssueRequest))
async def issue_as(request: Request, name: Annotated[str, Path(max_length=12, pattern=r"^[a-z]+$")],
                   session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> JSONResponse:
    return await _issue(request, session, registry, actor, name)


async def _issue(request: Request, session: SessionDep, registry: RegistryDep, actor: PrincipalDep,
                 instance: str | None) -> JSONResponse:
    body = await _body(request)
    unknown = sorted(set(body) - {"credential", "options"})
    if unknown:
        raise Invalid("unknown_field", f"unknown field(s): {', '.join(unknown)}", 400, unknown[0])
    if "credential" not in body:
        raise Invalid("missing_field", "credential is required", 400, "credential")
    signed = await run_in_threadpool(lambda: issuance.issue_vc(
        session, registry, actor, body["credential"], body.get("options"),
        idempotency_key=request.headers.get("idempotency-key"), instance=instance))
    return JSONResponse({"verifiableCredential": signed}, status_code=201)


@router.post("/credentials/status", summary="Set a credential's revocation or suspension status (VCALM; bureau)",
             response_model=m.StatusUpdateOut, responses=m.PROBLEMS)
def update_status(body: m.StatusUpdate, session: SessionDep, registry: RegistryDep,
                  actor: PrincipalDep) -> m.StatusUpdateOut:
    state = certificates.set_credential_status(session, registry, actor, body.credentialId,
                                               body.credentialStatus.statusPurpose, body.status)
    return m.StatusUpdateOut(credentialId=body.credentialId, state=state)


@router.post("/status/{list_id}/publish", summary="Sign a status list again now (VCALM; bureau)", status_code=204,
             responses=m.PROBLEMS)
def publish(list_id: Annotated[str, Path(max_length=32, pattern=r"^[a-z]+-[0-9]+$")], session: SessionDep,
            registry: RegistryDep, actor: PrincipalDep) -> Response:
    certificates.publish_list(session, registry, actor, list_id)
    return Response(status_code=204)


@router.post("/credentials/verify", summary="Verify a credential (public)", response_model=m.VerifyResponse,
             responses={400: {"model": m.VerifyResponse}, 422: {"model": m.VerifyResponse}},
             openapi_extra=_doc(m.VerifyRequest))
async def verify(request: Request) -> JSONResponse:
    try:
        body = await _body(request)
    except Invalid as e:
        parsing = {"type": verification.VC_DM + "PARSING_ERROR", "code": e.code, "title": "unreadable",
                   "detail": e.message}
        return _not_verified(e.status, e.code, e.message, [parsing], {"verdict": "unreadable", "checks": []})
    vc = body.get("verifiableCredential")
    if not isinstance(vc, dict):
        return _not_verified(400, "malformed_request", "verifiableCredential must be a JSON object", [],
                             {"verdict": "unreadable", "checks": []})
    result = await heavy.verify_credential(request.app.state, vc, body.get("options"))
    VERIFICATIONS.labels(result.verdict).inc()
    status, media_type, content = answers.credential_answer(result)
    return JSONResponse(content, status_code=status, media_type=media_type)


@router.post("/presentations/verify", summary="Verify a presentation, signed (challenge, domain) or not (public)",
             response_model=m.VerifyResponse,
             responses={400: {"model": m.VerifyResponse}, 422: {"model": m.VerifyResponse}},
             openapi_extra=_doc(m.VerifyPresentationRequest))
async def verify_presentation(request: Request, registry: RegistryDep) -> JSONResponse:
    try:
        body = await _body(request)
    except Invalid as e:
        return _not_verified(e.status, e.code, e.message, [], {"verdict": "unreadable", "credentials": []})
    vp = body.get("verifiablePresentation", body.get("presentation"))
    if isinstance(vp, str):  # an SD-JWT VC with its key-binding JWT (OpenID4VP's dc+sd-jwt presentation)
        return await heavy.run_verification(_sd_jwt_presentation, request, registry, vp, body.get("options"))
    if not isinstance(vp, dict):
        return _not_verified(400, "malformed_request", "verifiablePresentation must be a JSON object", [],
                             {"verdict": "unreadable", "credentials": []})
    result = await heavy.verify_presentation(request.app.state, vp, body.get("options"))
    results = {"presentation": {"proof": [{"verified": p.ok, "reason": p.reason} for p in result.proof]},
               "credentials": [{"verified": r.verified, **verification.results_json(r)} for r in result.credentials]}
    if result.verified:
        return JSONResponse({"verified": True, "results": results, "problemDetails": []})
    return _not_verified(422, "not_verified", "the presentation did not verify", result.problems, results)



def _sd_jwt_presentation(request: Request, registry: Any, text: str, options: Any) -> JSONResponse:
    from titlecred.services import presentations

    opts = options if isinstance(options, dict) else {}
    challenge, domain = opts.get("challenge"), opts.get("domain")
    with request.app.state.sessions() as session:
        outcome = presentations.verify_sd_jwt_presentation(
            session, registry, text, nonce=challenge if isinstance(challenge, str) else None,
            audience=domain if isinstance(domain, str) else None)
    results = {"presentation": outcome}
    if outcome["verified"]:
        return JSONResponse({"verified": True, "results": results, "problemDetails": []})
    details = [{"type": PROBLEM_BASE + str(c.get("code") or c["name"]), "code": str(c.get("code") or c["name"]),
                "title": f"{c['name']} check {c['outcome']}", "detail": c["reason"]}
               for c in outcome["checks"] if not c["ok"]]
    details += [{"type": PROBLEM_BASE + e["code"], "code": e["code"], "title": "unreadable", "detail": e["message"]}
                for e in outcome["errors"]]
    return _not_verified(422 if outcome["checks"] else 400, "not_verified", "the presentation did not verify",
                         details, results)
