"""Result query slips (查询单): a signed statement of a database record, for a lost paper certificate.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from fastapi import APIRouter

from titlecred.api import models as m
from titlecred.api import views
from titlecred.api.deps import PrincipalDep, RegistryDep, SessionDep
from titlecred.services import slips

router = APIRouter(tags=["query slips"], responses=m.PROBLEMS)


@router.post("/api/query-slips", summary="Issue a query slip of a historical record or a certificate (its holder, "
             "or the bureau)", response_model=m.SlipOut, status_code=201)
def issue(body: m.SlipRequest, session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> m.SlipOut:
    slip = slips.issue(session, registry, actor, legacy_record_id=body.legacyRecordId,
                       certificate_id=body.certificateId)
    return views.slip_out(slip)


@router.get("/api/query-slips", summary="Query slips issued (yours; all for the bureau)",
            response_model=list[m.SlipOut])
def list_slips(session: SessionDep, actor: PrincipalDep) -> list[m.SlipOut]:
    return [views.slip_out(s) for s in slips.list_for(session, actor)]
