"""Bulk writes (titlecred/services/bulk.py), on SQLite and PostgreSQL: rows stored as an ORM insert stores
them, reserved ids never collide with ids the database gives, and a driver error reaches the caller as
SQLAlchemy's own (the batch's retry and fault handling depend on it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from titlecred.db.models import AuditHead, StatusEntry, StatusList
from titlecred.services import bulk


def _list(s: Any) -> None:
    s.add(StatusList(id="revocation-1", purpose="revocation", size_bits=8, bits=bytes(1), used=0, version=1,
                     published_version=0, created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    s.commit()


def test_bulk_rows_read_back_as_an_orm_insert_stores_them(sessions: Any) -> None:
    when = datetime(2026, 3, 4, 13, 14, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    with sessions() as s:
        _list(s)
        s.add(StatusEntry(list_id="revocation-1", index=0, credential_id="urn:uuid:orm", created_at=when))
        s.commit()
        table: Any = StatusEntry.__table__  # type: ignore[attr-defined]
        ids = bulk.reserve_ids(s, table, 2)
        bulk.insert_rows(s, table, ("id", "list_id", "index", "credential_id", "created_at"),
                         [(ids[0], "revocation-1", 1, "urn:uuid:b1", when),
                          (ids[1], "revocation-1", 2, None, when)])
        s.commit()
        # An id the database gives after the reserved ones does not collide with them.
        s.add(StatusEntry(list_id="revocation-1", index=3, credential_id="urn:uuid:after", created_at=when))
        s.commit()
        rows = s.exec(select(StatusEntry).order_by(col(StatusEntry.index))).all()
        assert [r.index for r in rows] == [0, 1, 2, 3]
        assert [r.id for r in rows][1:3] == ids and len({r.id for r in rows}) == 4
        assert [r.credential_id for r in rows] == ["urn:uuid:orm", "urn:uuid:b1", None, "urn:uuid:after"]
        # The time went through the column's own processor: the same instant, read back in UTC.
        assert {r.created_at for r in rows} == {when.astimezone(UTC)}


def test_a_constraint_broken_by_bulk_rows_is_sqlalchemys_integrity_error(sessions: Any) -> None:
    with sessions() as s:
        _list(s)
        table: Any = StatusEntry.__table__  # type: ignore[attr-defined]
        now = datetime(2026, 1, 1, tzinfo=UTC)
        with pytest.raises(IntegrityError):
            bulk.insert_rows(s, table, ("list_id", "index", "created_at"),
                             [("revocation-1", 5, now), ("revocation-1", 5, now)])
        s.rollback()
        # The session is usable after the rollback, and nothing of the failed rows was kept.
        s.add(AuditHead(id=1, seq=0, hash="0" * 64))
        s.commit()
        assert s.exec(select(StatusEntry)).all() == []
