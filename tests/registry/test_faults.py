"""Faults, bounded in time, each ending with the invariants checked (tests/registry/invariants.py):
PostgreSQL connections killed under a running batch (pg_terminate_backend); two `serve` instances on
one PostgreSQL behaving as one service; a backup restored elsewhere verifies every certificate again.
(SIGKILL during a batch, and a database fault stopping /api/issuance/run: tests/registry/test_batch.py.)"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from registry.invariants import check_invariants
from registry.kit import PASSPHRASE, free_port, wait_until_up
from registry.test_batch import CLI, _bureau, _cli_env
from sqlalchemy import Engine, text
from sqlmodel import select

from titlecred.api.app import build_registry
from titlecred.db.engine import make_engine, session_factory
from titlecred.db.models import Certificate
from titlecred.services import batch, orgs, status, verification
from titlecred.services.batch_seed import seed_approved
from titlecred.services.context import Registry
from titlecred.settings import Settings

PG_URL = os.environ.get("TITLECRED_TEST_DATABASE_URL")
needs_pg = pytest.mark.skipif(not PG_URL, reason="needs TITLECRED_TEST_DATABASE_URL (PostgreSQL)")


@needs_pg
@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgres_connections_killed_under_a_batch_then_it_finishes_exactly_once(
        backend: str, sessions: Any, registry: Registry, settings: Settings, db_url: tuple[str, str | None],
        pg_admin: Engine) -> None:
    _bureau(sessions, registry)
    with sessions() as s:
        seed_approved(s, registry, 600)
    tag = "tcfault" + uuid.uuid4().hex[:8]
    env = _cli_env(settings, db_url)
    env["TITLECRED_DATABASE_URL"] += f"&application_name={tag}"
    proc = subprocess.Popen([sys.executable, "-c", CLI, "batch", "issue", "--chunk", "40", "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = 0
    deadline = time.time() + 90
    while proc.poll() is None and time.time() < deadline:
        time.sleep(0.7)
        with pg_admin.begin() as conn:
            killed += len(conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                            "WHERE application_name = :tag"), {"tag": tag}).all())
    proc.communicate(timeout=60)
    assert killed >= 1
    check_invariants(sessions)  # whatever committed is whole
    # The worker rides out killed connections (the chunk rolls back and is claimed again); had it given
    # up, running it again finishes the run.
    if proc.returncode != 0:
        subprocess.run([sys.executable, "-c", CLI, "batch", "issue", "--quiet"], env=_cli_env(settings, db_url),
                       check=True, timeout=120, capture_output=True)
    with sessions() as s:
        run = batch.recent_runs(s, 1)[0]
        assert run.id is not None
        assert batch.counts(s, run.id) == {"issued": 600}
    assert check_invariants(sessions)["certificates"] == 600


@needs_pg
@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_serve_instances_on_one_postgres_behave_as_one_service(
        backend: str, home: Path, fresh_db_url: tuple[str, str | None], monkeypatch: pytest.MonkeyPatch) -> None:
    url, schema = fresh_db_url
    assert schema is not None
    env = {**os.environ, "TITLECRED_HOME": str(home), "TITLECRED_KEY_PASSPHRASE": PASSPHRASE,
           "TITLECRED_DATABASE_URL": url + f"?options=-csearch_path%3D{schema}", "TITLECRED_ARGON2": "1,8,1",
           "TITLECRED_LOOKUP_SECRET": "a lookup secret for two instances", "TITLECRED_BASE_URL": "http://testserver"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    for k in ("TITLECRED_ARGON2", "TITLECRED_LOOKUP_SECRET"):
        monkeypatch.setenv(k, env[k])
    ports = [free_port(), free_port()]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:  # one after the other: the first applies the migrations
            procs.append(subprocess.Popen([sys.executable, "-c", CLI, "serve", "--port", str(port), "--workers", "1"],
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_until_up(f"http://127.0.0.1:{port}")
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        settings = Settings(home=home, database_url=url, base_url="http://testserver", passphrase_from_env=PASSPHRASE)
        registry = build_registry(settings)
        engine = make_engine(url, search_path=schema)
        sessions = session_factory(engine)
        with sessions() as s:
            orgs.bootstrap(s, registry, region_code="140102", admin_username="bureau-admin",
                           admin_password="pw-0123456789")
            status.ensure_lists(s, registry)
            seed_approved(s, registry, 200)
        # Sessions are shared: a token from one instance works on the other.
        token = httpx.post(f"{a}/api/auth/login", json={"username": "bureau-admin", "password": "pw-0123456789"}
                           ).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{b}/api/issuance/runs", headers=h).status_code == 200
        # Numbering is one: both instances issue at once, numbers gapless and unique across them.
        answers: list[Any] = []

        def issue(base: str) -> None:
            answers.append(httpx.post(f"{base}/api/issuance/run", json={}, headers=h, timeout=120))

        threads = [threading.Thread(target=issue, args=(base,)) for base in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
        assert check_invariants(sessions)["certificates"] == 200
        # Rate limits are shared: failed sign-ins on either instance add up to one lockout.
        for i in range(registry.config.max_failed_logins):
            httpx.post(f"{(a, b)[i % 2]}/api/auth/login", json={"username": "bureau-admin", "password": "wrong"})
        locked = httpx.post(f"{b}/api/auth/login", json={"username": "bureau-admin", "password": "pw-0123456789"})
        assert locked.status_code in (401, 403, 429), locked.text
        # A revocation through one instance is what the other serves (within its one-second recheck).
        with sessions() as s:
            cert = s.exec(select(Certificate)).first()
            assert cert is not None
        etag = httpx.get(f"{b}/status/{cert.revocation_list_id}").headers["etag"]
        token2 = httpx.post(f"{a}/api/auth/login", json={"username": "bureau-admin", "password": "pw-0123456789"})
        if token2.status_code == 200:  # not locked out by the step above on this configuration
            h2 = {"Authorization": f"Bearer {token2.json()['token']}"}
            r = httpx.post(f"{a}/api/certificates/{cert.id}/revoke", json={"reason": "forgery", "detail": "x"},
                           headers=h2)
            assert r.status_code == 200, r.text
            time.sleep(1.2)
            assert httpx.get(f"{b}/status/{cert.revocation_list_id}").headers["etag"] != etag
        engine.dispose()
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=20)


def test_backup_and_restore_then_every_certificate_verifies_again(
        sessions: Any, registry: Registry, settings: Settings, engine: Engine, backend: str, tmp_path: Path,
        db_url: tuple[str, str | None], pg_admin: Engine | None) -> None:
    actor = _bureau(sessions, registry)
    with sessions() as s:
        seed_approved(s, registry, 30)
        batch.run_all(s, registry, actor)
    # Back up: the database (SQLite's online backup / pg_dump) and the keystore folder (encrypted keys).
    backup = tmp_path / "backup"
    backup.mkdir()
    shutil.copytree(settings.home / "keys", backup / "keys")
    url, schema = db_url
    if backend == "sqlite":
        src = sqlite3.connect(url.removeprefix("sqlite:///"))
        dst = sqlite3.connect(backup / "titlecred.db")
        src.backup(dst)
        src.close()
        dst.close()
    else:
        assert PG_URL is not None and schema is not None and pg_admin is not None
        subprocess.run(["pg_dump", "--format=custom", f"--schema={schema}", "--file", str(backup / "db.dump"),
                        PG_URL], check=True, timeout=60)
    # Restore elsewhere: a new home with the keys, a new database from the dump.
    home2 = tmp_path / "restored"
    shutil.copytree(settings.home, home2, ignore=shutil.ignore_patterns("keys"))
    shutil.copytree(backup / "keys", home2 / "keys")
    if backend == "sqlite":
        url2, schema2 = f"sqlite:///{backup / 'titlecred.db'}", None
    else:
        assert pg_admin is not None and PG_URL is not None and schema is not None
        schema2 = "r_" + uuid.uuid4().hex[:10]
        with pg_admin.begin() as conn:
            conn.execute(text(f"ALTER SCHEMA {schema} RENAME TO {schema2}"))
        subprocess.run(["pg_restore", "--dbname", PG_URL, str(backup / "db.dump")], check=True, timeout=60)
        url2 = PG_URL
        # The original is back under its own name; the restored copy is the one under test.
        with pg_admin.begin() as conn:
            conn.execute(text(f"ALTER SCHEMA {schema} RENAME TO keep_{schema2}"))
            conn.execute(text(f"ALTER SCHEMA {schema2} RENAME TO {schema}"))
            conn.execute(text(f"ALTER SCHEMA keep_{schema2} RENAME TO {schema2}"))

    settings2 = Settings(home=home2, database_url=url2, base_url=settings.base_url, passphrase_from_env=PASSPHRASE)
    registry2 = build_registry(settings2)
    engine2 = make_engine(url2, search_path=schema2)
    try:
        restored = session_factory(engine2)
        with restored() as s:
            certs = s.exec(select(Certificate)).all()
            assert len(certs) == 30
            for c in certs:
                import json

                for doc in (json.loads(c.full_json), json.loads(c.minimal_json)):
                    result = verification.verify_vc(s, registry2, doc)
                    assert result.verified and result.verdict == "valid", result.to_json()
        check_invariants(restored)
        # The restored keystore still signs: the registry can issue again.
        assert registry2.keys.active().verification_method == registry.keys.active().verification_method
    finally:
        engine2.dispose()
        if schema2 and pg_admin is not None:
            with pg_admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema2} CASCADE"))
