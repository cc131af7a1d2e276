"""The holder's "add to wallet" page (/me/certificates/{id}/wallet): an OpenID4VCI credential offer as a
QR code for a phone wallet and an `openid-credential-offer://` link for a wallet on the same device; the
transaction code goes to the holder's phone or e-mail (never on the page).

It holds no rule: services.wallet_issuance decides who may offer what.
"""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from titlecred.api.deps import Id, RegistryDep, SessionDep
from titlecred.oid4vci import metadata
from titlecred.services import wallet_issuance
from titlecred.web.deps import User
from titlecred.web.routes.holder import _cert_view, _guarded, _own_cert, _page
from titlecred.web.views import when

router = APIRouter(include_in_schema=False)


@router.get("/me/certificates/{cert_id}/wallet")
def wallet_page(cert_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    return _guarded(request, registry, user, lambda: _page(request, registry, user, "holder/wallet.html", {
        "cert": _cert_view(session, _own_cert(session, user, cert_id)), "offer": None}))


@router.post("/me/certificates/{cert_id}/wallet")
def wallet_offer(cert_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
                 csrf: Annotated[str, Form()] = "", format: Annotated[str, Form()] = "both") -> Response:
    def body() -> Response:
        cert = _own_cert(session, user, cert_id)
        configs = {"ldp_vc": [metadata.LDP_VC], "sd_jwt": [metadata.SD_JWT]}.get(format)
        made = wallet_issuance.create_offer(session, registry, user, cert_id, configs)
        qr = segno.make(made.link, error="m").svg_inline(scale=4, dark="#000", light="#fff")
        return _page(request, registry, user, "holder/wallet.html", {
            "cert": _cert_view(session, cert),
            "offer": {"link": made.link, "qr": qr, "expires": when(made.expires_at), "sent_to": made.sent_to}})

    return _guarded(request, registry, user, body, csrf=csrf)
