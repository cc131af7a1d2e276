"""Exchange with the provincial e-license library: a durable outbox of license events.

Writing: `enqueue` adds one row per license event (issued, reissued, revoked) inside the transaction
that issues, reissues or revokes the certificate, so an event exists exactly when its change was
committed. The row's `event_key` (`<e-license identifier or certificate number>:<event>`, unique) is
sent as the `Idempotency-Key` of every attempt, so the library never files one event as two licenses.

Delivering: any number of deliverers (processes, hosts) run `Deliverer.run_once` in a loop. A deliverer
claims a few due rows with `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL; on SQLite the write
transaction is serialized by BEGIN IMMEDIATE) and takes a lease on them (`claimed_until`); it then
renders and sends each outside the transaction and marks it delivered. A failure is recorded and the
row retried with exponential backoff (5 s doubling, capped at one hour). A deliverer that dies leaves
its lease to expire: another takes the row again and sends it with the same key. At least once, with
the key making it exactly once at the library.

Payload (JSON, POST to TITLECRED_ELICENSE_ENDPOINT): `idempotencyKey`, `event`, `certificateNumber`,
`eLicenseIdentifier`, `metadata` (the GB/T 36903 field set of `issuer.elicense_meta`), and for issued
and reissued certificates `ofd` (the certificate's OFD, sealed when a seal signer is configured, base64)
with `ofdSha256`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from issuer.compact import compact_from_minimal
from issuer.elicense_meta import license_metadata
from titlecred.db.models import Certificate
from titlecred.db.models_elicense import ElicenseOutbox
from titlecred.services.context import Registry
from titlecred.services.tx import atomic

EVENTS = ("issued", "reissued", "revoked")
BASE_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(hours=1)
MAX_ERROR = 1000


def event_key(cert: Certificate, event: str) -> str:
    return event_key_of(cert.full_json, cert.certificate_number, event)


def event_key_of(full_json: str, certificate_number: str, event: str, full: dict[str, Any] | None = None) -> str:
    """`full`: the credential `full_json` holds, when the caller has it already (no second parse)."""
    full = json.loads(full_json) if full is None else full
    ident = full.get("credentialSubject", {}).get("eLicenseIdentifier") or certificate_number
    return f"{ident}:{event}"


def enqueue(session: Session, cert: Certificate, event: str, now: datetime) -> None:
    """Record a license event inside the caller's transaction (never commits)."""
    if event not in EVENTS:
        raise ValueError(f"unknown license event {event!r}")
    assert cert.id is not None
    session.add(ElicenseOutbox(event_key=event_key(cert, event), certificate_id=cert.id, event=event,
                               created_at=now, next_attempt_at=now, attempts=0))


class DeliveryFailed(Exception):
    pass


class LibraryTransport(Protocol):
    def send(self, key: str, payload: bytes) -> None:
        """Deliver one event; raise DeliveryFailed (or any error) if the library did not take it."""


class HttpTransport:
    """POST to the library's endpoint; 2xx, or 409 for a key it already has, is delivered."""

    def __init__(self, endpoint: str, *, token: str | None = None, timeout: float = 30.0) -> None:
        import httpx

        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(timeout=timeout, headers=headers)
        self._endpoint = endpoint

    def send(self, key: str, payload: bytes) -> None:
        import httpx

        try:
            response = self._client.post(self._endpoint, content=payload, headers={"Idempotency-Key": key})
        except httpx.HTTPError as e:
            raise DeliveryFailed(f"{type(e).__name__}: the library could not be reached") from None
        if not (200 <= response.status_code < 300 or response.status_code == 409):
            raise DeliveryFailed(f"the library answered {response.status_code}")


