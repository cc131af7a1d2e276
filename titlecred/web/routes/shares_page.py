"""Purpose-bound shares (加注) as pages: the link anyone opens (/s/{token}: the share verified now, its
purpose and period, the facts it shows), and the holder's list (/me/shares: make, withdraw, download
the PDF copy, and see each time a link was opened).

It holds no rule: services.shares decides and verifies.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from titlecred.api.deps import Id, RegistryDep, SessionDep
from titlecred.errors import AppError
from titlecred.services import certificates, shares
from titlecred.web.deps import MaybeUser, User
from titlecred.web.routes.holder import _cert_view, _guarded, _page, error_text
from titlecred.web.routes.lookup import subject_facts
from titlecred.web.templating import render
from titlecred.web.views import when

router = APIRouter(include_in_schema=False)


@router.get("/s/{token}")
def open_link(token: str, request: Request, session: SessionDep, registry: RegistryDep, user: MaybeUser) -> Response:
    try:
        opened = shares.open_share(session, registry, token)
    except AppError:
        return render(request, "share.html", {"missing": True}, status_code=404, user=user)
    result = opened.result
    verdict = "valid" if result.verified else ("withdrawn" if opened.state == "withdrawn" else result.verdict)
    return render(request, "share.html", {
        "missing": False, "verdict": verdict, "purpose": opened.credential["sharePurpose"],
        "valid_from": when(opened.credential["validFrom"]), "valid_until": when(opened.credential["validUntil"]),
        "facts": subject_facts(opened.credential), "checks": [c.to_json() for c in result.checks],
        "json_url": f"/s/{token}/credential.json"}, user=user)


def _shares_page(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                 error: str | None = None, status_code: int = 200) -> Response:
    rows = [{"id": s.id, "purpose": s.purpose, "link": shares.link_of(registry, s),
             "state": shares.state_of(registry, s), "created": when(s.created_at), "until": when(s.valid_until),
             "cert": s.certificate_id, "opens": [{"at": when(o.at), "outcome": o.outcome} for o in opens]}
            for s, opens in shares.list_for(session, user)]
    certs = [_cert_view(session, c) for c in certificates.search(session, registry, user) if c.state == "active"]
    return _page(request, registry, user, "holder/shares.html", {"shares": rows, "certs": certs, "error": error,
                                                                "max_active": shares.MAX_ACTIVE},
                 status_code=status_code)


@router.get("/me/shares")
def shares_page(request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    return _guarded(request, registry, user, lambda: _shares_page(request, session, registry, user))


@router.post("/me/shares")
def create_share(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                 csrf: Annotated[str, Form()] = "", cert_id: Annotated[str, Form()] = "",
                 purpose: Annotated[str, Form(max_length=400)] = "", days: Annotated[str, Form()] = "7") -> Response:
    def body() -> Response:
        from datetime import timedelta

        from titlecred.services.clock import stamp

        try:
            until = stamp(registry.now() + timedelta(days=int(days) if days.isdigit() else -1))
            shares.create(session, registry, user, int(cert_id) if cert_id.isdigit() else 0, purpose=purpose,
                          valid_until=until)
        except AppError as e:
            return _shares_page(request, session, registry, user, error_text(request, e), e.status)
        return RedirectResponse("/me/shares", status_code=303)

    return _guarded(request, registry, user, body, csrf=csrf)


@router.post("/me/shares/{share_id}/withdraw")
def withdraw_share(share_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
                   csrf: Annotated[str, Form()] = "") -> Response:
    def body() -> Response:
        shares.withdraw(session, registry, user, share_id)
        return RedirectResponse("/me/shares", status_code=303)

    return _guarded(request, registry, user, body, csrf=csrf)


@router.get("/me/shares/{share_id}/pdf")
def share_pdf(share_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    from titlecred.api.routes.shares import share_pdf as api_pdf

    return _guarded(request, registry, user, lambda: api_pdf(share_id, session, registry, user))
