"""Purpose-bound shares (加注) over HTTP: the holder makes, lists and withdraws shares and downloads each
one's PDF copy; anyone with the link reads the signed share (`GET /s/{token}/credential.json`; the page
at `/s/{token}` is titlecred.web.routes.shares_page).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from titlecred.api import models as m
from titlecred.api.deps import Id, PrincipalDep, RegistryDep, SessionDep
from titlecred.db.models_wallet import Share, ShareOpen
from titlecred.services import shares
from titlecred.services.clock import stamp
from titlecred.services.context import Registry
from titlecred.services.printouts import PrintoutFailed

router = APIRouter(responses=m.PROBLEMS, tags=["shares"])


class ShareIn(BaseModel):
    purpose: str = Field(max_length=200, description="what the share is for, e.g. 仅用于某某公司招聘")
    validUntil: str = Field(max_length=40, description="until when (one hour to 90 days ahead)")


def share_json(registry: Registry, share: Share, opens: list[ShareOpen] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": share.id, "certificateId": share.certificate_id, "purpose": share.purpose,
                           "link": shares.link_of(registry, share), "state": shares.state_of(registry, share),
                           "createdAt": stamp(share.created_at), "validUntil": stamp(share.valid_until),
                           "withdrawnAt": stamp(share.withdrawn_at) if share.withdrawn_at else None,
                           "credentialId": share.credential_id}
    if opens is not None:
        out["opens"] = [{"at": stamp(o.at), "outcome": o.outcome} for o in opens]
    return out


@router.post("/api/certificates/{cert_id}/shares", status_code=201, response_model=dict[str, Any],
             summary="Holder: share a certificate for a stated purpose and period (at most 3 active)")
def create_share(cert_id: Id, body: ShareIn, session: SessionDep, registry: RegistryDep,
                 actor: PrincipalDep) -> dict[str, Any]:
    row = shares.create(session, registry, actor, cert_id, purpose=body.purpose, valid_until=body.validUntil)
    return share_json(registry, row, [])


@router.get("/api/shares", response_model=list[dict[str, Any]],
            summary="Holder: every share, with each time its link was opened")
def list_shares(session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> list[dict[str, Any]]:
    return [share_json(registry, s, o) for s, o in shares.list_for(session, actor)]


@router.post("/api/shares/{share_id}/withdraw", response_model=dict[str, Any],
             summary="Holder: withdraw a share (it stops verifying at once)")
def withdraw_share(share_id: Id, session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> dict[str, Any]:
    return share_json(registry, shares.withdraw(session, registry, actor, share_id))


@router.get("/api/shares/{share_id}/pdf", summary="Holder: the share's PDF copy (purpose and period signed; "
            "the share credential attached)", response_class=Response)
def share_pdf(share_id: Id, session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> Response:
    import json

    from printing.errors import PrintingError
    from printing.share import render_share_pdf

    row = shares.get_own(session, actor, share_id)
    try:
        data = render_share_pdf(json.loads(row.credential_json), shares.link_of(registry, row),
                                registry.profile.name)
    except PrintingError as e:
        raise PrintoutFailed(e.code, e.message) from None
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="share-{row.id}.pdf"', "Cache-Control": "no-store"})


@router.get("/s/{token}/credential.json", response_model=dict[str, Any],
            summary="Anyone with the link: the signed share credential (verify it like any credential)")
def share_credential(token: str, session: SessionDep, registry: RegistryDep) -> dict[str, Any]:
    return shares.open_share(session, registry, token).credential
