"""The bureau's batch run: issue every approved application.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from fastapi import APIRouter

from titlecred.api import models as m
from titlecred.api.deps import PrincipalDep, RegistryDep, SessionDep
from titlecred.services import issuance

router = APIRouter(tags=["issuance"], responses=m.PROBLEMS)


@router.post("/api/issuance/run", summary="Issue every approved application (of one batch, if given); each in its "
             "own transaction", response_model=m.RunOut)
def run(session: SessionDep, registry: RegistryDep, actor: PrincipalDep, body: m.RunRequest | None = None) -> m.RunOut:
    result = issuance.run_batch(session, registry, actor, body.batchId if body else None)
    issued = [m.IssuedItem(applicationId=c.application_id, certificateId=c.id or 0,
                           certificateNumber=c.certificate_number) for c in result.issued]
    return m.RunOut(issued=issued, failed=result.failed, runId=result.run_id)
