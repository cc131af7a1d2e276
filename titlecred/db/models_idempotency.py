"""Idempotency keys of `POST /credentials/issue`: a repeat with the same key returns the same credential."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from titlecred.db.models import when


class IdempotencyKey(SQLModel, table=True):
    """One `Idempotency-Key` of one account: the request it came with and the credential it issued."""

    __table_args__ = (UniqueConstraint("account_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    issued_credential_id: int = Field(foreign_key="issuedcredential.id")
    created_at: datetime = when()
