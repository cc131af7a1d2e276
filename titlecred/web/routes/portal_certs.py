"""The workbench's certificate pages: an employer's view of its own staff's certificates, the bureau's
certificate search and one certificate's life (revoke with a reason, suspend, unsuspend, reissue 补发,
each behind a confirmation step), the printable PDF, and the bureau's issuing of approved applications
(one at a time, or a batch run).

Every page calls `services.certificates`, `services.issuance` and `services.printouts` with the
signed-in principal: an employer's search is scoped to its own staff by the service, and a certificate
of another employer is refused by it, page and PDF alike. The forms ask for a reason wherever the
action is recorded for the audit trail or the credit system (revocation, suspension, reissue), even
where the service would accept none: the page's choice, so that every such entry says why.

It must never show a full ID number: certificates reach the templates through `cert_view` (the masked
number only), a searched ID number never comes back into the page, and searches are POSTed (personal
data never travels in a URL).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from titlecred.api.deps import Id, RegistryDep, SessionDep
from titlecred.db.models import Certificate
from titlecred.errors import AppError
from titlecred.services import applications, certificates, issuance, printouts
from titlecred.services.context import Registry
from titlecred.services.principal import BUREAU, Principal, require_bureau
from titlecred.web.deps import User
from titlecred.web.i18n import catalogs, pick_language, translator
from titlecred.web.routes.portal import app_view, back_to, cert_view, clean, error_text, guarded, page

router = APIRouter(include_in_schema=False)

STATES = ("active", "suspended", "revoked", "superseded")
ACTIONS = ("revoke", "suspend", "unsuspend", "reissue")
DONE = {"revoke": "revoked", "suspend": "suspended", "unsuspend": "unsuspended", "reissue": "reissued"}
LIST_LIMIT = 500


def _t(request: Request) -> Any:
    return translator(pick_language(request))


def _options(request: Request, prefix: str, reasons: dict[str, str]) -> list[tuple[str, str]]:
    """The service's reasons, named in the reader's language where the catalog knows them."""
    lang = pick_language(request)
    table = catalogs()[lang]
    return [(code, table.get(f"{prefix}.{code}", name)) for code, name in reasons.items()]


# ------------------------------------------------------------------ lists and search


def _list_page(request: Request, session: Session, registry: Registry, user: Principal, *, mode: str,
               certs: list[Certificate] | None, searched: bool, values: dict[str, str] | None = None,
               state: str = "", error: str | None = None, error_field: str | None = None,
               status_code: int = 200) -> Response:
    rows = [cert_view(session, c) for c in reversed(certs or [])]
    return page(request, registry, user, "work/certificates.html", {
        "mode": mode, "certs": rows, "searched": searched, "values": values or {}, "state": state,
        "states": STATES, "error": error, "error_field": error_field,
        "action": "/work/staff" if mode == "staff" else "/work/certificates"},
        status_code=status_code, here=mode)


@router.get("/work/staff")
def staff_page(request: Request, session: SessionDep, registry: RegistryDep, user: User, state: str = "") -> Response:
    def body() -> Response:
        chosen = state if state in STATES else ""
        certs = certificates.search(session, registry, user, state=chosen or None, limit=LIST_LIMIT)
        return _list_page(request, session, registry, user, mode="staff", certs=certs, searched=bool(chosen),
                          state=chosen)

    return guarded(request, registry, user, body, here="staff")


@router.get("/work/certificates")
def certificates_page(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                      state: str = "") -> Response:
    def body() -> Response:
        require_bureau(user, "only the bureau searches every certificate (an employer sees its own staff's)")
        chosen = state if state in STATES else ""
        certs = certificates.search(session, registry, user, state=chosen, limit=LIST_LIMIT) if chosen else None
        return _list_page(request, session, registry, user, mode="certificates", certs=certs, searched=bool(chosen),
                          state=chosen)

    return guarded(request, registry, user, body, here="certificates")


def _search(request: Request, session: Session, registry: Registry, user: Principal, mode: str, name: str,
            number: str, id_number: str) -> Response:
    values = {"name": clean(name, 200), "number": clean(number, 64)}
    try:
        certs = certificates.search(session, registry, user, name=values["name"] or None,
                                    number=values["number"] or None, id_number=clean(id_number, 32) or None,
                                    limit=LIST_LIMIT)
    except AppError as e:
        field = getattr(e, "field", None)
        return _list_page(request, session, registry, user, mode=mode, certs=None, searched=False, values=values,
                          error=error_text(request, e), error_field="idNumber" if field == "idNumber" else None,
                          status_code=e.status)
    return _list_page(request, session, registry, user, mode=mode, certs=certs, searched=True, values=values)


@router.post("/work/staff")
def staff_search(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                 csrf: Annotated[str, Form(max_length=64)] = "",
                 name: Annotated[str, Form(max_length=200)] = "",
                 number: Annotated[str, Form(max_length=64)] = "") -> Response:
    def body() -> Response:
        return _search(request, session, registry, user, "staff", name, number, "")

    return guarded(request, registry, user, body, csrf=csrf, here="staff")


@router.post("/work/certificates")
def certificates_search(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                        csrf: Annotated[str, Form(max_length=64)] = "",
                        name: Annotated[str, Form(max_length=200)] = "",
                        number: Annotated[str, Form(max_length=64)] = "",
                        id_number: Annotated[str, Form(max_length=32)] = "") -> Response:
    def body() -> Response:
        require_bureau(user, "only the bureau searches every certificate")
        return _search(request, session, registry, user, "certificates", name, number, id_number)

    return guarded(request, registry, user, body, csrf=csrf, here="certificates")


# ------------------------------------------------------------------ one certificate


def _cert_page(request: Request, session: Session, registry: Registry, user: Principal, cert: Certificate, *,
               form: str | None = None, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               error: str | None = None, notice: str | None = None, status_code: int = 200) -> Response:
    bureau = user.org_kind == BUREAU and user.is_staff
    return page(request, registry, user, "work/certificate.html", {
        "cert": cert_view(session, cert), "bureau": bureau, "form": form, "values": values or {},
        "errors": errors or {}, "error": error, "notice": notice,
        "revoke_reasons": _options(request, "portal.revoke_reason", certificates.REVOCATION_REASONS),
        "reissue_reasons": _options(request, "portal.reissue_reason", certificates.REISSUE_REASONS),
        "pdf": cert.state in ("active", "suspended") or bureau},
        status_code=status_code, here="certificates" if bureau else "staff")


@router.get("/work/certificates/{cert_id}")
def certificate_page(cert_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
                     done: str | None = None) -> Response:
    def body() -> Response:
        cert = certificates.get(session, user, cert_id)
        notice = _t(request)("portal.cert.done." + done) if done in (*DONE.values(), "issued") else None
        return _cert_page(request, session, registry, user, cert, notice=notice)

    return guarded(request, registry, user, body, here="certificates" if user.org_kind == BUREAU else "staff")


@router.get("/work/certificates/{cert_id}/pdf")
def certificate_pdf(cert_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    def body() -> Response:
        printout = printouts.certificate_pdf(session, registry, user, cert_id)
        return Response(printout.data, media_type=printouts.PDF_MEDIA_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{printout.filename}"', "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff"})

    return guarded(request, registry, user, body, here="certificates" if user.org_kind == BUREAU else "staff")


@router.post("/work/certificates/{cert_id}/{action}")
def certificate_action(cert_id: Id, action: str, request: Request, session: SessionDep, registry: RegistryDep,
                       user: User, csrf: Annotated[str, Form(max_length=64)] = "",
                       reason: Annotated[str, Form(max_length=32)] = "",
                       detail: Annotated[str, Form(max_length=2000)] = "",
                       confirm: Annotated[str, Form(max_length=4)] = "",
                       edit: Annotated[str, Form(max_length=4)] = "") -> Response:
    def body() -> Response:
        t = _t(request)
        cert = certificates.get(session, user, cert_id)
        if action not in ACTIONS:
            return _cert_page(request, session, registry, user, cert, error=t("portal.cert.unknown_action"),
                              status_code=404)
        reasons = {"revoke": certificates.REVOCATION_REASONS, "reissue": certificates.REISSUE_REASONS}.get(action)
        values = {"reason": reason if reasons and reason in reasons else "", "detail": clean(detail)}
        errors: dict[str, str] = {}
        if reasons is not None and not values["reason"]:
            errors["reason"] = t("portal.cert.reason_required")
        if action in ("revoke", "suspend") and not values["detail"]:
            errors["detail"] = t("portal.cert.detail_required")
        if errors or edit:
            return _cert_page(request, session, registry, user, cert, form=action, values=values, errors=errors,
                              error=t("portal.form_has_errors") if errors else None, status_code=422 if errors else 200)
        view = cert_view(session, cert)
        if not confirm:
            lines = [(t("portal.fact.certificateNumber"), view["number"]), (t("portal.fact.name"), view["name"]),
                     (t("portal.fact.idNumberMasked"), view["id_masked"]),
                     (t("portal.fact.qualification"), view["qualification"]),
                     (t("portal.col.state"), t("portal.cert_state." + view["state"]))]
            if values["reason"]:
                label = dict(_options(request, f"portal.{action}_reason", reasons or {})).get(values["reason"], "")
                lines.append((t("portal.cert.reason"), label))
            if values["detail"]:
                lines.append((t("portal.cert.detail_" + action), values["detail"]))
            return page(request, registry, user, "work/confirm.html", {
                "title": t("portal.cert.action." + action), "question": t("portal.cert.confirm_" + action),
                "lines": lines, "action": f"/work/certificates/{cert_id}/{action}", "hidden": list(values.items()),
                "editable": True, "button": t("portal.cert.confirm_button." + action),
                "danger": action in ("revoke", "reissue"),
                "warning": t("portal.cert.warning_" + action) if action in ("revoke", "reissue") else None},
                here="certificates")
        detail_text = values["detail"] or None
        try:
            if action == "revoke":
                target = certificates.revoke(session, registry, user, cert_id, values["reason"], detail_text)
            elif action == "suspend":
                target = certificates.suspend(session, registry, user, cert_id, detail_text)
            elif action == "unsuspend":
                target = certificates.unsuspend(session, registry, user, cert_id, detail_text)
            else:
                target = certificates.reissue(session, registry, user, cert_id, values["reason"], detail_text)
        except AppError as e:
            session.rollback()
            field = getattr(e, "field", None)
            errs = {field: error_text(request, e)} if field in ("reason", "detail") else {}
            return _cert_page(request, session, registry, user, certificates.get(session, user, cert_id), form=action,
                              values=values, errors=errs, error=error_text(request, e), status_code=e.status)
        return RedirectResponse(f"/work/certificates/{target.id}?done={DONE[action]}", status_code=303)

    return guarded(request, registry, user, body, csrf=csrf, here="certificates")


# ------------------------------------------------------------------ issuing


@router.get("/work/issuing")
def issuing_page(request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    def body() -> Response:
        require_bureau(user, "only the bureau issues certificates")
        approved = [app_view(session, a) for a in applications.list_for(session, user, state="approved",
                                                                         limit=LIST_LIMIT)]
        batches = sorted({a["batch_id"] for a in approved if a["batch_id"] is not None})
        return page(request, registry, user, "work/issuing.html", {"apps": approved, "batches": batches},
                    here="issuing")

    return guarded(request, registry, user, body, here="issuing")


def _batch_choice(value: str) -> int | None:
    return int(value) if value.isdigit() and 0 < int(value) < 2_147_483_647 else None


@router.post("/work/issuing/run")
def issuing_run(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                csrf: Annotated[str, Form(max_length=64)] = "",
                batch_id: Annotated[str, Form(max_length=12)] = "",
                confirm: Annotated[str, Form(max_length=4)] = "") -> Response:
    def body() -> Response:
        t = _t(request)
        require_bureau(user, "only the bureau issues certificates")
        batch = _batch_choice(batch_id)
        if not confirm:
            waiting = applications.list_for(session, user, state="approved", batch_id=batch, limit=LIST_LIMIT)
            lines = [(t("portal.issuing.scope"), t("portal.issuing.scope_batch", batch=batch) if batch
                      else t("portal.issuing.scope_all")), (t("portal.issuing.count"), str(len(waiting)))]
            return page(request, registry, user, "work/confirm.html", {
                "title": t("portal.issuing.title"), "question": t("portal.issuing.confirm_run"), "lines": lines,
                "action": "/work/issuing/run", "hidden": [("batch_id", str(batch or ""))], "editable": False,
                "cancel": "/work/issuing", "button": t("portal.issuing.run"), "danger": False}, here="issuing")
        result = issuance.run_batch(session, registry, user, batch)
        issued = [{"id": c.id, "number": c.certificate_number, "name": c.name, "application_id": c.application_id}
                  for c in result.issued]
        failed = [{"application_id": f.get("applicationId"),
                   "reason": error_text(request, AppError(str(f.get("code") or ""), str(f.get("message") or "")))}
                  for f in result.failed]
        return page(request, registry, user, "work/issued.html", {"issued": issued, "failed": failed},
                    here="issuing")

    return guarded(request, registry, user, body, csrf=csrf, here="issuing")


@router.post("/work/applications/{app_id}/issue")
def issue_one(app_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
              csrf: Annotated[str, Form(max_length=64)] = "",
              confirm: Annotated[str, Form(max_length=4)] = "") -> Response:
    def body() -> Response:
        t = _t(request)
        require_bureau(user, "only the bureau issues certificates")
        if not confirm:
            view = app_view(session, applications.get(session, user, app_id))
            lines = [(t("portal.col.id"), f"#{app_id}"), (t("portal.fact.name"), view["name"]),
                     (t("portal.fact.idNumberMasked"), view["id_masked"]),
                     (t("portal.fact.qualification"), view["qualification"])]
            return page(request, registry, user, "work/confirm.html", {
                "title": t("portal.issuing.title"), "question": t("portal.issuing.confirm_one"), "lines": lines,
                "action": f"/work/applications/{app_id}/issue", "hidden": [], "editable": False,
                "cancel": "/work/issuing", "button": t("portal.issuing.issue"), "danger": False}, here="issuing")
        cert = issuance.issue_application(session, registry, user, app_id)
        return RedirectResponse(f"/work/certificates/{cert.id}?done=issued", status_code=303)

    return guarded(request, registry, user, body, csrf=csrf, here="issuing")


# A GET of a form's address (the language switch or a reload of a page a POST rendered) goes back to
# the page the form is on.


@router.get("/work/certificates/{cert_id}/{action}")
def certificate_action_get(cert_id: Id, action: str, request: Request) -> Response:
    return back_to(request, f"/work/certificates/{cert_id}")


@router.get("/work/issuing/run")
def issuing_run_get(request: Request) -> Response:
    return back_to(request, "/work/issuing")
