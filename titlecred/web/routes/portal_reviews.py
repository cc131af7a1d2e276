"""The workbench's review pages: the queue of applications awaiting this organization's stage, one
application with its chain and steps (approve, reject with a reason, return for correction with a
reason; a confirmation step before anything changes), the correction of a returned committee row by
its uploader, and committee bulk uploads with their per-row error report and past batches.

The pages call `services.applications` and `services.uploads` with the signed-in principal: whose
turn it is, what a decision needs and what a row must state are the services' to decide. The pages
only check that a form's required fields are filled before asking for confirmation (the same fields
the form marks as required), so that the confirmation never asks about a form that cannot pass.

It must never show a full ID number: not the stored one (pages get the masked form from `app_view`),
and not one typed into a correction form (the field always comes back empty).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from schemas import titles
from titlecred.api.deps import Id, RegistryDep, SessionDep
from titlecred.db.models import Application
from titlecred.errors import AppError
from titlecred.services import applications, conversion, uploads
from titlecred.services.context import Registry
from titlecred.services.errors import InvalidRows, NotFound
from titlecred.services.principal import BUREAU, UPLOADER_KINDS, Principal
from titlecred.web.deps import User
from titlecred.web.i18n import pick_language, translator
from titlecred.web.routes.portal import (
    app_detail,
    app_view,
    back_to,
    clean,
    error_text,
    field_name,
    guarded,
    page,
    when,
)

router = APIRouter(include_in_schema=False)

# What an uploader may correct in a returned row, in the order of the upload's columns (the ID number
# is a field of its own: it is never shown, only replaced when a new one is typed).
CORRECTABLE = ("name", "namePinyin", "gender", "reportingUnit", "qualification", "series", "specialty", "level",
               "reviewBody", "dateQualified", "scopeOfUse")
# The columns of the upload template, as printed on the national forms (services.rows knows the aliases).
TEMPLATE_COLUMNS = ("姓名", "姓名拼音", "性别", "身份证号", "呈报单位", "资格名称", "系列", "专业", "级别", "评审机构",
                    "取得资格时间", "适用范围", "备注")
TEMPLATE_FIELDS = ("name", "namePinyin", "gender", "idNumber", "reportingUnit", "qualification", "series", "specialty",
                   "level", "reviewBody", "dateQualified", "scopeOfUse", "annotations")
MAX_UPLOAD_BYTES = 1024 * 1024
DONE = ("approved", "held", "rejected", "returned", "issued", "resubmitted")


def _t(request: Request) -> Any:
    return translator(pick_language(request))


def _done_notice(request: Request, done: str | None, app_id: str | None) -> str | None:
    if done not in DONE:
        return None
    number = app_id if app_id and app_id.isdigit() else ""
    return str(_t(request)("portal.review.done." + done, id=number))


# ------------------------------------------------------------------ the queue


@router.get("/work/reviews")
def queue(request: Request, session: SessionDep, registry: RegistryDep, user: User, tab: str = "queue",
          done: str | None = None, app: str | None = None) -> Response:
    def body() -> Response:
        everything = tab == "all"
        rows = applications.list_for(session, user, awaiting_me=not everything, limit=500)
        if everything:
            rows = list(reversed(rows))  # the newest first: what was just decided is on top
        return page(request, registry, user, "work/reviews.html", {
            "apps": [app_view(session, a) for a in rows], "tab": "all" if everything else "queue",
            "notice": _done_notice(request, done, app)}, here="reviews")

    return guarded(request, registry, user, body, here="reviews")


# ------------------------------------------------------------------ one application


def _detail_page(request: Request, session: Session, registry: Registry, user: Principal, app: Application, *,
                 review: dict[str, str] | None = None, review_errors: dict[str, str] | None = None,
                 correction: dict[str, str] | None = None, correction_error: tuple[str, str | None] | None = None,
                 error: str | None = None, notice: str | None = None, status_code: int = 200) -> Response:
    detail = app_detail(session, app)
    chain = applications.chain_of(app)
    # Whether to offer the forms; the services decide whether the step is allowed.
    can_review = app.state == "pending" and app.stage_org_id == user.org_id
    final_stage = can_review and app.stage_index == len(chain) - 1
    can_correct = app.state == "returned" and applications.is_applicant(user, app)
    facts = applications.facts_of(app)
    values = correction if correction is not None else {k: str(facts.get(k, "")) for k in CORRECTABLE}
    return page(request, registry, user, "work/application.html", {
        "app": detail, "can_review": can_review, "final_stage": final_stage,
        "offer_issue": final_stage and user.org_kind == BUREAU,
        "review": review or {"decision": "", "reason": "", "issue": "now"}, "review_errors": review_errors or {},
        "can_correct": can_correct, "values": values, "levels": list(titles.LEVELS),
        "correction_error": correction_error, "correctable": CORRECTABLE, "error": error, "notice": notice,
        "paper": app.paper_json is not None}, status_code=status_code, here="reviews")


@router.get("/work/applications/{app_id}")
def application_page(app_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
                     done: str | None = None) -> Response:
    def body() -> Response:
        app = applications.get(session, user, app_id)
        return _detail_page(request, session, registry, user, app, notice=_done_notice(request, done, str(app_id)))

    return guarded(request, registry, user, body, here="reviews")


@router.post("/work/applications/{app_id}/review")
def review_submit(app_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
                  csrf: Annotated[str, Form(max_length=64)] = "",
                  decision: Annotated[str, Form(max_length=16)] = "",
                  reason: Annotated[str, Form(max_length=2000)] = "",
                  issue: Annotated[str, Form(max_length=8)] = "now",
                  confirm: Annotated[str, Form(max_length=4)] = "",
                  edit: Annotated[str, Form(max_length=4)] = "") -> Response:
    def body() -> Response:
        t = _t(request)
        app = applications.get(session, user, app_id)
        values = {"decision": decision if decision in applications.DECISIONS else "", "reason": clean(reason),
                  "issue": "later" if issue == "later" else "now"}
        errors: dict[str, str] = {}
        if not values["decision"]:
            errors["decision"] = t("portal.review.choose_decision")
        elif values["decision"] != "approve" and not values["reason"]:
            errors["reason"] = t("portal.review.reason_required")
        if errors or edit:
            return _detail_page(request, session, registry, user, app, review=values, review_errors=errors,
                                error=t("portal.form_has_errors") if errors else None,
                                status_code=422 if errors else 200)
        view = app_view(session, app)
        if not confirm:
            lines = [(t("portal.col.id"), f"#{app.id}"), (t("portal.fact.name"), view["name"]),
                     (t("portal.fact.idNumberMasked"), view["id_masked"]),
                     (t("portal.fact.qualification"), view["qualification"]),
                     (t("portal.col.stage"), t("portal.stage." + str(view["stage"]))),
                     (t("portal.review.decision"), t("portal.decision." + values["decision"]))]
            if values["reason"]:
                lines.append((t("portal.review.reason"), values["reason"]))
            final = app.stage_index == len(applications.chain_of(app)) - 1
            if values["decision"] == "approve" and final and user.org_kind == BUREAU:
                lines.append((t("portal.review.issue"), t("portal.review.issue_" + values["issue"])))
            return page(request, registry, user, "work/confirm.html", {
                "title": t("portal.review.confirm_title", id=app.id), "question": t(
                    "portal.review.confirm_" + values["decision"]), "lines": lines,
                "action": f"/work/applications/{app.id}/review", "hidden": list(values.items()), "editable": True,
                "button": t("portal.decision.confirm_" + values["decision"]),
                "danger": values["decision"] == "reject"}, here="reviews")
        try:
            outcome = applications.review(session, registry, user, app_id, values["decision"],
                                          values["reason"] or None, issue=values["issue"] == "now")
        except AppError as e:
            session.rollback()
            field = getattr(e, "field", None)
            errs = {field: error_text(request, e)} if field in ("decision", "reason") else {}
            return _detail_page(request, session, registry, user, applications.get(session, user, app_id),
                                review=values, review_errors=errs, error=error_text(request, e),
                                status_code=e.status)
        state = outcome.application.state
        # pending: passed on to the next stage; approved: the last stage, left for a batch run.
        done = "issued" if outcome.certificate is not None else {"pending": "approved", "approved": "held"}.get(
            state, state)
        return RedirectResponse(f"/work/reviews?done={done}&app={app_id}", status_code=303)

    return guarded(request, registry, user, body, csrf=csrf, here="reviews")


@router.post("/work/applications/{app_id}/resubmit")
async def resubmit_submit(app_id: Id, request: Request, session: SessionDep, registry: RegistryDep,
                          user: User) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_resubmit, app_id, request, session, registry, user, fields)


def _resubmit(app_id: int, request: Request, session: Session, registry: Registry, user: Principal,
              fields: dict[str, str]) -> Response:
    def body() -> Response:
        app = applications.get(session, user, app_id)
        facts = applications.facts_of(app)
        values = {k: clean(fields.get(k), 200) for k in CORRECTABLE}
        changes: dict[str, Any] = {k: v for k, v in values.items() if v and v != str(facts.get(k, ""))}
        new_id = clean(fields.get("idNumber"), 32)
        if new_id:
            changes["idNumber"] = new_id
        try:
            applications.resubmit(session, registry, user, app_id, changes or None)
        except AppError as e:
            session.rollback()
            return _detail_page(request, session, registry, user, applications.get(session, user, app_id),
                                correction=values, correction_error=(error_text(request, e), getattr(e, "field", None)),
                                error=error_text(request, e), status_code=e.status)
        return RedirectResponse(f"/work/applications/{app_id}?done=resubmitted", status_code=303)

    return guarded(request, registry, user, body, csrf=fields.get("csrf", ""), here="reviews")


@router.get("/work/applications/{app_id}/photos/{side}")
def photo(app_id: Id, side: str, request: Request, session: SessionDep, registry: RegistryDep,
          user: User) -> Response:
    def body() -> Response:
        if side not in conversion.SIDES:
            raise NotFound("photo")
        row = conversion.photo(session, user, app_id, side)
        return Response(row.data, media_type=row.media_type,
                        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})

    return guarded(request, registry, user, body, here="reviews")


# ------------------------------------------------------------------ committee uploads


def _batch_row(batch: Any) -> dict[str, Any]:
    return {"id": batch.id, "purpose": batch.purpose, "fmt": batch.fmt, "total": batch.rows_total,
            "stored": batch.rows_stored, "keep_valid": batch.keep_valid, "created": when(batch.created_at)}


def _report(request: Request, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-row errors as the table shows them; the codes the catalog knows in the reader's language."""
    t = _t(request)
    out = []
    for err in errors:
        fake = AppError(str(err.get("code", "")), str(err.get("message", "")))
        out.append({"line": err.get("line"), "field": field_name(t, err.get("field")), "code": err.get("code"),
                    "reason": error_text(request, fake)})
    return out


