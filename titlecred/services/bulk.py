"""Bulk writes inside the caller's transaction: many rows of one table in one call, on SQLite and PostgreSQL.

- `insert_rows(session, table, columns, rows)`: PostgreSQL `COPY ... FROM STDIN` (one stream, no SQL
  text to build or parse per row); SQLite one prepared `INSERT` run by the driver's `executemany`.
  Column values go through the columns' own bind processors (e.g. `UtcDateTime`), so what is stored
  is what an ORM or Core insert would store.
- `reserve_ids(session, table, n)`: `n` primary keys for rows about to be inserted with them given,
  so the caller can point other rows at them without reading anything back.

Driver errors come out as SQLAlchemy's (`DBAPIError` and its subclasses), as from `session.execute`:
the callers' retry and fault handling must not tell the two paths apart.

It must never commit, nor write outside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

_Processor = Callable[[Any], Any] | None
_processors: dict[tuple[str, str, tuple[str, ...]], list[_Processor]] = {}


def _column_processors(table: Table, columns: Sequence[str], conn: Connection) -> list[_Processor]:
    key = (conn.dialect.name, table.name, tuple(columns))
    found = _processors.get(key)
    if found is None:
        found = [table.c[c].type.bind_processor(conn.dialect) for c in columns]
        _processors[key] = found
    return found


def _bound(rows: Sequence[Sequence[Any]], procs: list[_Processor]) -> Sequence[Sequence[Any]]:
    active = [(i, p) for i, p in enumerate(procs) if p is not None]
    if not active:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for i, p in active:
            values[i] = p(values[i])
        out.append(values)
    return out


@contextmanager
def _sqlalchemy_errors(conn: Connection, statement: str) -> Iterator[None]:
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as e:
        # What SQLAlchemy does for its own statements: a lost connection is invalidated (the pool
        # drops it), and the error is raised wrapped, so the caller's `except DBAPIError` sees it.
        lost = conn.dialect.is_disconnect(e, conn.connection.dbapi_connection, None)
        if lost:
            conn.invalidate(e)
        raise DBAPIError.instance(statement, None, e, dbapi_error, connection_invalidated=lost,
                                  dialect=conn.dialect) from e


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (values in the order of `columns`) into `table`, in the session's transaction."""
    if not rows:
        return
    conn = session.connection()
    values = _bound(rows, _column_processors(table, columns, conn))
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    name = conn.dialect.identifier_preparer.format_table(table)
    if conn.dialect.name == "postgresql":
        statement = f"COPY {name} ({names}) FROM STDIN"
        with _sqlalchemy_errors(conn, statement):
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in values:
                    copy.write_row(row)
    else:
        # Only names from the table's metadata, quoted by the dialect, go into the text; values are bound.
        statement = f"INSERT INTO {name} ({names}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
        # The driver's executemany through SQLAlchemy: one prepared statement, no per-row compiling.
        conn.exec_driver_sql(statement, [tuple(v) for v in values])


def reserve_ids(session: Session, table: Table, n: int) -> list[int]:
    """`n` unused values of `table`'s integer primary key `id`, ascending, for rows this transaction inserts."""
    if n <= 0:
        return []
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # The column's own sequence, as a default value would take them: concurrent inserters never collide.
        rows = conn.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                            {"t": conn.dialect.identifier_preparer.format_table(table), "n": n}).scalars()
        return sorted(int(i) for i in rows)
    # SQLite gives a new row the largest id plus one (an INTEGER PRIMARY KEY without AUTOINCREMENT);
    # the transaction holds the database's write lock (BEGIN IMMEDIATE), so nobody inserts in between.
    first = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
    return list(range(first, first + n))
