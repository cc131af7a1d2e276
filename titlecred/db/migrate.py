"""Schema migrations (Alembic, configured in code: scripts in titlecred/migrations).

`upgrade(url)` brings a database to the newest schema (what `titlecred serve` does at start);
`create_all(engine)` makes the tables directly from the models (tests, which start from empty every
time); a test checks that both give the same schema.

It must never run a migration the caller did not ask for, nor drop data.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from titlecred.db.engine import normalize_url
from titlecred.db.models import metadata

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str, search_path: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # '%' must be doubled for ConfigParser; the URL may carry a percent-encoded password.
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    if search_path:
        cfg.attributes["search_path"] = search_path
    return cfg


def upgrade(url: str, revision: str = "head", search_path: str | None = None) -> None:
    command.upgrade(alembic_config(url, search_path), revision)


def create_all(engine: Engine) -> None:
    metadata.create_all(engine)
