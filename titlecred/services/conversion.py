"""Paper → electronic conversion (换证), by the Ningxia rules (原人社函〔2021〕85号, shared/sources).

The holder submits the paper certificate's facts (series, qualification, specialty, level, old
certificate number, appointment document 任职文件, issue date, issuing body) and photos of its two
cover pages (JPEG or PNG, at most 1 MB each: checked by magic bytes and decoded with Pillow). The unit
(employer), then the district bureau review, and the bureau approves, numbers and issues; the issued
credential's channel is 换证 and its annotations keep the old number and the appointment document.

Refused, each with its reason:
- a certificate marked valid only within non-public economic organizations (一(三) 不予换证范围);
- a title that is not the holder's highest (一(二) 就高换发: a 正高级 holder gets only the 正高级
  certificate) — checked at submission and again at the bureau's approval;
- outside the conversion scope (一(一): senior titles obtained before 2020; see RegistryConfig).

Never keep an image that Pillow cannot fully decode, and never serve a photo to anyone outside the
application's chain.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from PIL import Image
from sqlmodel import Session, col, select

from schemas import titles
from schemas.text import is_printable
from titlecred.db.models import Application, Certificate, LegacyRecord, Organization, Person, Photo
from titlecred.services import applications, audit, orgs
from titlecred.services.context import Registry
from titlecred.services.errors import Conflict, Invalid, NotFound
from titlecred.services.principal import Principal
from titlecred.services.tx import atomic

MAX_PHOTO_BYTES = 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000
SIDES = ("cover1", "cover2")
_MAGIC = {b"\xff\xd8\xff": ("JPEG", "image/jpeg"), b"\x89PNG\r\n\x1a\n": ("PNG", "image/png")}
NON_PUBLIC_MARKERS = ("非公有制经济组织", "所属范围内有效")
NOTICE = "原人社函〔2021〕85号"
PAPER_REQUIRED = ("series", "qualification", "specialty", "level", "oldCertificateNumber", "appointmentDocument",
                  "issueDate", "issuingBody")
PAPER_OPTIONAL = ("dateQualified", "namePinyin", "reportingUnit", "scopeOfUse", "validOnlyInNonPublic")


@dataclass(frozen=True)
class PhotoUpload:
    data: bytes
    content_type: str | None = None


def check_photo(side: str, upload: PhotoUpload) -> str:
    """The media type of a real JPEG or PNG of at most 1 MB; `Invalid(invalid_image)` otherwise."""
    data = upload.data
    if len(data) > MAX_PHOTO_BYTES:
        raise Invalid("photo_too_large", f"{side}: a cover photo may be at most 1 MB", 413, side)
    kind = next((v for magic, v in _MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise Invalid("invalid_image", f"{side}: not a JPEG or PNG image", 422, side)
    fmt, media_type = kind
    if upload.content_type not in (None, "", "application/octet-stream", media_type):
        raise Invalid("invalid_image", f"{side}: sent as {upload.content_type} but it is a {fmt} image", 422, side)
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != fmt:
                raise Invalid("invalid_image", f"{side}: the image data is not {fmt}", 422, side)
            width, height = im.size
            if width * height > MAX_PHOTO_PIXELS:
                raise Invalid("invalid_image", f"{side}: the image has too many pixels", 422, side)
            im.load()  # decode it all: a truncated or corrupt file fails here
    except Invalid:
        raise
    except Exception:  # Pillow raises many types (OSError, SyntaxError, ValueError, DecompressionBombError)
        raise Invalid("invalid_image", f"{side}: the image cannot be decoded", 422, side) from None
    return media_type


def _text(paper: dict[str, Any], key: str, required: bool) -> str | None:
    value = paper.get(key)
    if value is None or value == "":
        if required:
            raise Invalid("missing_field", f"{key} is required", 422, key)
        return None
    if not isinstance(value, str) or not is_printable(value) or len(value) > 200 or value != value.strip():
        raise Invalid("invalid_field", f"{key} must be printable text of at most 200 characters", 422, key)
    return value


def _date(paper: dict[str, Any], key: str) -> str:
    value = str(_text(paper, key, True))
    try:
        date.fromisoformat(value)
    except ValueError:
        raise Invalid("invalid_date", f"{key} must be a date YYYY-MM-DD", 422, key) from None
    if len(value) != 10:
        raise Invalid("invalid_date", f"{key} must be a date YYYY-MM-DD", 422, key)
    return value


def check_paper(registry: Registry, paper: dict[str, Any]) -> dict[str, Any]:
    """The paper facts, validated, with the Ningxia refusals applied (non-public scope, conversion scope)."""
    if not isinstance(paper, dict):
        raise Invalid("invalid_field", "the paper certificate's facts must be a JSON object", 422, "paper")
    unknown = sorted(k for k in paper if k not in (*PAPER_REQUIRED, *PAPER_OPTIONAL))
    if unknown:
        raise Invalid("unknown_field", f"unknown field(s): {', '.join(unknown)}", 422, unknown[0])
    out: dict[str, Any] = {k: _text(paper, k, True) for k in PAPER_REQUIRED if k != "issueDate"}
    out["issueDate"] = _date(paper, "issueDate")
    for k in ("namePinyin", "reportingUnit", "scopeOfUse"):
        if paper.get(k):
            out[k] = _text(paper, k, False)
    if paper.get("dateQualified"):
        out["dateQualified"] = _date(paper, "dateQualified")
    non_public = paper.get("validOnlyInNonPublic", False)
    if not isinstance(non_public, bool):
        raise Invalid("invalid_field", "validOnlyInNonPublic must be true or false", 422, "validOnlyInNonPublic")
    scope = out.get("scopeOfUse") or ""
    if non_public or any(m in scope for m in NON_PUBLIC_MARKERS):
        raise Invalid("non_public_scope",
                      "certificates valid only within non-public economic organizations (封二 marked "
                      "“在全区非公有制经济组织范围内有效或所属范围内有效”) are not converted "
                      f"({NOTICE} 一(三))", 422, "validOnlyInNonPublic")
    try:
        titles.level_letter(str(out["level"]))
    except titles.TitleDataError as e:
        raise Invalid(e.code, e.message, 422, "level") from None
    config = registry.config
    if out["level"] not in config.conversion_levels:
        raise Invalid("conversion_out_of_scope", "only senior titles (" + "、".join(config.conversion_levels)
                      + f") are converted ({NOTICE} 一(一))", 422, "level")
    if out["issueDate"] >= config.conversion_before:
        raise Invalid("conversion_out_of_scope", f"only certificates issued before {config.conversion_before} "
                      f"are converted; later titles were issued electronically ({NOTICE} 一(一))", 422, "issueDate")
    return out


def _held_titles(session: Session, person_id: int, exclude_app: int | None) -> list[tuple[str, str]]:
    """(level, where) of every title the person holds or is converting."""
    held: list[tuple[str, str]] = []
    for cert in session.exec(select(Certificate).where(Certificate.person_id == person_id,
                                                       col(Certificate.state).in_(("active", "suspended")))).all():
        held.append((titles.level_from_letter(cert.level_code), f"certificate {cert.certificate_number}"))
    for rec in session.exec(select(LegacyRecord).where(LegacyRecord.person_id == person_id)).all():
        held.append((rec.level, "a historical record"))
    for app in session.exec(select(Application).where(Application.person_id == person_id,
                                                      Application.channel == "conversion",
                                                      col(Application.state).in_(("pending", "approved",
                                                                                   "returned")))).all():
        if app.id != exclude_app:
            held.append((str(applications.facts_of(app)["level"]), f"conversion application {app.id}"))
    return held


def check_highest(session: Session, person_id: int, level: str, exclude_app: int | None = None) -> None:
    rank = titles.level_rank(level)
    for held_level, where in _held_titles(session, person_id, exclude_app):
        if titles.level_rank(held_level) > rank:
            raise Invalid("not_highest_title",
                          f"only the holder's highest title is converted (就高换发, {NOTICE} 一(二)): a {held_level} "
                          f"title is on record ({where}), so this {level} certificate is not converted", 422, "level")
        if held_level == level and where.startswith("conversion"):
            raise Conflict("duplicate_conversion", f"a {level} certificate is already being converted ({where})")


def _facts(paper: dict[str, Any], person: Person, employer: Organization,
           supervisor: Organization | None) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "name": person.name, "gender": person.gender,
        "namePinyin": paper.get("namePinyin") or person.name_pinyin,
        "qualification": paper["qualification"], "series": paper["series"], "specialty": paper["specialty"],
        "level": paper["level"], "dateQualified": paper.get("dateQualified") or paper["issueDate"],
        "reviewBody": paper["issuingBody"],
        "reportingUnit": paper.get("reportingUnit") or (supervisor.name if supervisor else employer.name),
        "reviewChannel": titles.channel_name("conversion"),
        "annotations": ["换证", f"原证书编号：{paper['oldCertificateNumber']}",
                        f"任职文件：{paper['appointmentDocument']}"],
    }
    if paper.get("scopeOfUse"):
        facts["scopeOfUse"] = paper["scopeOfUse"]
    return {k: v for k, v in facts.items() if v is not None}


def submit(session: Session, registry: Registry, actor: Principal, paper_in: dict[str, Any],
           photos: dict[str, PhotoUpload]) -> Application:
    account, person, home = applications.holder_context(session, actor)
    paper = check_paper(registry, paper_in)
    missing = [s for s in SIDES if s not in photos]
    if missing:
        raise Invalid("missing_photo", "photos of both cover pages are required (cover1 and cover2)", 422, missing[0])
    media = {side: check_photo(side, photos[side]) for side in SIDES}
    now = registry.now()
    with atomic(session):
        employer = home if home.kind in ("employer", "self_review_unit") else None
        if employer is None:
            raise Invalid("no_employer", "a conversion is reviewed by your unit, and your account belongs to none",
                          422, "paper")
        if employer.district_id is None:
            raise Invalid("no_district_bureau", "your unit has no district bureau on record; ask the bureau to "
                          "link one", 422, "paper")
        supervisor = session.get(Organization, employer.supervisor_id) if employer.supervisor_id else None
        assert person.id is not None
        check_highest(session, person.id, paper["level"])
        facts = _facts(paper, person, employer, supervisor)
        applications.check_facts(registry, facts, person.id_number)
        bureau = orgs.bureau(session)
        chain = applications.build_chain("conversion", employer=employer.id, district=employer.district_id,
                                         bureau=bureau.id)
        app = Application(channel="conversion", state="pending", chain_json=json.dumps(chain), stage_index=0,
                          stage_org_id=employer.id, person_id=person.id, applicant_account_id=account.id,
                          employer_id=employer.id, supervisor_id=None, district_id=employer.district_id,
                          facts_json=json.dumps(facts, ensure_ascii=False),
                          paper_json=json.dumps(paper, ensure_ascii=False), created_at=now, updated_at=now)
        session.add(app)
        session.flush()
        assert app.id is not None
        for side in SIDES:
            data = photos[side].data
            session.add(Photo(application_id=app.id, side=side, media_type=media[side], size=len(data),
                              sha256=hashlib.sha256(data).hexdigest(), data=data))
        applications.add_step(session, app, actor, "applicant", "submitted", None, registry)
        audit.append(session, at=now, actor=actor.actor, action="conversion.submitted",
                     subject=f"application:{app.id}",
                     details={"applicationId": app.id, "level": paper["level"],
                              "photos": {s: hashlib.sha256(photos[s].data).hexdigest() for s in SIDES}})
    return app


def check_still_convertible(session: Session, registry: Registry, app: Application) -> None:
    """At the bureau's approval: still the holder's highest title (another may have arrived since)."""
    check_highest(session, app.person_id, str(applications.facts_of(app)["level"]), exclude_app=app.id)


def apply_corrections(session: Session, registry: Registry, app: Application, person: Person,
                      changes: dict[str, Any]) -> None:
    paper = {**json.loads(app.paper_json or "{}"), **changes}
    paper = check_paper(registry, paper)
    assert person.id is not None
    check_highest(session, person.id, paper["level"], exclude_app=app.id)
    employer = session.get(Organization, app.employer_id)
    assert employer is not None
    supervisor = session.get(Organization, employer.supervisor_id) if employer.supervisor_id else None
    facts = _facts(paper, person, employer, supervisor)
    applications.check_facts(registry, facts, person.id_number)
    app.paper_json = json.dumps(paper, ensure_ascii=False)
    app.facts_json = json.dumps(facts, ensure_ascii=False)


def photo(session: Session, actor: Principal, app_id: int, side: str) -> Photo:
    app = applications.get(session, actor, app_id)
    if side not in SIDES:
        raise NotFound("photo")
    row = session.exec(select(Photo).where(Photo.application_id == app.id, Photo.side == side)).first()
    if row is None:
        raise NotFound("photo")
    return row
