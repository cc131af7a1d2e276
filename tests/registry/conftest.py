"""Fixtures of the registry tests: a real database per test (SQLite always, PostgreSQL too when
TITLECRED_TEST_DATABASE_URL is set), a real keystore, a real app, and a populated world.

Each test gets a clean database: a fresh SQLite file in tmp_path, or a fresh PostgreSQL schema that
is dropped afterwards. Argon2 runs at its lowest cost here (configuration, not a mock).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from nacl.pwhash import argon2id
from registry.kit import DID, PASSPHRASE, PASSWORD, Actor, Clock, World, resident_id, unit_code
from sqlalchemy import Engine, text

from issuer.credential import IssuerProfile
from keys.store import KeyStore
from titlecred.api.app import build_registry, create_app
from titlecred.db.engine import make_engine, session_factory
from titlecred.db.migrate import create_all
from titlecred.issuer_profile import save_profile
from titlecred.services import orgs, status
from titlecred.services.config import Argon2Params, RegistryConfig
from titlecred.services.context import Registry
from titlecred.settings import Settings

PG_URL = os.environ.get("TITLECRED_TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine | None]:
    if not PG_URL:
        yield None
        return
    admin = make_engine(PG_URL)
    yield admin
    admin.dispose()


@pytest.fixture(scope="session")
def pg_shared(pg_admin: Engine | None) -> Iterator[tuple[Engine, str] | None]:
    """One PostgreSQL schema with every table, emptied before each test (faster than creating it anew)."""
    if pg_admin is None:
        yield None
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    with pg_admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    assert PG_URL is not None
    # synchronous_commit=off: commits do not wait for the disk (the tests' data need not survive a crash).
    eng = make_engine(PG_URL, search_path=schema, pg_settings={"synchronous_commit": "off"})
    create_all(eng)
    try:
        yield eng, schema
    finally:
        eng.dispose()
        with pg_admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture(params=DATABASES)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, pg_shared: tuple[Engine, str] | None) -> tuple[str, str | None]:
    """The database the test's app uses: (URL, PostgreSQL schema or None)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}", None
    assert PG_URL is not None and pg_shared is not None
    return PG_URL, pg_shared[1]


@pytest.fixture
def engine(backend: str, db_url: tuple[str, str | None], pg_shared: tuple[Engine, str] | None) -> Iterator[Engine]:
    """A clean database: a new SQLite file, or the shared PostgreSQL schema with every table emptied."""
    if backend == "sqlite":
        eng = make_engine(db_url[0])
        create_all(eng)
        yield eng
        eng.dispose()
        return
    assert pg_shared is not None
    eng = pg_shared[0]
    from titlecred.db.models import metadata

    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with eng.begin() as conn:
        conn.execute(text(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE"))
    yield eng


@pytest.fixture
def fresh_db_url(backend: str, tmp_path: Path, pg_admin: Engine | None) -> Iterator[tuple[str, str | None]]:
    """An empty database with no tables at all (migrations, the demo): a new file, or a new schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}", None
        return
    assert PG_URL is not None and pg_admin is not None
    schema = "t_" + uuid.uuid4().hex[:12]
    with pg_admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield PG_URL, schema
    finally:
        with pg_admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings = Settings(home=home, database_url="sqlite://", base_url="http://testserver",
                        passphrase_from_env=PASSPHRASE)
    save_profile(settings, IssuerProfile(did=DID, name="示例市人力资源和社会保障局", unit_code=unit_code(1)))
    # The lowest Argon2id cost: each key file records its own, so the app opens it as is.
    KeyStore(settings.keys_dir, PASSPHRASE, opslimit=argon2id.OPSLIMIT_MIN,
             memlimit=argon2id.MEMLIMIT_MIN).generate(DID)
    return home


@pytest.fixture
def settings(home: Path, db_url: tuple[str, str | None]) -> Settings:
    return Settings(home=home, database_url=db_url[0], base_url="http://testserver", passphrase_from_env=PASSPHRASE)


@pytest.fixture
def config() -> RegistryConfig:
    # A low answer floor keeps the lookup tests fast; the memory sender lets tests read sign-in codes.
    return RegistryConfig(lookup_secret=b"test lookup secret, 32 bytes...", argon2=Argon2Params(1, 8, 1),
                          max_failed_logins=3, lookup_floor=timedelta(milliseconds=50), code_sender="memory")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(settings: Settings, config: RegistryConfig, clock: Clock) -> Registry:
    return build_registry(settings, config, clock)


@pytest.fixture
def sessions(engine: Engine) -> Any:
    return session_factory(engine)


@pytest.fixture
def client(settings: Settings, registry: Registry, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings, registry=registry, engine=engine)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def world(client: TestClient, sessions: Any, registry: Registry) -> World:
    with sessions() as s:
        bureau, admin = orgs.bootstrap(s, registry, region_code="140102", admin_username="bureau-admin",
                                       admin_password=PASSWORD)
        status.ensure_lists(s, registry)
    w = World(client, sessions, registry)
    assert bureau.id is not None and admin.account.id is not None
    w.orgs["bureau"] = bureau.id
    w.actors["bureau"] = Actor("bureau-admin", w.login("bureau-admin"), admin.account.id, bureau.id)
    w.add_account("bureau-officer", "bureau")
    w.add_org("district", "district_bureau", 2)
    w.add_org("supervisory", "supervisory", 3)
    w.add_org("employer", "employer", 4, supervisorId=w.orgs["supervisory"], districtId=w.orgs["district"])
    w.add_org("employer2", "employer", 5, supervisorId=w.orgs["supervisory"], districtId=w.orgs["district"])
    w.add_org("committee", "committee", 6, organizingUnit="示例市工程技术职称改革领导小组")
    w.add_org("committee2", "committee", 7)
    w.add_org("selfreview", "self_review_unit", 8)
    w.add_org("exam", "exam_body", 9)
    for name in ("district", "supervisory", "employer", "employer2", "committee", "committee2", "selfreview", "exam"):
        w.add_account(name, name)
    w.ids["holder"] = resident_id(seq=41)
    w.ids["holder2"] = resident_id(seq=52)
    w.add_account("holder", "employer", "holder", {"name": "张三", "idNumber": w.ids["holder"],
                                                    "namePinyin": "Zhang San"})
    w.add_account("holder2", "employer2", "holder", {"name": "李四", "idNumber": w.ids["holder2"],
                                                      "namePinyin": "Li Si"})
    return w
