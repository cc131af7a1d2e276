"""Engines and sessions for SQLite (the default, one file) and PostgreSQL (production).

What it is for: one place that knows the two databases' differences in *how* a transaction starts and
locks, so that services can say "lock this row" once and be correct on both:
- PostgreSQL: READ COMMITTED plus `SELECT ... FOR UPDATE` on the rows a transaction will change
  (numbering counters, status lists, the audit head).
- SQLite: every transaction is `BEGIN IMMEDIATE`, so writers are serialized from their first
  statement (SQLite has no row locks; `FOR UPDATE` is dropped by SQLAlchemy's SQLite dialect), and a
  busy writer waits (busy timeout) rather than failing.

It must never log the URL (it may carry a password) and never choose a database on its own: the URL
comes from settings (`TITLECRED_DATABASE_URL`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine

# How long a SQLite writer waits for another one to finish (seconds).
SQLITE_BUSY_TIMEOUT = 30


def normalize_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (SQLAlchemy's default driver, psycopg2, is not installed)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, search_path: str | None = None, pg_settings: dict[str, str] | None = None,
                **kwargs: Any) -> Engine:
    """An engine for `url`. PostgreSQL only: `search_path` puts every table in that schema, and
    `pg_settings` sets session parameters (tests use both: a schema per test, no fsync wait)."""
    url = normalize_url(url)
    if is_sqlite_url(url):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT},
                               **kwargs)
        _sqlite_immediate(engine)
        return engine
    connect_args: dict[str, Any] = {}
    params = dict(pg_settings or {})
    if search_path:
        params["search_path"] = search_path
    if params:
        connect_args["options"] = " ".join(f"-c{k}={v}" for k, v in params.items())
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True, **kwargs)


def _sqlite_immediate(engine: Engine) -> None:
    # The SQLAlchemy recipe for SQLite transactions that lock at BEGIN: take pysqlite's own implicit
    # BEGIN away, then emit BEGIN IMMEDIATE ourselves whenever SQLAlchemy begins a transaction.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers of the file (backups, sqlite3 shell) work while a writer holds the lock.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: services return the rows they wrote, and callers read them after commit.
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that is closed (and any open transaction rolled back) on the way out."""
    session = factory()
    try:
        yield session
    finally:
        session.close()


def dialect_name(session: Session) -> str:
    bind = session.get_bind()
    return bind.dialect.name