def backoff(attempts: int) -> timedelta:
    return min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def payload(registry: Registry, cert: Certificate, row: ElicenseOutbox,
            seal: Callable[[bytes], bytes] | None = None) -> bytes:
    full, minimal = json.loads(cert.full_json), json.loads(cert.minimal_json)
    state = "revoked" if row.event == "revoked" else cert.state
    body: dict[str, Any] = {
        "idempotencyKey": row.event_key, "event": row.event, "certificateNumber": cert.certificate_number,
        "eLicenseIdentifier": full["credentialSubject"].get("eLicenseIdentifier"),
        "metadata": license_metadata(full, state=state),
    }
    if row.event != "revoked":
        from printing.ofd.package import render_ofd

        qr_text = compact_from_minimal(minimal, registry.keys.active(), registry.base_url, now=registry.now())
        ofd = render_ofd(full, qr_text)
        if seal is not None:
            ofd = seal(ofd)
        body["ofd"] = base64.b64encode(ofd).decode("ascii")
        body["ofdSha256"] = hashlib.sha256(ofd).hexdigest()
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


@dataclass
class Deliverer:
    sessions: Callable[[], Session]
    registry: Registry
    transport: LibraryTransport
    worker_id: str
    lease: timedelta = timedelta(seconds=120)
    batch: int = 10
    seal: Callable[[bytes], bytes] | None = None
    clock: Callable[[], datetime] | None = None

    def _now(self) -> datetime:
        return (self.clock or self.registry.clock)()

    def claim(self) -> list[int]:
        """Take a lease on up to `batch` due rows; other deliverers skip them (SKIP LOCKED, then the lease)."""
        with self.sessions() as session, atomic(session):
            now = self._now()
            rows = session.exec(
                select(ElicenseOutbox)
                .where(col(ElicenseOutbox.delivered_at).is_(None), col(ElicenseOutbox.next_attempt_at) <= now,
                       or_(col(ElicenseOutbox.claimed_until).is_(None), col(ElicenseOutbox.claimed_until) < now))
                .order_by(col(ElicenseOutbox.next_attempt_at), col(ElicenseOutbox.id))
                .limit(self.batch).with_for_update(skip_locked=True)).all()
            for row in rows:
                row.claimed_by, row.claimed_until = self.worker_id, now + self.lease
                session.add(row)
            return [row.id for row in rows if row.id is not None]

    def _finish(self, row_id: int, error: str | None) -> None:
        with self.sessions() as session, atomic(session):
            now = self._now()
            mine = (col(ElicenseOutbox.id) == row_id) & (col(ElicenseOutbox.claimed_by) == self.worker_id) & \
                col(ElicenseOutbox.delivered_at).is_(None)
            if error is None:
                values: dict[str, Any] = {"delivered_at": now, "claimed_until": None, "last_error": None}
            else:
                row = session.get(ElicenseOutbox, row_id)
                attempts = (row.attempts if row else 0) + 1
                values = {"attempts": attempts, "next_attempt_at": now + backoff(attempts), "claimed_by": None,
                          "claimed_until": None, "last_error": error[:MAX_ERROR]}
            session.execute(update(ElicenseOutbox).where(mine).values(**values))

    def deliver(self, row_id: int) -> bool:
        with self.sessions() as session:
            row = session.get(ElicenseOutbox, row_id)
            cert = session.get(Certificate, row.certificate_id) if row else None
            if row is None or cert is None or row.delivered_at is not None:
                return False
            key = row.event_key
            try:
                body = payload(self.registry, cert, row, self.seal)
            except Exception as e:  # a certificate that cannot be rendered now is retried, never dropped
                error: str | None = f"cannot build the payload: {type(e).__name__}"
                body = b""
        if body:
            try:
                self.transport.send(key, body)
                error = None
            except Exception as e:
                error = str(e) if isinstance(e, DeliveryFailed) else type(e).__name__
        self._finish(row_id, error)
        return error is None

    def run_once(self) -> int:
        """Claim and deliver one batch; the number delivered."""
        return sum(1 for row_id in self.claim() if self.deliver(row_id))


def pending(session: Session) -> list[ElicenseOutbox]:
    return list(session.exec(select(ElicenseOutbox).where(col(ElicenseOutbox.delivered_at).is_(None))
                             .order_by(col(ElicenseOutbox.id))).all())
