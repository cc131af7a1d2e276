"""The holder's "add to wallet" page (/me/certificates/{id}/wallet): an OpenID4VCI credential offer as a
QR code for a phone wallet and an `openid-credential-offer://` link for a wallet on the same device; the
transaction code goes to the holder's phone or e-mail (never on the page).

It holds no rule: services.wallet_issuance decides who may offer what.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from titlecred.api.deps import Id, RegistryDep, SessionDep
from titlecred.oid4vci import authorize, metadata
from titlecred.oid4vci.authorize import AuthorizeError
from titlecred.services import certificates, wallet_issuance
from titlecred.services.context import Registry
from titlecred.services.errors import NotFound
from titlecred.services.principal import Principal
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


# ------------------------------------------------------------------ authorization code flow (OpenID4VCI §5)


def _authorize_error(request: Request, registry: Registry, user: Principal, e: AuthorizeError) -> Response:
    if e.redirectable:
        uri = request.query_params.get("redirect_uri") or ""
        params = {"error": e.error, "error_description": e.description, "iss": registry.base_url}
        state = request.query_params.get("state")
        if state:
            params["state"] = state
        return RedirectResponse(authorize.redirect(uri, params), status_code=303)
    return _page(request, registry, user, "holder/error.html", {"message": e.description}, status_code=400)


@router.get("/oid4vci/authorize")
def authorize_page(request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    """The wallet sends the holder here; signed in (as on the portal), they choose which certificate."""
    params = {k: v for k, v in request.query_params.items()}

    def body() -> Response:
        try:
            req = authorize.parse_request(params)
        except AuthorizeError as e:
            return _authorize_error(request, registry, user, e)
        certs = [c for c in certificates.search(session, registry, user) if c.state == "active"]
        return _page(request, registry, user, "holder/authorize.html", {
            "req": req, "fields": req.as_form(), "certs": [_cert_view(session, c) for c in certs],
            "client": req.client_id, "redirect_host": urlsplit(req.redirect_uri).netloc or req.redirect_uri})

    return _guarded(request, registry, user, body)


@router.post("/oid4vci/authorize")
async def authorize_decision(request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}

    def body() -> Response:
        try:
            req = authorize.parse_request(form)
        except AuthorizeError as e:
            return _authorize_error(request, registry, user, e)
        if form.get("decision") != "allow":
            params = {"error": "access_denied", "error_description": "the holder declined", "iss": registry.base_url}
            if req.state is not None:
                params["state"] = req.state
            return RedirectResponse(authorize.redirect(req.redirect_uri, params), status_code=303)
        cert_id = form.get("cert_id", "")
        if not cert_id.isdigit():
            raise NotFound("certificate")
        url = wallet_issuance.grant_authorization_code(session, registry, user, int(cert_id), req)
        return RedirectResponse(url, status_code=303)

    return _guarded(request, registry, user, body, csrf=form.get("csrf", ""))
