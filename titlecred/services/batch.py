"""Batch issuance: approved applications become certificates in chunks, one transaction per chunk.

A run (`BatchRun`) lists its applications as items (`BatchItem`, state `pending`) in one transaction
before anything is signed. Workers, in as many processes and machines as share the database, then
repeat: claim the next chunk of pending items (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so
two workers never take the same rows; on SQLite `BEGIN IMMEDIATE` serializes writers and the clause is
dropped), lock their applications, take the chunk's numbers (the counter row, once) and status indexes
(each list row, once), sign every pair, and write certificates, status entries, audit entries, review
steps and the items' outcomes with bulk inserts, then commit. A process killed at any moment loses
only its open transaction: nothing of it is stored, its items are still `pending` and the next worker
(or `titlecred batch issue` again) takes them. Every certificate is issued exactly once: an
application has at most one certificate (unique constraint) and its row is locked while issued.

Lock order is the one every issuer keeps (application rows → number counter → status lists by name →
audit head), so a batch and a single approval never wait for each other in a circle.

It must never sign outside the transaction that stores what it signed, nor mark an item issued in a
transaction other than the one that stored its certificate.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, any_, bindparam, func, insert, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from issuer.errors import InvalidRecord
from titlecred.db.models import (
    Account,
    Application,
    AuditEntry,
    AuditHead,
    Certificate,
    CredentialHash,
    NumberCounter,
    Organization,
    Person,
    ReviewStep,
    StatusEntry,
)
from titlecred.db.models_batch import BatchItem, BatchRun
from titlecred.db.models_elicense import ElicenseOutbox
from titlecred.errors import AppError, error_code, error_message
from titlecred.services import applications, audit, bulk, numbering, orgs, outbox, status
from titlecred.services.certify import sign_certificate
from titlecred.services.clock import china_year, stamp
from titlecred.services.context import Registry
from titlecred.services.errors import TYPED_ERRORS, Conflict, NotFound
from titlecred.services.metrics import BATCH_FAILED, ISSUED
from titlecred.services.principal import EMPLOYER, SELF_REVIEW, Principal, require_bureau
from titlecred.services.printability import with_print_form
from titlecred.services.tx import atomic, insert_ignore, locked

DEFAULT_CHUNK = 250
RUN_LOCK_KEY = 0x7C17_0001  # pg_advisory_xact_lock key of run creation
OPEN, DONE = "running", "done"


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


# ------------------------------------------------------------------ runs


def start_run(session: Session, registry: Registry, actor: Principal, upload_batch_id: int | None = None) -> BatchRun:
    """A new run over every approved application (of one upload, if given), committed before any signing.

    An application still pending in an earlier unfinished run moves to this one (that item becomes
    `superseded`), so one application is pending in at most one run.
    """
    require_bureau(actor)
    now = registry.now()
    with atomic(session):
        # One run is created at a time, so two starting at once do not both list the same applications:
        # a transaction-scoped advisory lock on PostgreSQL (a row lock would block the foreign-key checks
        # of concurrent issuances and deadlock with them); SQLite's BEGIN IMMEDIATE already serializes.
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": RUN_LOCK_KEY})
        stmt = select(Application.id).where(Application.state == "approved")
        if upload_batch_id is not None:
            stmt = stmt.where(Application.batch_id == upload_batch_id)
        ids = [i for i in session.exec(stmt.order_by(col(Application.id))).all() if i is not None]
        run = BatchRun(actor=actor.actor, upload_batch_id=upload_batch_id, state=OPEN, total=len(ids),
                       created_at=now)
        session.add(run)
        session.flush()
        assert run.id is not None
        for start in range(0, len(ids), 5000):
            part = ids[start:start + 5000]
            session.execute(update(BatchItem).where(col(BatchItem.state) == "pending",
                                                    col(BatchItem.application_id).in_(part))
                            .values(state="superseded", code="moved_to_run", message=f"moved to run {run.id}",
                                    updated_at=now).execution_options(synchronize_session=False))
            session.execute(insert(BatchItem), [{"run_id": run.id, "application_id": a, "state": "pending"}
                                                for a in part])
        # Earlier runs left with nothing pending (all moved here) are finished.
        session.execute(update(BatchRun).where(col(BatchRun.state) == OPEN, col(BatchRun.id) != run.id,
                                               ~select(BatchItem.id).where(col(BatchItem.run_id) == col(BatchRun.id),
                                                                           col(BatchItem.state) == "pending").exists())
                        .values(state=DONE, finished_at=now).execution_options(synchronize_session=False))
        if not ids:
            run.state, run.finished_at = DONE, now
            session.add(run)
    return run


def recent_runs(session: Session, limit: int = 20) -> list[BatchRun]:
    return list(session.exec(select(BatchRun).order_by(col(BatchRun.id).desc()).limit(limit)).all())


def open_run(session: Session, upload_batch_id: int | None = None) -> BatchRun | None:
    """The oldest run that still has pending items (to resume), of this scope."""
    stmt = select(BatchRun).where(BatchRun.state == OPEN)
    if upload_batch_id is not None:
        stmt = stmt.where(BatchRun.upload_batch_id == upload_batch_id)
    return session.exec(stmt.order_by(col(BatchRun.id))).first()


def get_run(session: Session, run_id: int) -> BatchRun:
    run = session.get(BatchRun, run_id)
    if run is None:
        raise NotFound("batch run")
    return run


def counts(session: Session, run_id: int) -> dict[str, int]:
    rows = session.exec(select(BatchItem.state, func.count()).where(BatchItem.run_id == run_id)
                        .group_by(col(BatchItem.state))).all()
    return {str(s): int(n) for s, n in rows}


def items(session: Session, run_id: int, *, state: str | None = None, after: int = 0,
          limit: int = 1000) -> list[BatchItem]:
    stmt = select(BatchItem).where(BatchItem.run_id == run_id, col(BatchItem.id) > after)
    if state is not None:
        stmt = stmt.where(BatchItem.state == state)
    return list(session.exec(stmt.order_by(col(BatchItem.id)).limit(limit)).all())


def _finish_if_done(session: Session, registry: Registry, run_id: int) -> None:
    with atomic(session):
        left = session.exec(select(func.count()).select_from(BatchItem)
                            .where(BatchItem.run_id == run_id, BatchItem.state == "pending")).one()
        if not left:
            session.execute(update(BatchRun).where(col(BatchRun.id) == run_id, col(BatchRun.state) == OPEN)
                            .values(state=DONE, finished_at=registry.now()))


# ------------------------------------------------------------------ bulk allocation


def _take_numbers(session: Session, region_code: str, year: int, n: int) -> int:
    """The first of `n` consecutive sequence numbers (the counter row locked until commit)."""
    insert_ignore(session, NumberCounter, {"region_code": region_code, "year": year, "next_seq": 1})
    counter = locked(session, select(NumberCounter).where(NumberCounter.region_code == region_code,
                                                         NumberCounter.year == year))
    assert counter is not None
    first = counter.next_seq
    if first + n - 1 > numbering.MAX_SEQ:
        raise Conflict("sequence_exhausted", f"the certificate numbers of {region_code}/{year} would run out")
    counter.next_seq = first + n
    session.add(counter)
    return first


def _among(session: Session, column: Any, values: set[int]) -> Any:
    """`column IN values`; on PostgreSQL `= ANY(array)`: one parameter instead of a thousand, and the same
    statement text every time (the driver parses a long statement anew whenever its text changes)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("among", sorted(values), type_=postgresql.ARRAY(Integer)))
    return column.in_(values)


