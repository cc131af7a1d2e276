"""The Alembic migrations build exactly the schema of the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from titlecred.db.engine import make_engine
from titlecred.db.migrate import upgrade
from titlecred.db.models import metadata


def test_upgrade_head_matches_the_models(fresh_db_url: tuple[str, str | None]) -> None:
    url, schema = fresh_db_url
    upgrade(url, search_path=schema)
    engine = make_engine(url, search_path=schema)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert set(metadata.tables) <= tables and "alembic_version" in tables
        upgrade(url, search_path=schema)  # a second upgrade is a no-op
    finally:
        engine.dispose()
