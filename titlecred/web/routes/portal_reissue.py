"""The bureau's page of holders' reissue (补发) requests (/work/reissue-requests): the requests awaiting a
decision, each with its certificate (the ID number masked), reason and detail, and a decision form —
approve (the certificate is reissued at once: a new number marked 补发, the old certificate superseded)
or decline with a reason — behind a confirmation step; and the requests already decided.

Every page calls `services.reissue_requests` with the signed-in principal and holds no rule: only the
bureau's officers see or decide requests, and the service refuses anyone else (shown as an error page).
A decline's reason is required by the service too; the page asks for it before the confirmation step.
Every POST carries the session's CSRF token, checked first (`portal.guarded`).

It must never show a full ID number: rows carry the masked number only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from titlecred.api.deps import Id, RegistryDep, SessionDep
from titlecred.db.models import Account, Certificate, ReissueRequest
from titlecred.errors import AppError, error_code
from titlecred.services import reissue_requests
from titlecred.services.context import Registry
from titlecred.services.principal import Principal, require_bureau
from titlecred.web.deps import User
from titlecred.web.i18n import catalogs, pick_language, translator
from titlecred.web.routes.portal import back_to, clean, error_text, guarded, masked_id, page, when

router = APIRouter(include_in_schema=False)

PATH = "/work/reissue-requests"
TABS = ("pending", "decided")
LIST_LIMIT = 500
# The workbench section an error page goes back to.
SECTION = "certificates"
# What the subnav marks as current here (the bureau's section of reissue requests).
HERE = "reissue_requests"


def _t(request: Request) -> Any:
    return translator(pick_language(request))


def _error_text(request: Request, e: BaseException) -> str:
    """A refusal in the reader's language: this page's catalog first, then the portal's."""
    lang = pick_language(request)
    key = f"reissue.err.{error_code(e)}"
    return translator(lang)(key) if key in catalogs()[lang] else error_text(request, e)


def _row(session: Session, row: ReissueRequest) -> dict[str, Any]:
    cert = session.get(Certificate, row.certificate_id)
    new = session.get(Certificate, row.new_certificate_id) if row.new_certificate_id else None
    decider = session.get(Account, row.decided_by_account_id) if row.decided_by_account_id else None
    return {"id": row.id, "cert_id": row.certificate_id, "number": cert.certificate_number if cert else "",
            "name": cert.name if cert else "", "id_masked": masked_id(session, row.person_id),
            "qualification": cert.qualification if cert else "", "cert_state": cert.state if cert else "",
            "reason": row.reason, "detail": row.detail or "", "state": row.state, "created": when(row.created_at),
            "decided": when(row.decided_at), "decided_by": decider.display_name if decider else "",
            "decision_reason": row.decision_reason or "", "new_cert_id": row.new_certificate_id,
            "new_number": new.certificate_number if new else None}


def _list_page(request: Request, session: Session, registry: Registry, user: Principal, *, tab: str,
               open_id: int | None = None, values: dict[str, str] | None = None,
               errors: dict[str, str] | None = None, error: str | None = None, done: dict[str, Any] | None = None,
               status_code: int = 200) -> Response:
    rows = reissue_requests.list_requests(session, user, state="pending" if tab == "pending" else None,
                                          limit=LIST_LIMIT)
    if tab == "decided":
        rows = [r for r in rows if r.state != "pending"]
    return page(request, registry, user, "work/reissue_requests.html", {
        "mode": "list", "tab": tab, "rows": [_row(session, r) for r in rows], "open_id": open_id,
        "values": values or {}, "errors": errors or {}, "error": error, "done": done},
        status_code=status_code, here=HERE)


@router.get(PATH)
def requests_page(request: Request, session: SessionDep, registry: RegistryDep, user: User, tab: str = "pending",
                  done: int | None = None) -> Response:
    def body() -> Response:
        require_bureau(user, "only the bureau's officers decide reissue requests")
        decided = None
        if done is not None and 0 < done < 2_147_483_647:
            row = session.get(ReissueRequest, done)
            decided = _row(session, row) if row is not None and row.state != "pending" else None
        return _list_page(request, session, registry, user, tab=tab if tab in TABS else "pending", done=decided)

    return guarded(request, registry, user, body, here=SECTION)


@router.post(PATH + "/{request_id}/decision")
def decide(request_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
           csrf: Annotated[str, Form(max_length=64)] = "",
           decision: Annotated[str, Form(max_length=16)] = "",
           reason: Annotated[str, Form(max_length=2000)] = "",
           confirm: Annotated[str, Form(max_length=4)] = "",
           edit: Annotated[str, Form(max_length=4)] = "") -> Response:
    def body() -> Response:
        t = _t(request)
        require_bureau(user, "only the bureau's officers decide reissue requests")
        row = reissue_requests.get_request(session, user, request_id)
        # One line of text: line breaks become spaces (the service takes printable text only).
        text = " ".join(clean(reason).split())
        values = {"decision": decision if decision in reissue_requests.DECISIONS else "", "reason": text}
        errors: dict[str, str] = {}
        if not values["decision"]:
            errors["decision"] = t("reissue.decision_required")
        elif values["decision"] == "decline" and not values["reason"]:
            errors["reason"] = t("reissue.reason_required")
        if errors or edit:
            return _list_page(request, session, registry, user, tab="pending", open_id=request_id, values=values,
                              errors=errors, error=t("reissue.form_has_errors") if errors else None,
                              status_code=422 if errors else 200)
        if not confirm:
            return page(request, registry, user, "work/reissue_requests.html", {
                "mode": "confirm", "row": _row(session, row), "values": values}, here=HERE)
        try:
            reissue_requests.decide(session, registry, user, request_id, values["decision"], values["reason"] or None)
        except AppError as e:
            session.rollback()
            message = _error_text(request, e)
            field = getattr(e, "field", None)
            return _list_page(request, session, registry, user, tab="pending", open_id=request_id, values=values,
                              errors={field: message} if field in ("decision", "reason") else {}, error=message,
                              status_code=e.status)
        return RedirectResponse(f"{PATH}?tab=decided&done={request_id}", status_code=303)

    return guarded(request, registry, user, body, csrf=csrf, here=SECTION)


# A GET of the form's address (the language switch of a page a POST rendered, a reload) goes back to the list.


@router.get(PATH + "/{request_id}/decision")
def decide_get(request_id: Id, request: Request) -> Response:
    return back_to(request, PATH)
