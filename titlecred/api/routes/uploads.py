"""Committee bulk uploads (CSV or JSON), their batches, and the bureau's approval of a whole batch.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from titlecred.api import models as m
from titlecred.api import views
from titlecred.api.deps import Id, PrincipalDep, RegistryDep, SessionDep
from titlecred.services import uploads
from titlecred.services.errors import Invalid

router = APIRouter(tags=["uploads"], responses=m.PROBLEMS)

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": "name,namePinyin,gender,idNumber,..."},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


def body_format(request: Request) -> str:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("text/csv", "application/csv"):
        return "csv"
    if ctype in ("application/json", ""):
        return "json"
    raise Invalid("unsupported_media_type", "send text/csv or application/json", 415)


@router.post("/api/organizations/{org_id}/uploads", summary="Upload the people a committee approved (its own "
             "officers only). Every row is validated first; nothing is stored unless all pass, or keep_valid=true",
             response_model=m.UploadOut, status_code=201, openapi_extra=UPLOAD_BODY)
async def upload(org_id: Id, request: Request, session: SessionDep, registry: RegistryDep, actor: PrincipalDep,
                 keep_valid: bool = False) -> m.UploadOut:
    fmt = body_format(request)
    content = await request.body()
    result = await run_in_threadpool(uploads.upload, session, registry, actor, org_id, fmt, content, keep_valid)
    return m.UploadOut(batchId=result.batch.id if result.batch else None, total=result.total,
                       stored=len(result.applications), applicationIds=[a.id for a in result.applications if a.id],
                       errors=result.errors)


@router.get("/api/uploads", summary="Upload batches (your organization's; all for the bureau)",
            response_model=list[m.BatchOut])
def list_batches(session: SessionDep, actor: PrincipalDep) -> list[m.BatchOut]:
    return [views.batch_out(b) for b in uploads.list_batches(session, actor)]


@router.get("/api/uploads/{batch_id}", summary="One upload batch", response_model=m.BatchOut)
def get_batch(batch_id: Id, session: SessionDep, actor: PrincipalDep) -> m.BatchOut:
    return views.batch_out(uploads.get_batch(session, actor, batch_id))


@router.post("/api/uploads/{batch_id}/approve", summary="Approve every application of a batch still awaiting the "
             "bureau (issue them with POST /api/issuance/run)", response_model=list[int])
def approve_batch(batch_id: Id, session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> list[int]:
    return [a.id for a in uploads.approve_batch(session, registry, actor, batch_id) if a.id is not None]
