"""Batch runs: the durable, per-row outcome of issuing approved applications in bulk.

A `BatchRun` is one request to issue (every approved application, or those of one upload); each of its
applications is a `BatchItem` that ends `issued` (with its certificate) or `failed` (with a stable code
and message). Items are written before any certificate is signed, and each chunk of items is marked in
the same transaction that stores its certificates, so the report survives any crash of the process
or the database: what committed is reported, what did not is still `pending` and is resumed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from titlecred.db.models import when


class BatchRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(max_length=120)
    # Only the applications of this upload batch, if given.
    upload_batch_id: int | None = Field(default=None, foreign_key="uploadbatch.id")
    # running | done
    state: str = Field(max_length=16, index=True)
    total: int
    created_at: datetime = when()
    finished_at: datetime | None = when(nullable=True)


class BatchItem(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("run_id", "application_id"),
                      Index("ix_batchitem_run_id_state_id", "run_id", "state", "id"))

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="batchrun.id")
    application_id: int = Field(foreign_key="application.id", index=True)
    # pending | issued | failed | superseded (taken over by a later run)
    state: str = Field(max_length=16)
    certificate_id: int | None = Field(default=None, foreign_key="certificate.id")
    certificate_number: str | None = Field(default=None, max_length=32)
    code: str | None = Field(default=None, max_length=48)
    message: str | None = Field(default=None, max_length=500)
    # Which worker (host:pid) settled it.
    worker: str | None = Field(default=None, max_length=64)
    updated_at: datetime | None = when(nullable=True)
