"""Legacy records: bulk import of historical titles (bureau), search (bureau; a holder sees their own).

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from titlecred.api import models as m
from titlecred.api import views
from titlecred.api.deps import Id, Limit, Offset, PrincipalDep, RegistryDep, SessionDep
from titlecred.api.routes.uploads import UPLOAD_BODY, body_format
from titlecred.services import legacy

router = APIRouter(tags=["legacy records"], responses=m.PROBLEMS)


@router.post("/api/legacy/imports", summary="Import historical title records (bureau; CSV or JSON, validated row "
             "by row like a committee upload)", response_model=m.UploadOut, status_code=201,
             openapi_extra=UPLOAD_BODY)
async def import_records(request: Request, session: SessionDep, registry: RegistryDep, actor: PrincipalDep,
                         keep_valid: bool = False) -> m.UploadOut:
    fmt = body_format(request)
    content = await request.body()
    result = await run_in_threadpool(legacy.import_records, session, registry, actor, fmt, content, keep_valid)
    return m.UploadOut(batchId=result.batch.id if result.batch else None, total=result.total,
                       stored=len(result.records), recordIds=[r.id for r in result.records if r.id],
                       errors=result.errors)


@router.get("/api/legacy/records", summary="Historical records: a holder's own; the latest ones for the bureau",
            response_model=list[m.LegacyRecordOut])
def list_records(session: SessionDep, registry: RegistryDep, actor: PrincipalDep, limit: Limit = 100,
                 offset: Offset = 0) -> list[m.LegacyRecordOut]:
    rows = legacy.search(session, registry, actor, limit=limit, offset=offset)
    return [views.legacy_out(session, r, full=False) for r in rows]


@router.post("/api/legacy/search", summary="Search historical records by name, ID number or certificate number "
             "(bureau; personal data travels in the body, never in a URL)", response_model=list[m.LegacyRecordOut])
def search(body: m.SearchRequest, session: SessionDep, registry: RegistryDep,
           actor: PrincipalDep) -> list[m.LegacyRecordOut]:
    rows = legacy.search(session, registry, actor, name=body.name, id_number=body.idNumber,
                         certificate_number=body.certificateNumber, limit=body.limit, offset=body.offset)
    return [views.legacy_out(session, r, full=False) for r in rows]


@router.get("/api/legacy/records/{record_id}", summary="One historical record (with the full ID number for the "
            "bureau and the holder)", response_model=m.LegacyRecordOut)
def get_record(record_id: Id, session: SessionDep, actor: PrincipalDep) -> m.LegacyRecordOut:
    return views.legacy_out(session, legacy.get(session, actor, record_id), full=True)
