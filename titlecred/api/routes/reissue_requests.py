"""Holders' reissue (补发) requests: the holder asks, the bureau approves (the certificate is reissued)
or declines with a reason.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from fastapi import APIRouter

from titlecred.api import models as m
from titlecred.api import views
from titlecred.api.deps import Id, Limit, Offset, PrincipalDep, RegistryDep, SessionDep
from titlecred.services import reissue_requests

router = APIRouter(tags=["reissue requests"], responses=m.PROBLEMS)


@router.post("/api/certificates/{cert_id}/reissue-requests", summary="Ask the bureau to reissue (补发) your lost or "
             "damaged certificate (holder; one open request per certificate)", response_model=m.ReissueRequestOut,
             status_code=201)
def request_reissue(cert_id: Id, body: m.ReissueRequestCreate, session: SessionDep, registry: RegistryDep,
                    actor: PrincipalDep) -> m.ReissueRequestOut:
    row = reissue_requests.request_reissue(session, registry, actor, cert_id, body.reason, body.detail)
    return views.reissue_request_out(session, row)


@router.get("/api/reissue-requests", summary="Reissue requests: your own (holder) or every one (bureau), newest "
            "first; filter by state (pending, approved, declined)", response_model=list[m.ReissueRequestOut])
def list_requests(session: SessionDep, actor: PrincipalDep, state: str | None = None, limit: Limit = 100,
                  offset: Offset = 0) -> list[m.ReissueRequestOut]:
    rows = reissue_requests.list_requests(session, actor, state=state, limit=limit, offset=offset)
    return [views.reissue_request_out(session, r) for r in rows]


@router.get("/api/reissue-requests/{request_id}", summary="One reissue request (its holder, the bureau)",
            response_model=m.ReissueRequestOut)
def get_request(request_id: Id, session: SessionDep, actor: PrincipalDep) -> m.ReissueRequestOut:
    return views.reissue_request_out(session, reissue_requests.get_request(session, actor, request_id))


@router.post("/api/reissue-requests/{request_id}/decision", summary="Approve (the certificate is reissued: a new "
             "number, the old one superseded) or decline with a reason (bureau)", response_model=m.ReissueRequestOut)
def decide(request_id: Id, body: m.ReissueDecision, session: SessionDep, registry: RegistryDep,
           actor: PrincipalDep) -> m.ReissueRequestOut:
    row = reissue_requests.decide(session, registry, actor, request_id, body.decision, body.reason)
    return views.reissue_request_out(session, row)
