"""Applications and their review chains, one chain per channel (DOMAIN.md "How a title is acquired").

    review / self_review   committee or self-review unit uploads (services.uploads) → bureau
    self_appointment       holder → employer → supervisory department → bureau
    exam                   holder → exam body → bureau
    entrusted_review       holder → employer → supervisory department → bureau
    conversion             holder → employer (unit) → district bureau → bureau  (services.conversion)

The chain's organizations are fixed when the application is submitted. At each stage an officer of
that stage's organization approves, rejects with a reason (final), or returns it for correction with
a reason; the applicant (the holder, or the uploading organization) corrects and resubmits, and the
chain starts again. Every step is a `ReviewStep` (who, when, what, why), visible to the applicant, and
an audit entry in the same transaction. The bureau's approval is the last step: it issues at once
(services.issuance) unless the caller leaves it for a batch run.

Facts are kept as a certificate record without its number and without the ID number (the person row
holds that); they are validated at every change (`issuer.record.parse_record`, and the credential's
JSON Schema on an unsigned credential), so that what reaches the bureau can be signed.

It must never let an organization act out of turn, show an application to an organization that is
not on its chain (an employer sees its own staff only), or change anything when a check fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from issuer.credential import build_full_credential
from issuer.errors import InvalidRecord
from issuer.record import OPTIONAL, REQUIRED, TitleRecord, parse_record
from schemas import titles
from titlecred.db.models import Account, Application, Certificate, Organization, Person, ReviewStep
from titlecred.services import audit, orgs
from titlecred.services.clock import stamp
from titlecred.services.context import Registry
from titlecred.services.errors import Conflict, Forbidden, Invalid, NotFound
from titlecred.services.principal import (
    EMPLOYER,
    EXAM_BODY,
    SELF_REVIEW,
    Principal,
    require_holder,
)
from titlecred.services.tx import atomic, locked

STAGES: dict[str, tuple[str, ...]] = {
    "review": ("bureau",),
    "self_review": ("bureau",),
    "self_appointment": ("employer", "supervisory", "bureau"),
    "exam": ("exam_body", "bureau"),
    "entrusted_review": ("employer", "supervisory", "bureau"),
    "conversion": ("employer", "district", "bureau"),
}
HOLDER_CHANNELS = ("self_appointment", "exam", "entrusted_review")
STATES = ("pending", "returned", "rejected", "approved", "issued")
DECISIONS = ("approve", "reject", "return")

# What a holder states about the title; who they are comes from their account's person.
HOLDER_FACTS = ("qualification", "series", "specialty", "level", "dateQualified", "namePinyin",
                "reviewBody", "reportingUnit", "scopeOfUse", "annotations")
# What an uploading organization states: the whole record but its number and channel.
UPLOAD_FACTS = tuple(f for f in (*REQUIRED, *OPTIONAL)
                     if f not in ("certificateNumber", "reviewChannel", "reissueOf", "levelCode"))


def placeholder_number(level: str) -> str:
    try:
        return titles.level_letter(level) + "0" * 16
    except (titles.TitleDataError, AttributeError):
        return "A" + "0" * 16


def to_record(facts: dict[str, Any], id_number: str, number: str | None = None) -> TitleRecord:
    """The certificate record of `facts` (with a placeholder number until one is allocated)."""
    data = {**facts, "idNumber": id_number,
            "certificateNumber": number or placeholder_number(str(facts.get("level", "")))}
    return parse_record(data)


def check_facts(registry: Registry, facts: dict[str, Any], id_number: str) -> None:
    """Refuse now what could not be signed later: the record rules, and the credential's JSON Schema
    (stricter in places, e.g. pinyin letters only), checked on an unsigned credential."""
    try:
        record = to_record(facts, id_number)
        build_full_credential(record, registry.profile, valid_from=stamp(registry.now()))
    except InvalidRecord as e:
        raise Invalid(e.code, e.message, 422, e.field) from None


def facts_of(app: Application) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads(app.facts_json)
    return facts


def chain_of(app: Application) -> list[dict[str, Any]]:
    chain: list[dict[str, Any]] = json.loads(app.chain_json)
    return chain


def current_stage(app: Application) -> str | None:
    if app.state != "pending":
        return None
    return str(chain_of(app)[app.stage_index]["stage"])


def _org(session: Session, org_id: int | None) -> Organization | None:
    return session.get(Organization, org_id) if org_id is not None else None


def add_step(session: Session, app: Application, actor: Principal | None, stage: str, action: str,
          reason: str | None, registry: Registry, org_id: int | None = None) -> ReviewStep:
    assert app.id is not None
    step = ReviewStep(application_id=app.id, at=registry.now(), stage=stage,
                      org_id=org_id if org_id is not None else (actor.org_id if actor else None),
                      actor_account_id=actor.account_id if actor else None, action=action, reason=reason)
    session.add(step)
    return step


def _audit(session: Session, registry: Registry, actor: Principal | str, action: str, app: Application,
           **details: Any) -> None:
    audit.append(session, at=registry.now(), actor=actor if isinstance(actor, str) else actor.actor,
                 action=action, subject=f"application:{app.id}",
                 details={"applicationId": app.id, "channel": app.channel, **details})


def build_chain(channel: str, **orgs_by_stage: int | None) -> list[dict[str, Any]]:
    chain = []
    for stage in STAGES[channel]:
        org_id = orgs_by_stage.get(stage)
        if org_id is None:
            raise Invalid("incomplete_chain", f"no {stage} organization for this application", 422, stage)
        chain.append({"stage": stage, "orgId": org_id})
    return chain


def holder_context(session: Session, actor: Principal) -> tuple[Account, Person, Organization]:
    require_holder(actor)
    account = session.get(Account, actor.account_id)
    person = session.get(Person, actor.person_id)
    home = session.get(Organization, actor.org_id)
    assert account is not None and person is not None and home is not None
    return account, person, home


def _clean_facts(data: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(k for k in data if k not in allowed)
    if unknown:
        raise Invalid("unknown_field", f"unknown or unchangeable field(s): {', '.join(unknown)}", 422, unknown[0])
    return {k: v for k, v in data.items() if v is not None and v != "" and v != []}


def _holder_facts(session: Session, channel: str, data: dict[str, Any], person: Person,
                  employer: Organization | None, supervisor: Organization | None,
                  exam_body: Organization | None) -> dict[str, Any]:
    facts = _clean_facts(data, HOLDER_FACTS)
    facts["name"] = person.name
    facts["gender"] = person.gender
    if "namePinyin" not in facts and person.name_pinyin:
        facts["namePinyin"] = person.name_pinyin
    facts["reviewChannel"] = titles.channel_name(channel)
    # 评审机构: the appointing employer, or the exam body; an entrusting committee is named by the holder.
    if "reviewBody" not in facts:
        if channel == "self_appointment" and employer is not None:
            facts["reviewBody"] = employer.name
        elif channel == "exam" and exam_body is not None:
            facts["reviewBody"] = exam_body.name
    # 呈报单位: the employer's supervisory department (or archive custodian).
    if "reportingUnit" not in facts:
        if supervisor is not None:
            facts["reportingUnit"] = supervisor.name
        elif employer is not None:
            facts["reportingUnit"] = employer.name
    return facts


def submit(session: Session, registry: Registry, actor: Principal, data: dict[str, Any]) -> Application:
    """A holder applies through self_appointment, exam or entrusted_review."""
    account, person, home = holder_context(session, actor)
    data = dict(data)
    channel = data.pop("channel", None)
    if channel not in HOLDER_CHANNELS:
        raise Invalid("invalid_channel", "channel must be one of " + ", ".join(HOLDER_CHANNELS)
                      + " (committee results are uploaded by the committee; conversions use /api/conversions)",
                      422, "channel")
    exam_body_id = data.pop("examBodyId", None)
    now = registry.now()
    with atomic(session):
        employer = home if home.kind in (EMPLOYER, SELF_REVIEW) else None
        supervisor = _org(session, employer.supervisor_id) if employer else None
        exam_body = None
        if channel == "exam":
            exam_body = _org(session, exam_body_id)
            if exam_body is None or exam_body.kind != EXAM_BODY:
                raise Invalid("invalid_link", "examBodyId must name an exam body", 422, "examBodyId")
        elif employer is None:
            raise Invalid("no_employer", "this channel is reviewed by your employer, and your account belongs "
                          "to no employer", 422, "channel")
        elif supervisor is None:
            raise Invalid("no_supervisory_department", "your employer has no supervisory department (or "
                          "archive custodian) on record; ask the bureau to link one", 422, "channel")
        bureau = orgs.bureau(session)
        chain = build_chain(channel, employer=employer.id if employer else None,
                            supervisory=supervisor.id if supervisor else None,
                            exam_body=exam_body.id if exam_body else None, bureau=bureau.id)
        facts = _holder_facts(session, channel, data, person, employer, supervisor, exam_body)
        check_facts(registry, facts, person.id_number)
        assert person.id is not None
        app = Application(channel=channel, state="pending", chain_json=json.dumps(chain), stage_index=0,
                          stage_org_id=chain[0]["orgId"], person_id=person.id, applicant_account_id=account.id,
                          employer_id=employer.id if employer else None,
                          supervisor_id=supervisor.id if supervisor else None,
                          exam_body_id=exam_body.id if exam_body else None,
                          facts_json=json.dumps(facts, ensure_ascii=False), created_at=now, updated_at=now)
        session.add(app)
        session.flush()
        add_step(session, app, actor, "applicant", "submitted", None, registry)
        _audit(session, registry, actor, "application.submitted", app)
    return app


# ------------------------------------------------------------------ who sees what


def chain_org_ids(app: Application) -> set[int]:
    return {i for i in (app.uploader_org_id, app.employer_id, app.supervisor_id, app.exam_body_id,
                        app.district_id) if i is not None}


def can_view(actor: Principal, app: Application) -> bool:
    if actor.is_bureau_staff:
        return True
    if actor.is_holder:
        return actor.person_id is not None and app.person_id == actor.person_id
    return actor.is_staff and actor.org_id in chain_org_ids(app)


def is_applicant(actor: Principal, app: Application) -> bool:
    if app.applicant_account_id is not None:
        return actor.account_id == app.applicant_account_id
    return actor.is_staff and actor.org_id == app.uploader_org_id


def get(session: Session, actor: Principal, app_id: int) -> Application:
    app = session.get(Application, app_id)
    if app is None:
        raise NotFound("application")
    if not can_view(actor, app):
        raise Forbidden("this application is not yours, nor your organization's to see")
    return app


def list_for(session: Session, actor: Principal, *, state: str | None = None, channel: str | None = None,
             awaiting_me: bool = False, batch_id: int | None = None, limit: int = 100,
             offset: int = 0) -> list[Application]:
    stmt = select(Application)
    if actor.is_holder:
        stmt = stmt.where(Application.person_id == actor.person_id)
    elif not actor.is_bureau_staff:
        if not actor.is_staff:
            raise Forbidden()
        org = actor.org_id
        stmt = stmt.where(or_(col(Application.uploader_org_id) == org, col(Application.employer_id) == org,
                              col(Application.supervisor_id) == org, col(Application.exam_body_id) == org,
                              col(Application.district_id) == org))
    if awaiting_me:
        stmt = stmt.where(Application.stage_org_id == actor.org_id, Application.state == "pending")
    if state:
        stmt = stmt.where(Application.state == state)
    if channel:
        stmt = stmt.where(Application.channel == channel)
    if batch_id is not None:
        stmt = stmt.where(Application.batch_id == batch_id)
    return list(session.exec(stmt.order_by(col(Application.id)).offset(offset).limit(min(limit, 500))).all())


def steps(session: Session, app: Application) -> list[ReviewStep]:
    return list(session.exec(select(ReviewStep).where(ReviewStep.application_id == app.id)
                             .order_by(col(ReviewStep.id))).all())


def certificate_of(session: Session, app: Application) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.application_id == app.id)).first()


# ------------------------------------------------------------------ review


@dataclass(frozen=True)
class ReviewOutcome:
    application: Application
    certificate: Certificate | None = None


def _reason(reason: Any, required: bool) -> str | None:
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        if required:
            raise Invalid("reason_required", "a rejection or return needs a reason", 422, "reason")
        return None
    if not isinstance(reason, str) or len(reason) > 1000 or not reason.isprintable():
        raise Invalid("invalid_field", "reason must be printable text of at most 1000 characters", 422, "reason")
    return reason.strip()


def review(session: Session, registry: Registry, actor: Principal, app_id: int, decision: str,
           reason: str | None = None, issue: bool = True) -> ReviewOutcome:
    """One review step by an officer of the organization whose turn it is (one transaction)."""
    from titlecred.services import conversion, issuance  # they build on this module

    if decision not in DECISIONS:
        raise Invalid("invalid_decision", "decision must be approve, reject or return", 422, "decision")
    text = _reason(reason, decision != "approve")
    with atomic(session):
        app = locked(session, select(Application).where(Application.id == app_id))
        if app is None:
            raise NotFound("application")
        if not can_view(actor, app) or not actor.is_staff:
            raise Forbidden("this application is not your organization's to review")
        if app.state != "pending":
            raise Conflict("not_pending", f"the application is {app.state}, not awaiting review")
        stage = current_stage(app)
        assert stage is not None
        if app.stage_org_id != actor.org_id:
            raise Forbidden(f"the application awaits the {stage} review, not yours")
        cert = None
        app.updated_at = registry.now()
        if decision == "approve":
            last = app.stage_index == len(chain_of(app)) - 1
            if last and app.channel == "conversion":
                conversion.check_still_convertible(session, registry, app)
            add_step(session, app, actor, stage, "approved", text, registry)
            if last:
                app.state, app.stage_org_id = "approved", None
            else:
                app.stage_index += 1
                app.stage_org_id = chain_of(app)[app.stage_index]["orgId"]
            session.add(app)
            if last and issue:
                # Issue before writing the approval's audit entry: every writer takes the number
                # counter and the status lists before the audit head (one lock order, no deadlock).
                cert = issuance.issue_in_transaction(session, registry, actor, app)
            _audit(session, registry, actor, "application.approved", app, stage=stage, final=last,
                   certificateNumber=cert.certificate_number if cert else None)
        else:
            app.state = "rejected" if decision == "reject" else "returned"
            app.stage_org_id = None
            session.add(app)
            add_step(session, app, actor, stage, "rejected" if decision == "reject" else "returned", text, registry)
            _audit(session, registry, actor, f"application.{app.state}", app, stage=stage, reason=text)
    return ReviewOutcome(app, cert)


def resubmit(session: Session, registry: Registry, actor: Principal, app_id: int,
             changes: dict[str, Any] | None = None) -> Application:
    """The applicant corrects a returned application (optionally) and sends it through its chain again."""
    from titlecred.services import conversion

    with atomic(session):
        app = locked(session, select(Application).where(Application.id == app_id))
        if app is None:
            raise NotFound("application")
        if not can_view(actor, app):
            raise Forbidden("this application is not yours")
        if not is_applicant(actor, app):
            raise Forbidden("only the applicant corrects and resubmits an application")
        if app.state != "returned":
            raise Conflict("not_returned", f"the application is {app.state}; only a returned one is resubmitted")
        person = session.get(Person, app.person_id)
        assert person is not None
        if changes:
            if app.channel == "conversion":
                conversion.apply_corrections(session, registry, app, person, changes)
            else:
                facts = facts_of(app)
                allowed = HOLDER_FACTS if app.applicant_account_id is not None else UPLOAD_FACTS
                updates = _clean_facts(changes, allowed)
                if "idNumber" in updates:
                    from titlecred.services.uploads import person_for_row

                    person = person_for_row(session, registry, {**facts, **updates})
                    assert person.id is not None
                    app.person_id = person.id
                    updates.pop("idNumber")
                facts.update(updates)
                check_facts(registry, facts, person.id_number)
                app.facts_json = json.dumps(facts, ensure_ascii=False)
            add_step(session, app, actor, "applicant", "corrected", None, registry)
        app.state, app.stage_index = "pending", 0
        app.stage_org_id = chain_of(app)[0]["orgId"]
        app.updated_at = registry.now()
        session.add(app)
        add_step(session, app, actor, "applicant", "resubmitted", None, registry)
        _audit(session, registry, actor, "application.resubmitted", app, corrected=bool(changes))
    return app
