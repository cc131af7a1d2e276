"""The workbench of unit and bureau staff (/work): the dashboard of each kind of organization, the
issuer's key status, and what the other portal pages share (rendering, the guard, refusals as text,
the shapes of applications and certificates on a page).

The portal pages are split by area: this module (dashboard, keys), `portal_reviews` (the review queue,
application detail and correction, committee uploads) and `portal_certs` (the employer's staff view,
the bureau's issuing, certificate search and life: revoke, suspend, reissue; the PDF download).

Every page calls the same service functions as the JSON API, with the signed-in principal, and holds
no rule of its own: who may see or do what is the services' to decide, and their refusals are shown
as they come (translated where the catalog knows the code). Every POST carries the session's CSRF
token, checked before anything else.

It must never put a full ID number on a page, in a URL or in a log line: applications and certificates
reach the templates only through `app_view` / `cert_view`, which carry the masked number alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from schemas import titles
from schemas.identifiers import mask_id_number
from titlecred.api.deps import RegistryDep, SessionDep
from titlecred.db.models import Account, Application, Certificate, Organization, Person
from titlecred.errors import error_code, error_message
from titlecred.services import applications, certificates, uploads
from titlecred.services.context import Registry
from titlecred.services.errors import TYPED_ERRORS
from titlecred.services.principal import BUREAU, Principal, require_bureau
from titlecred.web import session as web_session
from titlecred.web.deps import User
from titlecred.web.i18n import LANGUAGES, catalogs, pick_language, translator
from titlecred.web.templating import render
from titlecred.web.views import chain_view, when

router = APIRouter(include_in_schema=False)

# The sections of the workbench each kind of organization has, in the order of its subnav. This is
# only what the pages offer; the services still refuse anything a kind may not do.
SECTIONS: dict[str, tuple[str, ...]] = {
    "bureau": ("reviews", "issuing", "uploads", "certificates", "reissue_requests", "keys"),
    "district_bureau": ("reviews",),
    "committee": ("uploads",),
    "self_review_unit": ("reviews", "uploads", "staff"),
    "employer": ("reviews", "staff"),
    "supervisory": ("reviews",),
    "exam_body": ("reviews",),
}
SECTION_PATHS = {"home": "/work", "reviews": "/work/reviews", "issuing": "/work/issuing", "uploads": "/work/uploads",
                 "certificates": "/work/certificates", "staff": "/work/staff", "keys": "/work/keys",
                 "reissue_requests": "/work/reissue-requests"}
# Facts of an application or certificate as a page lists them, in the order of a paper certificate.
FACT_KEYS = ("name", "namePinyin", "gender", "qualification", "series", "specialty", "level", "reviewBody",
             "reviewChannel", "dateQualified", "reportingUnit", "scopeOfUse", "annotations")
PAPER_KEYS = ("series", "qualification", "specialty", "level", "oldCertificateNumber", "appointmentDocument",
              "issueDate", "issuingBody", "dateQualified", "reportingUnit", "scopeOfUse")


# ------------------------------------------------------------------ shared by the portal pages


def clean(value: str | None, limit: int = 1000) -> str:
    """Form text without surrounding blanks or control characters (no fact holds one, and PostgreSQL
    cannot store a NUL); longer text is left for the service to refuse, not silently cut."""
    return "".join(ch for ch in (value or "") if ch.isprintable() or ch in "\n\r\t").strip()[:limit + 1]


def error_text(request: Request, e: BaseException) -> str:
    """A service's refusal in the reader's language where the catalog knows its code, else its own words
    (typed errors' messages never hold personal data)."""
    lang = pick_language(request)
    t, table = translator(lang), catalogs()[lang]
    key = f"portal.err.{error_code(e)}"
    return t(key) if key in table else error_message(e)


def back_to(request: Request, path: str) -> Response:
    """A GET of a form's POST address (the language switch of a page rendered by a POST, a reload):
    back to the page the form belongs to, in the language asked for."""
    lang = request.query_params.get("lang")
    return RedirectResponse(path + (f"?lang={lang}" if lang in LANGUAGES else ""), status_code=303)


def field_name(t: Callable[..., str], field: str | None) -> str:
    if not field:
        return ""
    key = "portal.fact." + field
    return t(key) if key in catalogs()["zh"] else field


def sections(user: Principal) -> tuple[str, ...]:
    return SECTIONS.get(user.org_kind, ())


def page(request: Request, registry: Registry, user: Principal, name: str, ctx: dict[str, Any], *,
         status_code: int = 200, here: str = "home") -> Response:
    context: dict[str, Any] = {"here": here, "sections": sections(user), "section_paths": SECTION_PATHS,
                               "field_name": field_name, "notice": None, "error": None}
    context.update(ctx)
    return render(request, name, context, status_code=status_code, user=user,
                  csrf=web_session.csrf_token(request, registry))


def guarded(request: Request, registry: Registry, user: Principal, body: Callable[[], Response], *,
            csrf: str | None = None, here: str = "home") -> Response:
    """Run a workbench page for a staff account: a holder goes to their own portal; the CSRF token of a
    POST is checked first; a service's refusal becomes an error page with its status."""
    if not user.is_staff:
        return RedirectResponse("/me" if user.is_holder else "/", status_code=303)
    try:
        if csrf is not None:
            web_session.check_csrf(request, registry, csrf)
        return body()
    except TYPED_ERRORS as e:
        status = getattr(e, "status", 422)
        return page(request, registry, user, "work/error.html", {"message": error_text(request, e)},
                    status_code=status if isinstance(status, int) and 400 <= status < 600 else 422, here=here)


def masked_id(session: Session, person_id: int) -> str:
    person = session.get(Person, person_id)
    return mask_id_number(person.id_number) if person is not None else ""


def org_name(session: Session, org_id: int | None) -> str:
    org = session.get(Organization, org_id) if org_id is not None else None
    return org.name if org else ""


def _fact_text(value: Any) -> str:
    return "；".join(str(v) for v in value) if isinstance(value, list) else str(value)


def app_view(session: Session, app: Application) -> dict[str, Any]:
    """An application as a list row shows it: who (masked ID number), what, where it stands."""
    facts = applications.facts_of(app)
    cert = applications.certificate_of(session, app)
    return {"id": app.id, "channel": app.channel, "channel_name": titles.channel_name(app.channel),
            "state": app.state, "stage": applications.current_stage(app),
            "stage_org": org_name(session, app.stage_org_id), "name": str(facts.get("name", "")),
            "id_masked": masked_id(session, app.person_id), "qualification": str(facts.get("qualification", "")),
            "level": str(facts.get("level", "")), "batch_id": app.batch_id, "line": app.line,
            "updated": when(app.updated_at), "created": when(app.created_at), "cert_id": cert.id if cert else None,
            "cert_number": cert.certificate_number if cert else None}


def app_detail(session: Session, app: Application) -> dict[str, Any]:
    """An application with its facts, paper facts (a conversion), chain and every review step."""
    steps = applications.steps(session, app)
    step_rows = []
    for s in steps:
        actor = session.get(Account, s.actor_account_id) if s.actor_account_id else None
        step_rows.append({"at": when(s.at), "stage": s.stage, "action": s.action, "org": org_name(session, s.org_id),
                          "actor": actor.display_name if actor else "", "reason": s.reason or ""})
    facts = applications.facts_of(app)
    paper = json.loads(app.paper_json) if app.paper_json else None
    return {**app_view(session, app),
            "facts": [(k, _fact_text(facts[k])) for k in FACT_KEYS if facts.get(k) not in (None, "", [])],
            "raw": facts, "chain": chain_view(app, steps, lambda org_id: org_name(session, org_id)), "steps": step_rows,
            "paper": [(k, str(paper[k])) for k in PAPER_KEYS if paper and paper.get(k)] if paper else None}


def cert_view(session: Session, cert: Certificate) -> dict[str, Any]:
    """A certificate as a page shows it: the minimal credential's facts (the ID number masked)."""
    minimal = json.loads(cert.minimal_json)
    subject = minimal.get("credentialSubject", {})
    successor = certificates.reissue_of(session, cert)
    predecessor = session.get(Certificate, cert.reissue_of_id) if cert.reissue_of_id else None
    facts = [(k, _fact_text(subject[k])) for k in FACT_KEYS if subject.get(k) not in (None, "", [])]
    return {"id": cert.id, "number": cert.certificate_number, "state": cert.state, "name": cert.name,
            "id_masked": masked_id(session, cert.person_id), "qualification": cert.qualification,
            "level": str(subject.get("level", "")), "channel": str(subject.get("reviewChannel", "")),
            "employer": org_name(session, cert.employer_id), "issued_at": when(cert.issued_at), "facts": facts,
            "key_id": cert.key_id, "revoked_at": when(cert.revoked_at), "revocation_reason": cert.revocation_reason,
            "revocation_detail": cert.revocation_detail or "", "suspended_at": when(cert.suspended_at),
            "suspension_detail": cert.suspension_detail or "",
            "successor": {"id": successor.id, "number": successor.certificate_number} if successor else None,
            "predecessor": {"id": predecessor.id, "number": predecessor.certificate_number} if predecessor else None,
            "printable": cert.state in ("active", "suspended"), "application_id": cert.application_id}


# ------------------------------------------------------------------ the dashboard


@router.get("/work")
def dashboard(request: Request, session: SessionDep, registry: RegistryDep, user: User) -> Response:
    def body() -> Response:
        org = session.get(Organization, user.org_id)
        awaiting = applications.list_for(session, user, awaiting_me=True, limit=500)
        counts: dict[str, int] = {"reviews": len(awaiting)}
        if user.org_kind == BUREAU:
            counts["issuing"] = len(applications.list_for(session, user, state="approved", limit=500))
        if "uploads" in sections(user):
            counts["returned"] = len([a for a in applications.list_for(session, user, state="returned", limit=500)
                                      if a.uploader_org_id == user.org_id])
            counts["uploads"] = len(uploads.list_batches(session, user))
        return page(request, registry, user, "work/dashboard.html", {
            "org": org.name if org else "", "kind": user.org_kind, "counts": counts,
            "recent": [app_view(session, a) for a in awaiting[:5]]})

    return guarded(request, registry, user, body)


# ------------------------------------------------------------------ key status


@router.get("/work/keys")
def keys_page(request: Request, registry: RegistryDep, user: User) -> Response:
    def body() -> Response:
        require_bureau(user, "only the bureau's officers see the key status")
        active = registry.keys.active_key_id()
        rows = []
        for rec in registry.keys.records():
            # Public facts only: KeyRecord holds no private material (the keystore keeps seeds apart).
            rows.append({"id": rec.key_id, "fragment": rec.fragment, "state": rec.state.value,
                         "public": rec.public_key_multibase, "created": when(rec.created_at),
                         "retired": when(rec.retired_at), "revoked": when(rec.revoked_at),
                         "compromised": when(rec.compromised_at), "reason": rec.revocation_reason or "",
                         "signing": rec.key_id == active})
        return page(request, registry, user, "work/keys.html", {"keys": rows, "did": registry.profile.did},
                    here="keys")

    return guarded(request, registry, user, body, here="keys")
