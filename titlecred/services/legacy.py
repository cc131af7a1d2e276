"""Legacy import: historical title records that were never electronic, made searchable by the bureau.

Shanghai made titles from 2014 on searchable and imports older ones step by step (DOMAIN.md). Rows come
as CSV or JSON and are validated like a committee upload (every bad row with its line and reason;
nothing stored unless all pass or `keep_valid`). Old 15-digit ID numbers are accepted here (and
upgraded): these records predate the 18-digit number. A record already imported (same certificate
number and issuing body) is refused, so that a file can be re-sent safely.

Only the bureau imports and searches; a holder sees their own records (to ask for a query slip).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from schemas import titles
from schemas.text import is_printable
from titlecred.db.models import LegacyRecord, UploadBatch
from titlecred.services import audit
from titlecred.services.context import Registry
from titlecred.services.errors import Forbidden, Invalid, InvalidRows, NotFound
from titlecred.services.persons import find_person, get_or_create_person, normalize_id
from titlecred.services.principal import Principal, require_bureau
from titlecred.services.rows import parse_rows, row_error
from titlecred.services.tx import atomic

FIELDS = ("name", "idNumber", "gender", "qualification", "series", "specialty", "level", "certificateNumber",
          "dateQualified", "issuingBody", "reviewBody", "documentNumber", "scopeOfUse")
REQUIRED = ("name", "idNumber", "qualification", "series", "specialty", "level", "certificateNumber",
            "dateQualified", "issuingBody")


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    if "__error__" in row:
        raise Invalid("malformed_row", str(row["__error__"]))
    unknown = sorted(k for k in row if k not in FIELDS)
    if unknown:
        raise Invalid("unknown_field", f"unknown field(s): {', '.join(unknown)}", 422, unknown[0])
    out: dict[str, Any] = {}
    for key in FIELDS:
        value = row.get(key)
        if value is None or value == "":
            if key in REQUIRED:
                raise Invalid("missing_field", f"{key} is required", 422, key)
            continue
        if not isinstance(value, str) or not is_printable(value) or len(value) > 200 or value != value.strip():
            raise Invalid("invalid_field", f"{key} must be printable text of at most 200 characters", 422, key)
        out[key] = value
    out["idNumber"] = normalize_id(out["idNumber"], allow_15=True)
    if out.get("gender") not in (None, "男", "女"):
        raise Invalid("invalid_field", "gender must be 男 or 女", 422, "gender")
    try:
        titles.level_letter(out["level"])
    except titles.TitleDataError as e:
        raise Invalid(e.code, e.message, 422, "level") from None
    try:
        day = date.fromisoformat(out["dateQualified"])
    except ValueError:
        raise Invalid("invalid_date", "dateQualified must be a date YYYY-MM-DD", 422, "dateQualified") from None
    if len(out["dateQualified"]) != 10 or day.year < 1949 or day > date.today():
        raise Invalid("invalid_date", "dateQualified must be a possible date (1949 to today)", 422, "dateQualified")
    if len(out["certificateNumber"]) > 64:
        raise Invalid("invalid_field", "certificateNumber is longer than 64 characters", 422, "certificateNumber")
    return out


@dataclass
class ImportResult:
    batch: UploadBatch | None
    records: list[LegacyRecord] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


def import_records(session: Session, registry: Registry, actor: Principal, fmt: str, content: bytes,
                   keep_valid: bool = False) -> ImportResult:
    require_bureau(actor)
    rows = parse_rows(content, fmt, FIELDS, registry.config.max_upload_rows)
    good: list[tuple[int, dict[str, Any]]] = []
    errors: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        try:
            rec = _clean(row)
        except Invalid as e:
            errors.append(row_error(line, e.code, e.message, e.field))
            continue
        key = (rec["certificateNumber"], rec["issuingBody"])
        if key in seen:
            errors.append(row_error(line, "duplicate_row", f"the same certificate as line {seen[key]}",
                                    "certificateNumber"))
            continue
        if session.exec(select(LegacyRecord.id).where(LegacyRecord.certificate_number == key[0],
                                                      LegacyRecord.issuing_body == key[1])).first():
            errors.append(row_error(line, "already_imported", "this certificate was imported before",
                                    "certificateNumber"))
            continue
        seen[key] = line
        good.append((line, rec))
    if errors and (not keep_valid or not good):
        raise InvalidRows(errors, len(rows))
    now = registry.now()
    with atomic(session):
        batch = UploadBatch(purpose="legacy", org_id=actor.org_id, account_id=actor.account_id, fmt=fmt,
                            rows_total=len(rows), rows_stored=len(good), keep_valid=keep_valid, created_at=now)
        session.add(batch)
        session.flush()
        assert batch.id is not None
        stored = []
        for line, rec in good:
            person = get_or_create_person(session, registry.config, id_number=rec["idNumber"], name=rec["name"],
                                          now=now, gender=rec.get("gender"))
            assert person.id is not None
            record = LegacyRecord(batch_id=batch.id, line=line, person_id=person.id, name=rec["name"],
                               gender=rec.get("gender") or person.gender, qualification=rec["qualification"],
                               series=rec["series"], specialty=rec["specialty"], level=rec["level"],
                               certificate_number=rec["certificateNumber"], date_qualified=rec["dateQualified"],
                               issuing_body=rec["issuingBody"], review_body=rec.get("reviewBody"),
                               document_number=rec.get("documentNumber"), scope_of_use=rec.get("scopeOfUse"),
                               created_at=now)
            session.add(record)
            stored.append(record)
        session.flush()
        audit.append(session, at=now, actor=actor.actor, action="legacy.imported", subject=f"batch:{batch.id}",
                     details={"batchId": batch.id, "rows": len(rows), "stored": len(stored)})
    return ImportResult(batch, stored, errors, len(rows))


def search(session: Session, registry: Registry, actor: Principal, *, name: str | None = None,
           id_number: str | None = None, certificate_number: str | None = None, limit: int = 100,
           offset: int = 0) -> list[LegacyRecord]:
    stmt = select(LegacyRecord)
    if actor.is_holder and not (name or id_number or certificate_number):
        stmt = stmt.where(LegacyRecord.person_id == actor.person_id)
    else:
        require_bureau(actor, "only the bureau searches historical records")
    if name:
        stmt = stmt.where(LegacyRecord.name == name)
    if id_number:
        person = find_person(session, registry.config, normalize_id(id_number, allow_15=True))
        if person is None:
            return []
        stmt = stmt.where(LegacyRecord.person_id == person.id)
    if certificate_number:
        stmt = stmt.where(LegacyRecord.certificate_number == certificate_number)
    return list(session.exec(stmt.order_by(col(LegacyRecord.id)).offset(offset).limit(min(limit, 500))).all())


def get(session: Session, actor: Principal, record_id: int) -> LegacyRecord:
    rec = session.get(LegacyRecord, record_id)
    if rec is None:
        raise NotFound("record")
    if not (actor.is_bureau_staff or (actor.is_holder and actor.person_id == rec.person_id)):
        raise Forbidden("only the bureau, or the record's holder, sees a historical record")
    return rec
