"""The holder's portal (/me): their certificates with downloads (the PDF, the full and the minimal
credential), consent codes for lookups and the log of every lookup, applications (self-appointment,
exam, entrusted review, paper conversion) followed through their review chain, requests for a reissue
(补发) of a lost or damaged certificate and the bureau's decision, and the contact details one-time
sign-in codes go to (a new phone or e-mail confirmed with the code sent to it).

Every page calls the services with the signed-in holder's principal and holds no rule: who may see
what, what an application must state, what a consent code may be are the services' to decide, and
their refusals are shown as they come. Every POST carries the session's CSRF token.

It must never show a full ID number (the holder's own included: pages get the masked form only, the
full one is only in the downloaded credential), nor show a consent code anywhere but the one answer
that created it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from schemas import titles
from titlecred.api.deps import Id, RegistryDep, SessionDep
from titlecred.db.models import Account, Application, Certificate, Organization, ReissueRequest
from titlecred.errors import AppError
from titlecred.services import (
    applications,
    certificates,
    consent,
    conversion,
    orgs,
    otp,
    printouts,
    ratelimit,
    reissue_requests,
)
from titlecred.services.context import Registry
from titlecred.services.errors import Forbidden, NotFound
from titlecred.services.principal import Principal
from titlecred.web import session as web_session
from titlecred.web.deps import User
from titlecred.web.i18n import LANGUAGES, catalogs, pick_language, translator
from titlecred.web.routes.lookup import subject_facts
from titlecred.web.templating import render
from titlecred.web.views import chain_view, when

router = APIRouter(include_in_schema=False)

JSONLD = "application/ld+json"
LOG_PAGE = 50
# Offered validities of a consent code, in minutes; only those within the registry's bounds are shown.
VALIDITIES = (10, 30, 120, 1440, 10080)
APP_FIELDS = ("qualification", "series", "specialty", "level", "dateQualified", "namePinyin", "reviewBody",
              "reportingUnit", "scopeOfUse")
PAPER_FIELDS = ("series", "qualification", "specialty", "level", "oldCertificateNumber", "appointmentDocument",
                "issueDate", "issuingBody", "dateQualified", "namePinyin", "reportingUnit", "scopeOfUse")
HOLDER_CHANNELS = ("self_appointment", "exam", "entrusted_review")


async def _form_fields(request: Request) -> dict[str, str]:
    """A form's text fields (files aside), for forms whose fields depend on what is being edited."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


FormFields = Annotated[dict[str, str], Depends(_form_fields)]


def _clean(value: str | None) -> str:
    return "".join(ch for ch in (value or "") if ch.isprintable()).strip()[:200]


def error_text(request: Request, e: AppError) -> str:
    """A service's refusal in the reader's language where the catalog knows its code, else its own words."""
    lang = pick_language(request)
    t, table = translator(lang), catalogs()[lang]
    key = "holder.err." + e.code
    text = t(key) if key in table else e.message
    field = getattr(e, "field", None)
    if isinstance(field, str) and f"holder.field.{field}" in table:
        return f"{t('holder.field.' + field)}: {text}"
    return text


def _page(request: Request, registry: Registry, user: Principal, name: str, ctx: dict[str, Any], *,
          status_code: int = 200) -> Response:
    context = {"when": when, "here": "/me", **ctx}
    return render(request, name, context, status_code=status_code, user=user,
                  csrf=web_session.csrf_token(request, registry))


def _guarded(request: Request, registry: Registry, user: Principal, body: Callable[[], Response], *,
             csrf: str | None = None) -> Response:
    """Run a page for a holder: other accounts go to their own workbench; a refusal becomes an error page."""
    if not user.is_holder:
        return RedirectResponse("/work", status_code=303)
    try:
        if csrf is not None:
            web_session.check_csrf(request, registry, csrf)
        return body()
    except AppError as e:
        return _page(request, registry, user, "holder/error.html", {"message": error_text(request, e)},
                     status_code=e.status)


def _attachment(data: bytes, media_type: str, filename: str) -> Response:
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


def _org_name(session: Session, org_id: int | None) -> str:
    org = session.get(Organization, org_id) if org_id is not None else None
    return org.name if org else ""


# ------------------------------------------------------------------ certificates


