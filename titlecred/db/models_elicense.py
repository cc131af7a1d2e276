"""The e-license outbox: one row per license event for the provincial library, written in the same
transaction as the issuance, reissue or revocation it reports (see titlecred/services/outbox.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from titlecred.db.models import when


class ElicenseOutbox(SQLModel, table=True):
    __tablename__ = "elicense_outbox"
    # The deliverers' query: pending rows in order of their next attempt.
    __table_args__ = (Index("ix_elicense_outbox_delivered_at_next_attempt_at", "delivered_at", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # The idempotency key of the license event (sent as Idempotency-Key): `<e-license id or number>:<event>`.
    event_key: str = Field(max_length=160, unique=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    event: str = Field(max_length=16)  # issued | reissued | revoked
    created_at: datetime = when()
    next_attempt_at: datetime = when()
    attempts: int = 0
    # A claim is a lease: a deliverer that dies leaves it to expire, and another takes the row again.
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = when(nullable=True)
    delivered_at: datetime | None = when(nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
