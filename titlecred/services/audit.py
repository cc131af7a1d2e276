"""The audit trail: an append-only, hash-chained log of every state change that matters.

Each entry is `(seq, at, actor, action, subject, details, prev_hash, hash)` with
`hash = sha256(canonical JSON of {seq, at, actor, action, subject, details, prevHash})`, canonical
JSON being sorted keys, no spaces, UTF-8. The first entry's prev_hash is 64 zeros. Appenders lock the
one `AuditHead` row, so two transactions never both write entry n+1 (PostgreSQL), and an entry is
written in the same transaction as the change it records.

Published checkpoints (latest seq and hash, `GET /audit/checkpoint`) are remembered with the time they
were first published: a credential whose hash an issuance entry holds, covered by a checkpoint
published before a key compromise, provably existed before it (`evidence_lookup`).

What it must never do: update or delete an entry, or record a full resident ID number (details hold
certificate numbers, application ids, hashes and reasons only).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from titlecred.db.models import AuditCheckpoint, AuditEntry, AuditHead, CredentialHash
from titlecred.services.clock import parse_stamp, stamp
from titlecred.services.tx import atomic, insert_ignore, locked
from verifier.policy import IssuanceEvidence

GENESIS = "0" * 64


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def credential_hash(credential: dict[str, Any]) -> str:
    """The hash that identifies a signed credential however its JSON is spaced or ordered."""
    return sha256_hex(canonical_json(credential))


def entry_hash(seq: int, at: str, actor: str, action: str, subject: str, details_json: str, prev_hash: str,
               details: dict[str, Any] | None = None) -> str:
    """`details`: the object `details_json` is the canonical JSON of, when the caller has it (no parse)."""
    body = {"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject,
            "details": json.loads(details_json) if details is None else details, "prevHash": prev_hash}
    return sha256_hex(canonical_json(body))


def append(session: Session, *, at: datetime, actor: str, action: str, subject: str,
           details: dict[str, Any]) -> AuditEntry:
    """Append one entry inside the caller's transaction (never commits)."""
    insert_ignore(session, AuditHead, {"id": 1, "seq": 0, "hash": GENESIS})
    head = locked(session, select(AuditHead).where(AuditHead.id == 1))
    assert head is not None
    seq = head.seq + 1
    at_text = stamp(at)
    details_json = canonical_json(details)
    digest = entry_hash(seq, at_text, actor, action, subject, details_json, head.hash)
    entry = AuditEntry(seq=seq, at=at_text, actor=actor, action=action, subject=subject,
                       details_json=details_json, prev_hash=head.hash, hash=digest)
    session.add(entry)
    head.seq, head.hash = seq, digest
    session.add(head)
    return entry


def record_credential(session: Session, entry: AuditEntry, credential: dict[str, Any]) -> str:
    """Index a signed credential's hash to the entry that recorded its issuance; return the hash."""
    digest = credential_hash(credential)
    session.add(CredentialHash(hash=digest, audit_seq=entry.seq, credential_id=str(credential.get("id", ""))))
    return digest


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str | None = None


def verify_chain(session: Session, batch: int = 1000) -> ChainReport:
    """Walk the whole chain; report the first entry whose hash, link or number is wrong."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    last = 0
    while True:
        rows = session.exec(select(AuditEntry).where(AuditEntry.seq > last)
                            .order_by(col(AuditEntry.seq)).limit(batch)).all()
        if not rows:
            break
        for e in rows:
            if e.seq != expected_seq:
                return ChainReport(False, count, last, prev_hash, expected_seq,
                                   f"entry #{expected_seq} is missing (next is #{e.seq})")
            if e.prev_hash != prev_hash:
                return ChainReport(False, count, last, prev_hash, e.seq,
                                   f"entry #{e.seq} does not link to the entry before it")
            try:
                digest = entry_hash(e.seq, e.at, e.actor, e.action, e.subject, e.details_json, e.prev_hash)
            except ValueError:
                return ChainReport(False, count, last, prev_hash, e.seq, f"entry #{e.seq} has unreadable details")
            if digest != e.hash:
                return ChainReport(False, count, last, prev_hash, e.seq,
                                   f"entry #{e.seq} was changed after it was written (hash mismatch)")
            prev_hash, last, expected_seq, count = e.hash, e.seq, e.seq + 1, count + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != last or head.hash != prev_hash):
        return ChainReport(False, count, last, prev_hash, last + 1 if head.seq > last else last,
                           f"the log head says #{head.seq} but the chain ends at #{last} (entries removed?)")
    return ChainReport(True, count, last, prev_hash)


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    published_at: str | None


def checkpoint(session: Session, now: datetime, *, publish: bool = True) -> Checkpoint:
    """The latest seq and hash; with `publish`, remember when this head was first shown (commits)."""
    with atomic(session):
        head = session.get(AuditHead, 1)
        if head is None or head.seq == 0:
            return Checkpoint(0, GENESIS, None)
        if publish:
            insert_ignore(session, AuditCheckpoint, {"seq": head.seq, "hash": head.hash, "published_at": stamp(now)})
        cp = session.get(AuditCheckpoint, head.seq)
        return Checkpoint(head.seq, head.hash, cp.published_at if cp else None)


def evidence_lookup(session: Session) -> Callable[[dict[str, Any]], IssuanceEvidence | None]:
    """For the verifier: evidence, independent of the signer, of when a credential was issued.

    The credential's hash must be in an issuance entry whose own hash is intact, and a checkpoint at or
    after that entry, matching the log, must have been published; the evidence time is the earliest
    such publication (conservative: the world could know of the credential from then on).
    """

    def lookup(credential: dict[str, Any]) -> IssuanceEvidence | None:
        row = session.get(CredentialHash, credential_hash(credential))
        if row is None:
            return None
        entry = session.get(AuditEntry, row.audit_seq)
        if entry is None or entry_hash(entry.seq, entry.at, entry.actor, entry.action, entry.subject,
                                       entry.details_json, entry.prev_hash) != entry.hash:
            return None
        cp = session.exec(select(AuditCheckpoint).where(AuditCheckpoint.seq >= entry.seq)
                          .order_by(col(AuditCheckpoint.published_at), col(AuditCheckpoint.seq))).first()
        if cp is None:
            return None
        at_cp = session.get(AuditEntry, cp.seq)
        if at_cp is None or at_cp.hash != cp.hash:
            return None
        return IssuanceEvidence(
            issued_before=parse_stamp(cp.published_at),
            description=(f"the registry's issuance log entry #{entry.seq} ({entry.action}, {entry.at}), "
                         f"covered by checkpoint #{cp.seq} published at {cp.published_at}"),
        )

    return lookup


def entries(session: Session, after: int = 0, limit: int = 100) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).where(AuditEntry.seq > after)
                             .order_by(col(AuditEntry.seq)).limit(limit)).all())
