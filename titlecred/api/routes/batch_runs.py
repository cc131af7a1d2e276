"""Batch runs, read back: a run's totals and each application's outcome (the bureau).

`POST /api/issuance/run` and `titlecred batch issue` store their per-row outcome as they go; these
routes read it afterwards, also when the call that started the run died half-way.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from titlecred.api import models as m
from titlecred.api.deps import Id, Limit, Offset, PrincipalDep, SessionDep
from titlecred.services import batch
from titlecred.services.principal import require_bureau

router = APIRouter(tags=["issuance"], responses=m.PROBLEMS)


class BatchRunOut(BaseModel):
    id: int
    state: str  # running | done
    total: int
    counts: dict[str, int]  # pending | issued | failed | superseded → how many
    uploadBatchId: int | None
    actor: str
    createdAt: datetime
    finishedAt: datetime | None


class BatchItemOut(BaseModel):
    id: int
    applicationId: int
    state: str
    certificateId: int | None
    certificateNumber: str | None
    code: str | None
    message: str | None
    updatedAt: datetime | None


def _run_out(session: SessionDep, run: batch.BatchRun) -> BatchRunOut:
    assert run.id is not None
    return BatchRunOut(id=run.id, state=run.state, total=run.total, counts=batch.counts(session, run.id),
                       uploadBatchId=run.upload_batch_id, actor=run.actor, createdAt=run.created_at,
                       finishedAt=run.finished_at)


@router.get("/api/issuance/runs", summary="The latest batch runs, newest first (bureau)",
            response_model=list[BatchRunOut])
def list_runs(session: SessionDep, actor: PrincipalDep, limit: Limit = 20) -> list[BatchRunOut]:
    require_bureau(actor)
    return [_run_out(session, r) for r in batch.recent_runs(session, limit)]


@router.get("/api/issuance/runs/{run_id}", summary="A batch run's totals (bureau)", response_model=BatchRunOut)
def get_run(run_id: Id, session: SessionDep, actor: PrincipalDep) -> BatchRunOut:
    require_bureau(actor)
    return _run_out(session, batch.get_run(session, run_id))


@router.get("/api/issuance/runs/{run_id}/items", summary="A batch run's per-application outcome, in pages "
            "(bureau)", response_model=list[BatchItemOut])
def get_items(run_id: Id, session: SessionDep, actor: PrincipalDep,
              state: Annotated[str | None, Query(pattern="^(pending|issued|failed|superseded)$")] = None,
              after: Offset = 0, limit: Limit = 100) -> list[BatchItemOut]:
    require_bureau(actor)
    batch.get_run(session, run_id)
    return [BatchItemOut(id=i.id or 0, applicationId=i.application_id, state=i.state, certificateId=i.certificate_id,
                         certificateNumber=i.certificate_number, code=i.code, message=i.message,
                         updatedAt=i.updated_at)
            for i in batch.items(session, run_id, state=state, after=after, limit=limit)]