def _take_indexes(session: Session, registry: Registry, purpose: str, n: int) -> list[tuple[str, int]]:
    """`n` unused (list, index) pairs of `purpose`, uniformly at random among the unused of each list."""
    cap = int(registry.config.status_list_bits * registry.config.status_fill_limit)
    out: list[tuple[str, int]] = []
    while len(out) < n:
        lst = status._open_list(session, registry, purpose)
        want = min(n - len(out), cap - lst.used)
        chosen: set[int] = set()
        while len(chosen) < want:
            candidates = {secrets.randbelow(lst.size_bits) for _ in range(2 * (want - len(chosen)) + 8)} - chosen
            taken = set(session.exec(select(StatusEntry.index).where(StatusEntry.list_id == lst.id,
                                                                    _among(session, col(StatusEntry.index),
                                                                           candidates))).all())
            for c in candidates - taken:
                if len(chosen) < want:
                    chosen.add(c)
        lst.used += want
        session.add(lst)
        session.flush()
        out.extend((lst.id, i) for i in sorted(chosen, key=lambda _: secrets.randbits(32)))
    return out


# ------------------------------------------------------------------ one chunk


def _table(model: Any) -> Any:
    return model.__table__


@dataclass
class ChunkResult:
    claimed: int = 0
    issued: int = 0
    failed: int = 0


@dataclass
class _Ready:
    item_id: int
    app_id: int
    channel: str
    level: str
    record: Any
    person_id: int
    employer_id: int | None


