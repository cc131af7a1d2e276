"""Transactions and row locks, the same call on SQLite and PostgreSQL.

- `atomic(session)`: commit at the end, roll back on any exception (the one-transaction rule).
- `locked(session, statement)`: `SELECT ... FOR UPDATE` (PostgreSQL holds the row until commit; on
  SQLite the whole database is already locked by BEGIN IMMEDIATE, see titlecred.db.engine).
- `insert_ignore`: INSERT ... ON CONFLICT DO NOTHING, for rows that exist once (counters, heads).

It must never commit inside a caller's transaction except through `atomic`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")


@contextmanager
def atomic(session: Session) -> Iterator[Session]:
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def locked(session: Session, statement: SelectOfScalar[T]) -> T | None:
    """The first row of `statement`, locked for this transaction, with fresh values."""
    stmt = statement.with_for_update().execution_options(populate_existing=True)
    return session.exec(stmt).first()


def insert_ignore(session: Session, model: type[SQLModel], values: dict[str, Any]) -> None:
    table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        stmt: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    session.execute(stmt)
