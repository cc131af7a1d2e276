"""The verifier's page (/work/presentations): a registration body (any organization's account) picks the
fields it needs, and the page shows an OpenID4VP request as a QR code for a phone wallet and an
`openid4vp://` link for a wallet on the same device; it refreshes itself until the wallet answered and
then shows the verification (each check with its reason) and the disclosed fields.

It holds no rule: services.presentations decides and verifies.
"""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from titlecred.api.deps import RegistryDep, SessionDep
from titlecred.api.routes.oid4vp import request_json
from titlecred.oid4vci.metadata import CLAIMS
from titlecred.services import presentations
from titlecred.web.deps import User
from titlecred.web.routes.portal import guarded, page

router = APIRouter(include_in_schema=False)
DEFAULT_FIELDS = ("name", "qualification", "series", "level", "certificateNumber")


@router.get("/work/presentations")
def form_page(request: Request, registry: RegistryDep, user: User) -> Response:
    return guarded(request, registry, user, lambda: page(request, registry, user, "work/presentation_new.html", {
        "claims": CLAIMS, "checked": DEFAULT_FIELDS}))


@router.post("/work/presentations")
async def create(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                 csrf: Annotated[str, Form()] = "", format: Annotated[str, Form()] = "dc+sd-jwt",
                 purpose: Annotated[str, Form()] = "") -> Response:
    form = await request.form()
    fields = [str(v) for v in form.getlist("fields")]

    def body() -> Response:
        row = presentations.create_request(session, registry, user, fields=fields, fmt=format,
                                           purpose=purpose or None)
        return RedirectResponse(f"/work/presentations/{row.state}", status_code=303)

    return guarded(request, registry, user, body, csrf=csrf)


@router.get("/work/presentations/{state}")
def request_page(state: str, request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    def body() -> Response:
        data = request_json(registry, presentations.get_request(session, user, state))
        qr = segno.make(data["link"], error="l").svg_inline(scale=3, dark="#000", light="#fff") \
            if data["state"] == "pending" else None
        labels = {name: (zh, en) for name, zh, en in CLAIMS}
        return page(request, registry, user, "work/presentation.html", {"req": data, "qr": qr, "labels": labels})

    return guarded(request, registry, user, body)
