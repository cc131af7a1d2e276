"""Applications and their review steps: apply, review (approve / reject / return), resubmit, issue.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response

from titlecred.api import models as m
from titlecred.api import views
from titlecred.api.deps import Id, Limit, Offset, OptId, PrincipalDep, RegistryDep, SessionDep
from titlecred.services import applications, conversion, issuance

router = APIRouter(tags=["applications"], responses=m.PROBLEMS)


@router.post("/api/applications", summary="Apply for a certificate (holder): self-appointment, exam or "
             "entrusted review", response_model=m.ApplicationOut, status_code=201)
def submit(body: m.ApplicationCreate, session: SessionDep, registry: RegistryDep,
           actor: PrincipalDep) -> m.ApplicationOut:
    app = applications.submit(session, registry, actor, body.model_dump(exclude_none=True))
    return views.application_out(session, actor, app)


@router.get("/api/applications", summary="Applications you may see (yours; your organization's; all for the "
            "bureau); awaitingMe=true: your organization's worklist", response_model=list[m.ApplicationOut])
def list_applications(session: SessionDep, actor: PrincipalDep, state: str | None = None,
                      channel: str | None = None, awaitingMe: bool = False, batchId: OptId = None,
                      limit: Limit = 100, offset: Offset = 0) -> list[m.ApplicationOut]:
    apps = applications.list_for(session, actor, state=state, channel=channel, awaiting_me=awaitingMe,
                                 batch_id=batchId, limit=limit, offset=offset)
    return [views.application_out(session, actor, a) for a in apps]


@router.get("/api/applications/{app_id}", summary="One application with every review step",
            response_model=m.ApplicationOut)
def get_application(app_id: Id, session: SessionDep, actor: PrincipalDep) -> m.ApplicationOut:
    return views.application_out(session, actor, applications.get(session, actor, app_id))


@router.post("/api/applications/{app_id}/review", summary="Approve, reject (with reason) or return for correction "
             "(with reason): an officer of the organization whose turn it is", response_model=m.ReviewOut)
def review(app_id: Id, body: m.ReviewRequest, session: SessionDep, registry: RegistryDep,
           actor: PrincipalDep) -> m.ReviewOut:
    outcome = applications.review(session, registry, actor, app_id, body.decision, body.reason, body.issue)
    cert = views.certificate_out(session, actor, outcome.certificate) if outcome.certificate else None
    return m.ReviewOut(application=views.application_out(session, actor, outcome.application), certificate=cert)


@router.post("/api/applications/{app_id}/resubmit", summary="Correct a returned application and send it through "
             "its chain again (the applicant)", response_model=m.ApplicationOut)
def resubmit(app_id: Id, body: m.ResubmitRequest, session: SessionDep, registry: RegistryDep,
             actor: PrincipalDep) -> m.ApplicationOut:
    app = applications.resubmit(session, registry, actor, app_id, body.changes)
    return views.application_out(session, actor, app)


@router.post("/api/applications/{app_id}/issue", summary="Issue an approved application (bureau); idempotent: "
             "again returns the same certificate", response_model=m.CertificateOut)
def issue(app_id: Id, session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> m.CertificateOut:
    return views.certificate_out(session, actor, issuance.issue_application(session, registry, actor, app_id))


@router.get("/api/applications/{app_id}/photos/{side}", summary="A conversion's cover photo (the applicant and "
            "the reviewers)", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}})
def photo(app_id: Id, side: Literal["cover1", "cover2"], session: SessionDep, actor: PrincipalDep) -> Response:
    row = conversion.photo(session, actor, app_id, side)
    return Response(row.data, media_type=row.media_type,
                    headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})