def _employers(session: Session, missing: set[int]) -> dict[int, int]:
    """The unit of each holder in `missing` whose account is at an employer (or a self-reviewing unit):
    the employer of an application that names none."""
    by_person: dict[int, int] = {}
    if missing:
        rows = session.execute(select(Account.person_id, Organization.id, Organization.kind)
                               .join(Organization, col(Organization.id) == col(Account.org_id))
                               .where(col(Account.person_id).in_(missing))).all()
        for person_id, org_id, kind in rows:
            if person_id is not None and person_id not in by_person and kind in (EMPLOYER, SELF_REVIEW):
                by_person[person_id] = org_id
    return by_person


def _claim(session: Session, run_id: int, size: int) -> list[tuple[int, int]]:
    """(item id, application id) of up to `size` pending items of the run, locked (skipping locked ones)."""
    items = _table(BatchItem)
    rows = session.execute(sa_select(items.c.id, items.c.application_id)
                           .where(items.c.run_id == run_id, items.c.state == "pending")
                           .order_by(items.c.id).limit(size).with_for_update(skip_locked=True)).all()
    return [(int(i), int(a)) for i, a in rows]


def _lock_applications(session: Session, app_ids: list[int]) -> dict[int, Any]:
    """The claimed applications, locked in id order (the lock order every issuer keeps), with the holder's
    ID number. Plain rows, not ORM objects: building and tracking objects cost more than the query."""
    apps, persons = _table(Application), _table(Person)
    stmt = (sa_select(apps.c.id, apps.c.state, apps.c.channel, apps.c.employer_id, apps.c.person_id,
                      apps.c.facts_json, persons.c.id_number)
            .join(persons, persons.c.id == apps.c.person_id)
            .where(apps.c.id.in_(app_ids)).order_by(apps.c.id).with_for_update(of=apps))
    return {row.id: row for row in session.execute(stmt).all()}


def _certificates_of(session: Session, app_ids: list[int]) -> dict[int, tuple[int, str]]:
    """(certificate id, number) of those applications that have one. A statement of its own, after the
    applications are locked: on PostgreSQL a statement that waited for a row lock still reads the rest
    of its snapshot from before the wait, so a certificate joined into the locking query would be missed
    when a single issuance committed it meanwhile."""
    certs = _table(Certificate)
    rows = session.execute(sa_select(certs.c.application_id, certs.c.id, certs.c.certificate_number)
                           .where(certs.c.application_id.in_(app_ids))).all()
    return {a: (c, n) for a, c, n in rows}


def issue_chunk(session: Session, registry: Registry, actor: Principal, run_id: int,
                size: int = DEFAULT_CHUNK, worker: str | None = None) -> ChunkResult:
    """Claim up to `size` pending items of the run and settle them all, in one transaction."""
    worker = worker or worker_name()
    result = ChunkResult()
    with atomic(session):
        claimed = _claim(session, run_id, size)
        result.claimed = len(claimed)
        if not claimed:
            return result
        now = registry.now()
        app_ids = sorted(a for _, a in claimed)
        apps = _lock_applications(session, app_ids)
        existing = _certificates_of(session, app_ids)
        employers = _employers(session, {a.person_id for a in apps.values() if a.employer_id is None})
        outcomes: list[dict[str, Any]] = []
        ready: list[_Ready] = []
        for item_id, app_id in sorted(claimed, key=lambda c: c[1]):
            app = apps.get(app_id)
            base = {"id": item_id, "worker": worker, "updated_at": now}
            if app is None:
                outcomes.append({**base, "state": "failed", "code": "not_found", "message": "no such application"})
                continue
            cert = existing.get(app_id)
            if cert is not None:  # issued already (by an approval, or an earlier run): report that one
                outcomes.append({**base, "state": "issued", "certificate_id": cert[0],
                                 "certificate_number": cert[1], "code": "already_issued"})
                continue
            if app.state != "approved":
                outcomes.append({**base, "state": "failed", "code": "not_approved",
                                 "message": f"the application is {app.state}; only an approved one is issued"})
                continue
            facts: dict[str, Any] = json.loads(app.facts_json)
            try:
                record = with_print_form(applications.to_record(facts, app.id_number))
            except InvalidRecord as e:
                outcomes.append({**base, "state": "failed", "code": e.code, "message": e.message[:500]})
                continue
            except TYPED_ERRORS as e:
                outcomes.append({**base, "state": "failed", "code": error_code(e), "message": error_message(e)[:500]})
                continue
            employer = app.employer_id if app.employer_id is not None else employers.get(app.person_id)
            ready.append(_Ready(item_id, app.id, app.channel, str(facts.get("level", "")), record, app.person_id,
                                employer))
        if ready:
            _issue_ready(session, registry, actor, ready, outcomes, now, worker)
        if outcomes:
            keys = ("state", "certificate_id", "certificate_number", "code", "message", "worker", "updated_at")
            items = _table(BatchItem)
            stmt = update(items).where(items.c.id == bindparam("item_id")).values({k: bindparam(k) for k in keys})
            session.execute(stmt, [{"item_id": o["id"], **{k: o.get(k) for k in keys}} for o in outcomes])
        result.issued = sum(1 for o in outcomes if o["state"] == "issued")
        result.failed = sum(1 for o in outcomes if o["state"] == "failed")
    ISSUED.labels("batch").inc(len(ready))
    BATCH_FAILED.inc(result.failed)
    return result