def _cert_view(session: Session, cert: Certificate) -> dict[str, Any]:
    minimal = json.loads(cert.minimal_json)
    subject = minimal.get("credentialSubject", {})
    successor = certificates.reissue_of(session, cert)
    predecessor = session.get(Certificate, cert.reissue_of_id) if cert.reissue_of_id else None
    return {"id": cert.id, "number": cert.certificate_number, "state": cert.state, "name": cert.name,
            "predecessor": {"id": predecessor.id, "number": predecessor.certificate_number} if predecessor else None,
            "qualification": cert.qualification, "series": subject.get("series", ""),
            "specialty": subject.get("specialty", ""), "level": subject.get("level", ""),
            "channel": subject.get("reviewChannel", ""), "issued_at": when(cert.issued_at),
            "printable": cert.state in ("active", "suspended"), "successor": successor.id if successor else None,
            "facts": subject_facts(minimal), "revoked_at": when(cert.revoked_at),
            "suspended_at": when(cert.suspended_at)}


def _own_cert(session: Session, user: Principal, cert_id: int) -> Certificate:
    cert = certificates.get(session, user, cert_id)
    if not certificates.sees_full(user, cert):
        raise Forbidden("this certificate is not yours")
    return cert


@router.get("/me")
def me(request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    def body() -> Response:
        account, person, _home = applications.holder_context(session, user)
        certs = certificates.search(session, registry, user)
        apps = [a for a in applications.list_for(session, user) if a.state in ("pending", "returned", "approved")]
        open_reissues = [_reissue_view(session, r) for r in reissue_requests.list_requests(session, user, "pending")]
        asked = {r["cert_id"] for r in open_reissues}
        return _page(request, registry, user, "holder/me.html", {
            "name": person.name,
            "certs": [{**_cert_view(session, c), "reissue_pending": c.id in asked} for c in reversed(certs)],
            "open_apps": [_app_row(session, a) for a in reversed(apps)], "open_reissues": open_reissues,
            "has_contact": bool(account.phone or account.email)})

    return _guarded(request, registry, user, body)


def _validities(registry: Registry) -> list[int]:
    low = registry.config.consent_min.total_seconds() / 60
    high = registry.config.consent_max.total_seconds() / 60
    return [m for m in VALIDITIES if low <= m <= high]


def _reasons(request: Request) -> list[tuple[str, str]]:
    """The reissue reasons (certificates.REISSUE_REASONS) named in the reader's language."""
    t = translator(pick_language(request))
    return [(code, t("holder.reissue_reason." + code)) for code in certificates.REISSUE_REASONS]


def _cert_page(request: Request, session: Session, registry: Registry, user: Principal, cert: Certificate, *,
               error: str | None = None, status_code: int = 200, verifier: str = "",
               reissue_error: str | None = None, reissue_values: dict[str, str] | None = None) -> Response:
    codes = [c for c in consent.list_codes(session, registry, user) if c.certificate_id == cert.id]
    log = [e for e in consent.lookup_log(session, user, limit=500) if e.certificate_id == cert.id][:10]
    assert cert.id is not None
    asked = [_reissue_view(session, r) for r in reissue_requests.list_requests(session, user, certificate_id=cert.id)]
    return _page(request, registry, user, "holder/certificate.html", {
        "cert": _cert_view(session, cert), "codes": codes, "log": log, "validities": _validities(registry),
        "error": error, "verifier": verifier, "reissues": asked,
        "reissue_open": next((r for r in asked if r["state"] == "pending"), None),
        "reissue_allowed": cert.state in reissue_requests.REISSUABLE, "reissue_reasons": _reasons(request),
        "reissue_error": reissue_error, "reissue_values": reissue_values or {},
        "reissue_sent": request.query_params.get("reissue") == "requested"}, status_code=status_code)


@router.get("/me/certificates/{cert_id}")
def certificate_page(cert_id: Id, request: Request, session: SessionDep, registry: RegistryDep,
                     user: User) -> Response:
    return _guarded(request, registry, user,
                    lambda: _cert_page(request, session, registry, user, _own_cert(session, user, cert_id)))


@router.get("/me/certificates/{cert_id}/pdf")
def certificate_pdf(cert_id: Id, request: Request, session: SessionDep, registry: RegistryDep,
                    user: User) -> Response:
    def body() -> Response:
        _own_cert(session, user, cert_id)
        printout = printouts.certificate_pdf(session, registry, user, cert_id)
        return _attachment(printout.data, printouts.PDF_MEDIA_TYPE, printout.filename)

    return _guarded(request, registry, user, body)


@router.get("/me/certificates/{cert_id}/{form}.json")
def certificate_json(cert_id: Id, form: str, request: Request, session: SessionDep, registry: RegistryDep,
                     user: User) -> Response:
    def body() -> Response:
        if form not in ("full", "minimal"):
            raise NotFound("download")
        cert = _own_cert(session, user, cert_id)
        text = cert.full_json if form == "full" else cert.minimal_json
        return _attachment(text.encode("utf-8"), JSONLD, f"{cert.certificate_number}.{form}.json")

    return _guarded(request, registry, user, body)


@router.post("/me/certificates/{cert_id}/consent")
def create_consent(cert_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
                   csrf: Annotated[str, Form(max_length=64)] = "",
                   valid_minutes: Annotated[int, Form(ge=1, le=1_000_000)] = 30,
                   verifier: Annotated[str, Form(max_length=200)] = "") -> Response:
    def body() -> Response:
        named = _clean(verifier)
        cert = _own_cert(session, user, cert_id)
        try:
            row, code = consent.create_code(session, registry, user, cert_id, verifier=named or None,
                                            valid_minutes=valid_minutes)
        except AppError as e:
            return _cert_page(request, session, registry, user, cert, error=error_text(request, e),
                              status_code=e.status, verifier=named)
        return _page(request, registry, user, "holder/code.html", {
            "code": code, "number": cert.certificate_number, "cert_id": cert.id, "expires": when(row.expires_at),
            "verifier": row.verifier, "minutes": valid_minutes})

    return _guarded(request, registry, user, body, csrf=csrf)


# ------------------------------------------------------------------ reissue (补发) requests


def _reissue_view(session: Session, row: ReissueRequest) -> dict[str, Any]:
    cert = session.get(Certificate, row.certificate_id)
    new = session.get(Certificate, row.new_certificate_id) if row.new_certificate_id else None
    return {"id": row.id, "cert_id": row.certificate_id, "number": cert.certificate_number if cert else "",
            "qualification": cert.qualification if cert else "", "reason": row.reason, "detail": row.detail or "",
            "state": row.state, "created": when(row.created_at), "decided": when(row.decided_at),
            "decision_reason": row.decision_reason or "", "new_cert_id": row.new_certificate_id,
            "new_number": new.certificate_number if new else None}


@router.post("/me/certificates/{cert_id}/reissue")
def request_reissue(cert_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
                    csrf: Annotated[str, Form(max_length=64)] = "",
                    reason: Annotated[str, Form(max_length=32)] = "",
                    detail: Annotated[str, Form(max_length=2000)] = "") -> Response:
    def body() -> Response:
        cert = _own_cert(session, user, cert_id)
        values = {"reason": reason if reason in certificates.REISSUE_REASONS else "",
                  # Line breaks become spaces: the detail is one line of printable text.
                  "detail": " ".join("".join(ch if ch.isprintable() else " " for ch in detail).split())}
        try:
            reissue_requests.request_reissue(session, registry, user, cert_id, values["reason"],
                                             values["detail"] or None)
        except AppError as e:
            session.rollback()
            return _cert_page(request, session, registry, user, cert, reissue_error=error_text(request, e),
                              reissue_values=values, status_code=e.status)
        return RedirectResponse(f"/me/certificates/{cert_id}?reissue=requested#reissue", status_code=303)

    return _guarded(request, registry, user, body, csrf=csrf)


def _back_to(request: Request, path: str) -> Response:
    """A GET of a form's POST address (the language switch of a page a POST rendered, a reload): back to
    the page the form is on, in the language asked for."""
    lang = request.query_params.get("lang")
    return RedirectResponse(path + (f"?lang={lang}" if lang in LANGUAGES else ""), status_code=303)


@router.get("/me/certificates/{cert_id}/reissue")
def request_reissue_get(cert_id: Id, request: Request) -> Response:
    return _back_to(request, f"/me/certificates/{cert_id}")


# ------------------------------------------------------------------ consent codes and the lookup log


@router.get("/me/consent")
def consent_page(request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    return _guarded(request, registry, user, lambda: _page(
        request, registry, user, "holder/consent.html",
        {"codes": consent.list_codes(session, registry, user), "here": "/me/consent"}))


@router.post("/me/consent/{code_id}/revoke")
def revoke_consent(code_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
                   csrf: Annotated[str, Form(max_length=64)] = "",
                   back: Annotated[str, Form(max_length=200)] = "") -> Response:
    def body() -> Response:
        consent.revoke_code(session, registry, user, code_id)
        return RedirectResponse(web_session.safe_next(back, "/me/consent"), status_code=303)

    return _guarded(request, registry, user, body, csrf=csrf)


@router.get("/me/log")
def log_page(request: Request, session: SessionDep, registry: RegistryDep, user: User, page: int = 1) -> Response:
    page = max(1, min(page, 100_000))

    def body() -> Response:
        entries = consent.lookup_log(session, user, limit=LOG_PAGE + 1, offset=(page - 1) * LOG_PAGE)
        return _page(request, registry, user, "holder/log.html", {
            "entries": entries[:LOG_PAGE], "page": page, "more": len(entries) > LOG_PAGE, "here": "/me/log"})

    return _guarded(request, registry, user, body)


# ------------------------------------------------------------------ contact details


def _contact_page(request: Request, session: Session, registry: Registry, user: Principal, *,
                  phone: str | None = None, email: str | None = None, error: str | None = None,
                  error_field: str | None = None, status_code: int = 200) -> Response:
    account, _person, _home = applications.holder_context(session, user)
    pending = [{"field": otp.field_of(p), "destination": p.destination, "expires": when(p.expires_at)}
               for p in otp.pending_changes(session, registry, user)]
    done = request.query_params.get("done") if error is None else None
    return _page(request, registry, user, "holder/contact.html", {
        "phone": (account.phone or "") if phone is None else phone,
        "email": (account.email or "") if email is None else email, "here": "/me/contact",
        "pending": pending, "done": done if done in ("sent", "saved") else None, "error": error,
        "error_field": error_field}, status_code=status_code)


@router.get("/me/contact")
def contact_page(request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    return _guarded(request, registry, user, lambda: _contact_page(request, session, registry, user))


def _rate_limited_text(request: Request, e: ratelimit.RateLimited) -> str:
    minutes = max(1, (e.retry_after_seconds + 59) // 60)
    return translator(pick_language(request))("holder.contact.too_many", minutes=minutes)


@router.post("/me/contact")
def contact_submit(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                   csrf: Annotated[str, Form(max_length=64)] = "",
                   phone: Annotated[str, Form(max_length=32)] = "",
                   email: Annotated[str, Form(max_length=254)] = "") -> Response:
    def body() -> Response:
        new_phone, new_email = _clean(phone), _clean(email)
        try:
            result = otp.set_contact(session, registry, user, phone=new_phone or None, email=new_email or None)
        except AppError as e:
            session.rollback()
            text = _rate_limited_text(request, e) if isinstance(e, ratelimit.RateLimited) else error_text(request, e)
            return _contact_page(request, session, registry, user, phone=new_phone, email=new_email, error=text,
                                 error_field=getattr(e, "field", None), status_code=e.status)
        done = "sent" if result.pending else "saved"
        return RedirectResponse(f"/me/contact?done={done}", status_code=303)

    return _guarded(request, registry, user, body, csrf=csrf)


@router.post("/me/contact/confirm")
def contact_confirm(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                    csrf: Annotated[str, Form(max_length=64)] = "",
                    field: Annotated[str, Form(max_length=8)] = "",
                    code: Annotated[str, Form(max_length=16)] = "") -> Response:
    def body() -> Response:
        try:
            otp.confirm_contact(session, registry, user, field=field, code=code)
        except AppError as e:
            session.rollback()
            return _contact_page(request, session, registry, user, error=error_text(request, e),
                                 error_field=f"code-{field}" if field in otp.FIELDS else None, status_code=e.status)
        return RedirectResponse("/me/contact?done=saved", status_code=303)

    return _guarded(request, registry, user, body, csrf=csrf)


@router.get("/me/contact/confirm")
def contact_confirm_get(request: Request) -> Response:
    return _back_to(request, "/me/contact")


# ------------------------------------------------------------------ applications


def _app_row(session: Session, app: Application) -> dict[str, Any]:
    facts = applications.facts_of(app)
    cert = applications.certificate_of(session, app)
    return {"id": app.id, "channel": app.channel, "state": app.state, "qualification": facts.get("qualification", ""),
            "level": facts.get("level", ""), "stage": applications.current_stage(app),
            "stage_org": _org_name(session, app.stage_org_id), "updated": when(app.updated_at),
            "created": when(app.created_at), "cert_id": cert.id if cert else None,
            "cert_printable": cert is not None and cert.state in ("active", "suspended")}


def _app_detail(session: Session, app: Application) -> dict[str, Any]:
    steps = applications.steps(session, app)
    step_rows = []
    for s in steps:
        actor = session.get(Account, s.actor_account_id) if s.actor_account_id else None
        step_rows.append({"at": when(s.at), "stage": s.stage, "action": s.action, "org": _org_name(session, s.org_id),
                          "actor": actor.display_name if actor else "", "reason": s.reason})
    facts = applications.facts_of(app)
    paper = json.loads(app.paper_json) if app.paper_json else None
    shown = [(k, str(facts[k])) for k in ("qualification", "series", "specialty", "level", "dateQualified",
                                          "reviewBody", "reportingUnit", "scopeOfUse", "namePinyin") if facts.get(k)]
    if facts.get("annotations"):
        shown.append(("annotations", "；".join(str(a) for a in facts["annotations"])))
    chain = chain_view(app, steps, lambda org_id: _org_name(session, org_id))
    return {**_app_row(session, app), "chain": chain, "steps": step_rows,
            "facts": shown, "raw": facts, "paper": paper,
            "paper_shown": [(k, str(paper[k])) for k in PAPER_FIELDS if paper and paper.get(k)]}


@router.get("/me/applications")
def applications_page(request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    return _guarded(request, registry, user, lambda: _page(
        request, registry, user, "holder/applications.html",
        {"apps": [_app_row(session, a) for a in reversed(applications.list_for(session, user))],
         "reissues": [_reissue_view(session, r) for r in reissue_requests.list_requests(session, user, limit=500)],
         "here": "/me/applications"}))


def _new_app_page(request: Request, session: Session, registry: Registry, user: Principal,
                  values: dict[str, str], *, error: str | None = None, error_field: str | None = None,
                  status_code: int = 200) -> Response:
    _account, person, home = applications.holder_context(session, user)
    return _page(request, registry, user, "holder/apply.html", {
        "values": values, "error": error, "error_field": error_field,
        "exam_bodies": orgs.list_orgs(session, user, kind="exam_body"), "series_names": titles.series_names(),
        "levels": list(titles.LEVELS), "employer": home.name, "default_pinyin": person.name_pinyin or "",
        "channels": HOLDER_CHANNELS, "here": "/me/applications"}, status_code=status_code)


@router.get("/me/applications/new")
def new_application(request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    return _guarded(request, registry, user, lambda: _new_app_page(
        request, session, registry, user, {"channel": "self_appointment"}))


@router.post("/me/applications")
def submit_application(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                       fields: FormFields) -> Response:
    def body() -> Response:
        values = {k: _clean(fields.get(k)) for k in ("channel", "examBodyId", *APP_FIELDS)}
        data: dict[str, Any] = {k: values[k] for k in ("channel", *APP_FIELDS) if values[k]}
        if values["channel"] == "exam" and values["examBodyId"].isdigit():
            data["examBodyId"] = int(values["examBodyId"])
        try:
            app = applications.submit(session, registry, user, data)
        except AppError as e:
            return _new_app_page(request, session, registry, user, values, error=error_text(request, e),
                                 error_field=getattr(e, "field", None), status_code=e.status)
        return RedirectResponse(f"/me/applications/{app.id}", status_code=303)

    return _guarded(request, registry, user, body, csrf=fields.get("csrf", ""))


def _app_page(request: Request, session: Session, registry: Registry, user: Principal, app: Application, *,
              error: str | None = None, error_field: str | None = None, status_code: int = 200,
              values: dict[str, str] | None = None) -> Response:
    detail = _app_detail(session, app)
    if values is None:
        values = {k: str(v) for k, v in (detail["paper"] or detail["raw"]).items() if isinstance(v, str)}
        if detail["paper"] and detail["paper"].get("validOnlyInNonPublic"):
            values["validOnlyInNonPublic"] = "on"
    return _page(request, registry, user, "holder/application.html", {
        "app": detail, "error": error, "error_field": error_field, "values": values,
        "levels": list(titles.LEVELS), "series_names": titles.series_names(), "here": "/me/applications",
        "fields": PAPER_FIELDS if app.channel == "conversion" else APP_FIELDS}, status_code=status_code)


@router.get("/me/applications/{app_id}")
def application_page(app_id: Id, request: Request, session: SessionDep, registry: RegistryDep,
                     user: User) -> Response:
    return _guarded(request, registry, user, lambda: _app_page(
        request, session, registry, user, applications.get(session, user, app_id)))


@router.get("/me/applications/{app_id}/photos/{side}")
def application_photo(app_id: Id, side: str, request: Request, session: SessionDep, registry: RegistryDep,
                      user: User) -> Response:
    def body() -> Response:
        row = conversion.photo(session, user, app_id, side)
        return Response(row.data, media_type=row.media_type, headers={"Cache-Control": "private, no-store",
                                                                      "X-Content-Type-Options": "nosniff"})

    return _guarded(request, registry, user, body)


@router.post("/me/applications/{app_id}/resubmit")
def resubmit_application(app_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
                         fields: FormFields) -> Response:
    def body() -> Response:
        app = applications.get(session, user, app_id)
        conv = app.channel == "conversion"
        current: dict[str, Any] = json.loads(app.paper_json or "{}") if conv else applications.facts_of(app)
        values = {k: _clean(fields.get(k)) for k in (PAPER_FIELDS if conv else APP_FIELDS)}
        # Only what the holder changed is sent as a correction; an untouched form resubmits as it was.
        changes: dict[str, Any] = {k: v for k, v in values.items() if v and v != current.get(k)}
        if conv:
            non_public = fields.get("validOnlyInNonPublic") == "on"
            if non_public != bool(current.get("validOnlyInNonPublic", False)):
                changes["validOnlyInNonPublic"] = non_public
            if non_public:
                values["validOnlyInNonPublic"] = "on"
        try:
            applications.resubmit(session, registry, user, app_id, changes or None)
        except AppError as e:
            fresh = applications.get(session, user, app_id)
            return _app_page(request, session, registry, user, fresh, error=error_text(request, e),
                             error_field=getattr(e, "field", None), status_code=e.status, values=values)
        return RedirectResponse(f"/me/applications/{app_id}", status_code=303)

    return _guarded(request, registry, user, body, csrf=fields.get("csrf", ""))


# ------------------------------------------------------------------ paper conversion


def _conversion_page(request: Request, session: Session, registry: Registry, user: Principal,
                     values: dict[str, str], *, error: str | None = None, error_field: str | None = None,
                     status_code: int = 200) -> Response:
    _account, person, home = applications.holder_context(session, user)
    config = registry.config
    return _page(request, registry, user, "holder/convert.html", {
        "values": values, "error": error, "error_field": error_field, "levels": list(titles.LEVELS),
        "series_names": titles.series_names(), "employer": home.name, "default_pinyin": person.name_pinyin or "",
        "scope_levels": "、".join(config.conversion_levels), "scope_before": config.conversion_before,
        "max_bytes": conversion.MAX_PHOTO_BYTES, "here": "/me/applications"}, status_code=status_code)


@router.get("/me/conversions/new")
def new_conversion(request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    return _guarded(request, registry, user, lambda: _conversion_page(request, session, registry, user, {}))


@router.post("/me/conversions")
def submit_conversion(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                      fields: FormFields, cover1: Annotated[UploadFile | None, File()] = None,
                      cover2: Annotated[UploadFile | None, File()] = None) -> Response:
    def body() -> Response:
        values = {k: _clean(fields.get(k)) for k in PAPER_FIELDS}
        paper: dict[str, Any] = {k: v for k, v in values.items() if v}
        if fields.get("validOnlyInNonPublic") == "on":
            paper["validOnlyInNonPublic"] = True
            values["validOnlyInNonPublic"] = "on"
        photos = {}
        for side, upload in (("cover1", cover1), ("cover2", cover2)):
            # One byte more than allowed is enough for the service to tell it is too large.
            data = upload.file.read(conversion.MAX_PHOTO_BYTES + 1) if upload is not None else b""
            if data:
                photos[side] = conversion.PhotoUpload(data, upload.content_type if upload else None)
        try:
            app = conversion.submit(session, registry, user, paper, photos)
        except AppError as e:
            return _conversion_page(request, session, registry, user, values, error=error_text(request, e),
                                    error_field=getattr(e, "field", None), status_code=e.status)
        return RedirectResponse(f"/me/applications/{app.id}", status_code=303)

    return _guarded(request, registry, user, body, csrf=fields.get("csrf", ""))
