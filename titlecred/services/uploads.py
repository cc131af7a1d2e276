"""Committee bulk uploads: a review committee (or self-review unit) sends the people it approved.

All rows are validated first; each bad row is reported with its line number and reason. Nothing is
stored unless every row passes, or the caller asks to keep the valid ones (`keep_valid`). Stored rows
become applications awaiting the bureau (channel 评审, or 自主评审 for a self-review unit, whose
certificates are marked "自主评审" as Shanxi prints them), in one transaction with one audit entry.

A committee uploads only for itself: the organization in the request must be the caller's own.

It must never store part of a bad upload unless asked, nor echo a cell's value (it may be an ID number).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from schemas import titles
from titlecred.db.models import Application, Organization, Person, UploadBatch
from titlecred.services import applications, audit, orgs
from titlecred.services.context import Registry
from titlecred.services.errors import Forbidden, Invalid, InvalidRows, NotFound
from titlecred.services.persons import get_or_create_person, id_lookup_hash, normalize_id
from titlecred.services.principal import SELF_REVIEW, UPLOADER_KINDS, Principal, require_bureau
from titlecred.services.rows import parse_rows, row_error
from titlecred.services.tx import atomic

SELF_REVIEW_MARK = "自主评审"


@dataclass
class UploadResult:
    batch: UploadBatch | None
    applications: list[Application] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


def person_for_row(session: Session, registry: Registry, row: dict[str, Any]) -> Person:
    id_number = normalize_id(row.get("idNumber"))
    return get_or_create_person(session, registry.config, id_number=id_number, name=str(row.get("name")),
                                now=registry.now(), gender=row.get("gender"), name_pinyin=row.get("namePinyin"))


def _row_facts(registry: Registry, org: Organization, row: dict[str, Any]) -> tuple[dict[str, Any], str]:
    if "__error__" in row:
        raise Invalid("malformed_row", str(row["__error__"]))
    unknown = sorted(k for k in row if k not in (*applications.UPLOAD_FACTS, "idNumber"))
    if unknown:
        raise Invalid("unknown_field", f"unknown field(s): {', '.join(unknown)}", 422, unknown[0])
    facts = {k: v for k, v in row.items() if k != "idNumber" and v not in (None, "", [])}
    id_number = normalize_id(row.get("idNumber"))
    channel = "self_review" if org.kind == SELF_REVIEW else "review"
    facts["reviewChannel"] = titles.channel_name(channel)
    facts.setdefault("reviewBody", org.name)
    if channel == "self_review":
        notes = list(facts.get("annotations") or [])
        if SELF_REVIEW_MARK not in notes:
            facts["annotations"] = [SELF_REVIEW_MARK, *notes]
    applications.check_facts(registry, facts, id_number)
    return facts, id_number


def upload(session: Session, registry: Registry, actor: Principal, org_id: int, fmt: str, content: bytes,
           keep_valid: bool = False) -> UploadResult:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound("organization")
    if not actor.is_staff or actor.org_id != org_id or org.kind not in UPLOADER_KINDS:
        raise Forbidden("a committee (or self-review unit) uploads its own results only")
    rows = parse_rows(content, fmt, (*applications.UPLOAD_FACTS, "idNumber"), registry.config.max_upload_rows)
    good: list[tuple[int, dict[str, Any], str]] = []
    errors: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        try:
            facts, id_number = _row_facts(registry, org, row)
        except Invalid as e:
            errors.append(row_error(line, e.code, e.message, e.field))
            continue
        key = (id_lookup_hash(registry.config, id_number), str(facts.get("qualification")))
        if key in seen:
            errors.append(row_error(line, "duplicate_row", f"the same person and qualification as line {seen[key]}",
                                    "idNumber"))
            continue
        seen[key] = line
        good.append((line, facts, id_number))
    if errors and (not keep_valid or not good):
        raise InvalidRows(errors, len(rows))
    now = registry.now()
    channel = "self_review" if org.kind == SELF_REVIEW else "review"
    with atomic(session):
        bureau = orgs.bureau(session)
        assert actor.account_id is not None and org.id is not None and bureau.id is not None
        batch = UploadBatch(purpose="committee", org_id=org.id, account_id=actor.account_id, fmt=fmt,
                            rows_total=len(rows), rows_stored=len(good), keep_valid=keep_valid, created_at=now)
        session.add(batch)
        session.flush()
        chain = applications.build_chain(channel, bureau=bureau.id)
        stored = []
        for line, facts, id_number in good:
            person = get_or_create_person(session, registry.config, id_number=id_number, name=facts["name"], now=now,
                                          gender=facts.get("gender"), name_pinyin=facts.get("namePinyin"))
            assert person.id is not None
            app = Application(channel=channel, state="pending", chain_json=json.dumps(chain), stage_index=0,
                              stage_org_id=bureau.id, person_id=person.id, uploader_org_id=org.id,
                              batch_id=batch.id, line=line, facts_json=json.dumps(facts, ensure_ascii=False),
                              created_at=now, updated_at=now)
            session.add(app)
            session.flush()
            # The committee's approval is the first step of the record's history.
            applications.add_step(session, app, actor, "committee", "submitted", None, registry)
            stored.append(app)
        audit.append(session, at=now, actor=actor.actor, action="upload.stored", subject=f"batch:{batch.id}",
                     details={"batchId": batch.id, "orgId": org.id, "rows": len(rows), "stored": len(stored),
                              "applicationIds": [a.id for a in stored]})
    return UploadResult(batch, stored, errors, len(rows))


def list_batches(session: Session, actor: Principal) -> list[UploadBatch]:
    stmt = select(UploadBatch).order_by(col(UploadBatch.id))
    if not actor.is_bureau_staff:
        if not actor.is_staff:
            raise Forbidden()
        stmt = stmt.where(UploadBatch.org_id == actor.org_id)
    return list(session.exec(stmt).all())


def get_batch(session: Session, actor: Principal, batch_id: int) -> UploadBatch:
    batch = session.get(UploadBatch, batch_id)
    if batch is None:
        raise NotFound("upload")
    if not (actor.is_bureau_staff or (actor.is_staff and batch.org_id == actor.org_id)):
        raise Forbidden("this upload is another organization's")
    return batch


def approve_batch(session: Session, registry: Registry, actor: Principal, batch_id: int) -> list[Application]:
    """The bureau approves every application of an upload still awaiting it (issued later by a batch run)."""
    require_bureau(actor)
    batch = get_batch(session, actor, batch_id)
    with atomic(session):
        pending = session.exec(select(Application).where(Application.batch_id == batch.id,
                                                         Application.state == "pending",
                                                         Application.stage_org_id == actor.org_id)
                               .with_for_update().order_by(col(Application.id))).all()
        for app in pending:
            app.state, app.stage_org_id, app.updated_at = "approved", None, registry.now()
            session.add(app)
            applications.add_step(session, app, actor, "bureau", "approved", None, registry)
        audit.append(session, at=registry.now(), actor=actor.actor, action="upload.approved",
                     subject=f"batch:{batch.id}", details={"batchId": batch.id,
                                                           "applicationIds": [a.id for a in pending]})
    return list(pending)