_CERT_COLUMNS = ("id", "application_id", "person_id", "employer_id", "channel", "certificate_number", "level_code",
                 "region_code", "year", "seq", "name", "qualification", "record_json", "full_id", "minimal_id",
                 "full_json", "minimal_json", "full_hash", "minimal_hash", "key_id", "issued_at", "state",
                 "revocation_list_id", "revocation_index", "suspension_list_id", "suspension_index")


def _issue_ready(session: Session, registry: Registry, actor: Principal, ready: list[_Ready],
                 outcomes: list[dict[str, Any]], now: datetime, worker: str) -> None:
    bureau = orgs.bureau(session)
    assert bureau.region_code is not None
    region, year = bureau.region_code, china_year(now)
    first = _take_numbers(session, region, year, len(ready))
    revs = _take_indexes(session, registry, "revocation", len(ready))
    susps = _take_indexes(session, registry, "suspension", len(ready))
    key = registry.keys.active()
    ids = bulk.reserve_ids(session, _table(Certificate), len(ready))
    certs: list[tuple[Any, ...]] = []
    # What each certificate's audit entry, credential hashes and outbox row need, from the objects in hand
    # (nothing signed is parsed back from its JSON).
    signed: list[tuple[int, str, str, str, str, str, str]] = []
    outbox_keys: list[str] = []
    for k, r in enumerate(ready):
        seq, cid = first + k, ids[k]
        number = numbering.format_number(applications.placeholder_number(r.level)[0], region, year, seq)
        (rl, ri), (sl, si) = revs[k], susps[k]
        entries = [status.entry_json(registry, rl, "revocation", ri), status.entry_json(registry, sl, "suspension", si)]
        # What a single issuance signs (issuance.sign_and_store), now that the record has its number.
        record, pair = sign_certificate(registry, key, replace(r.record, certificateNumber=number), now=now,
                                        status=entries)
        full_id, minimal_id = pair.full["id"], pair.minimal["id"]
        full_json = json.dumps(pair.full, ensure_ascii=False)
        full_hash, minimal_hash = audit.credential_hash(pair.full), audit.credential_hash(pair.minimal)
        certs.append((cid, r.app_id, r.person_id, r.employer_id, r.channel, number, record.levelCode, region, year,
                      seq, record.name, record.qualification, json.dumps(record.as_dict(), ensure_ascii=False),
                      full_id, minimal_id, full_json, json.dumps(pair.minimal, ensure_ascii=False), full_hash,
                      minimal_hash, key.verification_method, now, "active", rl, ri, sl, si))
        signed.append((cid, number, full_id, minimal_id, full_hash, minimal_hash, r.channel))
        outbox_keys.append(outbox.event_key_of(full_json, number, "issued", pair.full))
    bulk.insert_rows(session, _table(Certificate), _CERT_COLUMNS, certs)
    bulk.insert_rows(session, _table(StatusEntry), ("list_id", "index", "certificate_id", "created_at"),
                     [row for k, cid in enumerate(ids) for row in ((*revs[k], cid, now), (*susps[k], cid, now))])
    # The audit chain: one entry per certificate, hashed in order under the head's lock.
    insert_ignore(session, AuditHead, {"id": 1, "seq": 0, "hash": audit.GENESIS})
    head = locked(session, select(AuditHead).where(AuditHead.id == 1))
    assert head is not None
    seq, prev = head.seq, head.hash
    at_text, who = stamp(now), actor.actor
    audit_rows: list[tuple[Any, ...]] = []
    hash_rows: list[tuple[Any, ...]] = []
    for r, (cid, number, full_id, minimal_id, full_hash, minimal_hash, channel) in zip(ready, signed, strict=True):
        seq += 1
        details = {"certificateId": cid, "certificateNumber": number, "fullId": full_id, "minimalId": minimal_id,
                   "fullHash": full_hash, "minimalHash": minimal_hash, "keyId": key.verification_method,
                   "channel": channel, "applicationId": r.app_id}
        details_json = audit.canonical_json(details)
        subject = f"certificate:{number}"
        digest = audit.entry_hash(seq, at_text, who, "certificate.issued", subject, details_json, prev, details)
        audit_rows.append((seq, at_text, who, "certificate.issued", subject, details_json, prev, digest))
        hash_rows.append((full_hash, seq, full_id))
        hash_rows.append((minimal_hash, seq, minimal_id))
        prev = digest
    bulk.insert_rows(session, _table(AuditEntry),
                     ("seq", "at", "actor", "action", "subject", "details_json", "prev_hash", "hash"), audit_rows)
    head.seq, head.hash = seq, prev
    session.add(head)
    session.flush()
    bulk.insert_rows(session, _table(CredentialHash), ("hash", "audit_seq", "credential_id"), hash_rows)
    # As a single issuance does (issuance.sign_and_store): each license event goes to the provincial
    # library's outbox in the transaction that issues it.
    bulk.insert_rows(session, _table(ElicenseOutbox),
                     ("event_key", "certificate_id", "event", "created_at", "next_attempt_at", "attempts"),
                     [(key_, cid, "issued", now, now, 0) for key_, cid in zip(outbox_keys, ids, strict=True)])
    app_ids = [r.app_id for r in ready]
    session.execute(update(_table(Application)).where(_table(Application).c.id.in_(app_ids))
                    .values(state="issued", updated_at=now))
    bulk.insert_rows(session, _table(ReviewStep),
                     ("application_id", "at", "stage", "org_id", "actor_account_id", "action", "reason"),
                     [(a, now, "bureau", actor.org_id, actor.account_id, "issued", None) for a in app_ids])
    for r, (cid, number, *_rest) in zip(ready, signed, strict=True):
        outcomes.append({"id": r.item_id, "state": "issued", "certificate_id": cid, "certificate_number": number,
                         "code": None, "message": None, "worker": worker, "updated_at": now})