def _uploads_page(request: Request, session: Session, registry: Registry, user: Principal, *,
                  report: list[dict[str, Any]] | None = None, keep_valid: bool = False,
                  notice: str | None = None, error: str | None = None, file_error: str | None = None,
                  status_code: int = 200) -> Response:
    batches = [_batch_row(b) for b in reversed(uploads.list_batches(session, user))]
    returned = [app_view(session, a) for a in applications.list_for(session, user, state="returned", limit=500)
                if a.uploader_org_id == user.org_id]
    return page(request, registry, user, "work/uploads.html", {
        "can_upload": user.org_kind in UPLOADER_KINDS, "batches": batches, "returned": returned,
        "report": report, "keep_valid": keep_valid, "notice": notice, "error": error,
        "file_error": file_error, "max_rows": registry.config.max_upload_rows,
        "template_fields": list(zip(TEMPLATE_COLUMNS, TEMPLATE_FIELDS, strict=True))},
        status_code=status_code, here="uploads")


@router.get("/work/uploads")
def uploads_page(request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    return guarded(request, registry, user, lambda: _uploads_page(request, session, registry, user), here="uploads")


@router.get("/work/uploads/template.csv")
def upload_template(request: Request, registry: RegistryDep, user: User) -> Response:
    def body() -> Response:
        # The header only: an example row would need an ID number, and a made-up one is easily sent as real.
        text = "\ufeff" + ",".join(TEMPLATE_COLUMNS) + "\r\n"
        return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="titlecred-upload-template.csv"',
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    return guarded(request, registry, user, body, here="uploads")


def _format(upload: UploadFile) -> str | None:
    name = (upload.filename or "").lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith(".csv"):
        return "csv"
    ctype = (upload.content_type or "").split(";")[0].strip().lower()
    return {"application/json": "json", "text/csv": "csv", "application/csv": "csv"}.get(ctype)


@router.post("/work/uploads")
async def upload_submit(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                        file: Annotated[UploadFile | None, File()] = None,
                        keep_valid: Annotated[str, Form(max_length=4)] = "",
                        csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    content = await file.read(MAX_UPLOAD_BYTES + 1) if file is not None else b""
    fmt = _format(file) if file is not None and file.filename else None
    chosen = file is not None and bool(file.filename)
    return await run_in_threadpool(_upload, request, session, registry, user, chosen, fmt, content,
                                   keep_valid == "1", csrf)


def _upload(request: Request, session: Session, registry: Registry, user: Principal, chosen: bool,
            fmt: str | None, content: bytes, keep_valid: bool, csrf: str) -> Response:
    def body() -> Response:
        t = _t(request)
        problem = None
        if not chosen:
            problem = t("portal.upload.no_file")
        elif fmt is None:
            problem = t("portal.upload.bad_format")
        elif len(content) > MAX_UPLOAD_BYTES:
            problem = t("portal.upload.too_large")
        if problem is not None or fmt is None:
            return _uploads_page(request, session, registry, user, error=problem, file_error=problem,
                                 keep_valid=keep_valid, status_code=422)
        try:
            result = uploads.upload(session, registry, user, user.org_id, fmt, content, keep_valid)
        except InvalidRows as e:
            session.rollback()
            return _uploads_page(request, session, registry, user, report=_report(request, e.errors),
                                 keep_valid=keep_valid, status_code=422,
                                 error=t("portal.upload.nothing_stored", bad=len(e.errors)))
        except AppError as e:
            session.rollback()
            message = error_text(request, e)
            if message != e.message:
                # The service's words name the column or line at fault (never a cell's value).
                message = f"{message} ({e.message})"
            return _uploads_page(request, session, registry, user, error=message, file_error=message,
                                 keep_valid=keep_valid, status_code=e.status)
        batch_id = result.batch.id if result.batch else None
        notice = t("portal.upload.stored", stored=len(result.applications), total=result.total, batch=batch_id)
        return _uploads_page(request, session, registry, user, notice=notice,
                             report=_report(request, result.errors) if result.errors else None, status_code=201)

    return guarded(request, registry, user, body, csrf=csrf, here="uploads")


@router.get("/work/uploads/{batch_id}")
def batch_page(batch_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
               done: str | None = None) -> Response:
    def body() -> Response:
        batch = uploads.get_batch(session, user, batch_id)
        apps = [app_view(session, a) for a in applications.list_for(session, user, batch_id=batch_id, limit=500)]
        t = _t(request)
        notice = None
        if done == "approved":
            notice = t("portal.batch.done_approved")
        states = {a["state"] for a in apps}
        return page(request, registry, user, "work/batch.html", {
            "batch": _batch_row(batch), "apps": apps, "notice": notice,
            "bureau": user.org_kind == BUREAU and user.is_staff,
            "any_pending": "pending" in states, "any_approved": "approved" in states}, here="uploads")

    return guarded(request, registry, user, body, here="uploads")


@router.post("/work/uploads/{batch_id}/approve")
def batch_approve(batch_id: Id, request: Request, session: SessionDep, registry: RegistryDep, user: User,
                  csrf: Annotated[str, Form(max_length=64)] = "",
                  confirm: Annotated[str, Form(max_length=4)] = "") -> Response:
    def body() -> Response:
        t = _t(request)
        batch = uploads.get_batch(session, user, batch_id)
        if not confirm:
            pending = [a for a in applications.list_for(session, user, batch_id=batch_id, state="pending", limit=500)
                       if a.stage_org_id == user.org_id]
            return page(request, registry, user, "work/confirm.html", {
                "title": t("portal.batch.title", id=batch.id), "question": t("portal.batch.confirm_approve"),
                "lines": [(t("portal.batch.rows_pending"), str(len(pending)))],
                "action": f"/work/uploads/{batch_id}/approve", "hidden": [], "editable": False,
                "cancel": f"/work/uploads/{batch_id}", "button": t("portal.batch.approve"), "danger": False},
                here="uploads")
        uploads.approve_batch(session, registry, user, batch_id)
        return RedirectResponse(f"/work/uploads/{batch_id}?done=approved", status_code=303)

    return guarded(request, registry, user, body, csrf=csrf, here="uploads")


# A GET of a form's address (the language switch or a reload of a page a POST rendered) goes back to
# the page the form is on.


@router.get("/work/applications/{app_id}/{form}")
def application_form_get(app_id: Id, form: str, request: Request) -> Response:
    return back_to(request, f"/work/applications/{app_id}")


@router.get("/work/uploads/{batch_id}/approve")
def batch_approve_get(batch_id: Id, request: Request) -> Response:
    return back_to(request, f"/work/uploads/{batch_id}")