# ------------------------------------------------------------------ driving a run


@dataclass
class RunProgress:
    run_id: int
    total: int
    issued: int = 0
    failed: int = 0
    chunks: int = 0
    errors: list[str] = field(default_factory=list)


def work(session: Session, registry: Registry, actor: Principal, run_id: int, *, chunk: int = DEFAULT_CHUNK,
         on_chunk: Callable[[ChunkResult], None] | None = None, max_retries: int = 5) -> RunProgress:
    """Settle a run's pending items chunk by chunk until none is left (joining other workers)."""
    require_bureau(actor)
    run = get_run(session, run_id)
    progress = RunProgress(run_id, run.total)
    session.rollback()
    worker, retries = worker_name(), 0
    while True:
        try:
            res = issue_chunk(session, registry, actor, run_id, chunk, worker)
        except AppError:
            raise
        except Exception as e:
            from sqlalchemy.exc import DBAPIError

            if not isinstance(e, DBAPIError) or retries >= max_retries:
                raise
            retries += 1
            progress.errors.append(type(e).__name__)
            session.rollback()
            session.close()
            continue
        retries = 0
        if res.claimed == 0:
            break
        progress.chunks += 1
        progress.issued += res.issued
        progress.failed += res.failed
        if on_chunk is not None:
            on_chunk(res)
    _finish_if_done(session, registry, run_id)
    return progress


def run_all(session: Session, registry: Registry, actor: Principal, upload_batch_id: int | None = None,
            chunk: int = DEFAULT_CHUNK) -> BatchRun:
    """Start a run and settle it in this process (what POST /api/issuance/run does)."""
    from sqlalchemy.exc import SQLAlchemyError

    run_id = start_run(session, registry, actor, upload_batch_id).id
    assert run_id is not None
    try:
        work(session, registry, actor, run_id, chunk=chunk)
    except SQLAlchemyError:
        session.rollback()
        raise AppError("batch_interrupted", f"batch run {run_id} stopped on a database fault; what it issued is "
                       f"reported by GET /api/issuance/runs/{run_id} (titlecred batch items {run_id}); run it "
                       "again to issue the rest", 503) from None
    return get_run(session, run_id)
