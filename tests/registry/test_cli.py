"""The service contract: `titlecred demo` on an empty home, `titlecred serve` as a real server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from registry.kit import PASSPHRASE, free_port, wait_until_up
from sqlmodel import select
from typer.testing import CliRunner

import titlecred.cli_registry  # noqa: F401  (registers the registry's commands)
from titlecred.api.app import create_app
from titlecred.cli import app as cli
from titlecred.db.engine import make_engine, session_factory
from titlecred.db.models import Application, Certificate, Organization
from titlecred.settings import load_settings


@pytest.fixture
def demo_env(tmp_path: Path, fresh_db_url: tuple[str, str | None]) -> dict[str, str]:
    url, schema = fresh_db_url
    if schema:
        url += f"?options=-csearch_path%3D{schema}"
    return {"TITLECRED_HOME": str(tmp_path / "demo-home"), "TITLECRED_DATABASE_URL": url,
            "TITLECRED_KEY_PASSPHRASE": PASSPHRASE, "TITLECRED_ARGON2": "1,8,1",
            "TITLECRED_LOOKUP_SECRET": "a demo lookup secret for tests"}


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env=env)


def test_demo_builds_a_registry_with_applications_in_every_state(demo_env: dict[str, str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    r = run(demo_env, "demo")
    assert r.exit_code == 0, r.output
    lines = [line.split() for line in r.output.splitlines() if line.startswith("    ")]
    passwords = {parts[0]: parts[-1] for parts in lines}
    assert {"bureau", "district", "supervisory", "committee", "selfreview", "exam", "employer"} <= set(passwords)
    sessions = session_factory(make_engine(demo_env["TITLECRED_DATABASE_URL"]))
    with sessions() as s:
        kinds = {o.kind for o in s.exec(select(Organization)).all()}
        apps = s.exec(select(Application)).all()
        certs = s.exec(select(Certificate)).all()
        stages = {(a.state, a.stage_org_id) for a in apps if a.state == "pending"}
    assert kinds == {"bureau", "district_bureau", "committee", "self_review_unit", "employer", "supervisory",
                     "exam_body"}
    assert {a.state for a in apps} >= {"pending", "returned", "rejected", "approved", "issued"}
    assert len(stages) >= 4  # awaiting the employer, the supervisory department, the bureau, the district
    assert {c.state for c in certs} == {"active", "revoked", "suspended", "superseded"}
    assert any(c.reissue_of_id for c in certs)
    # A holder with an account and a certificate, printed for the scan page (the holder's copy: full form).
    pdf = Path(demo_env["TITLECRED_HOME"]) / "demo-certificate.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_mode & 0o077 == 0
    assert "zhaomin" in passwords
    # A newcomer can log in with a printed password at once.
    for key, value in demo_env.items():
        monkeypatch.setenv(key, value)
    from fastapi.testclient import TestClient

    with TestClient(create_app(load_settings())) as client:
        login = client.post("/api/auth/login", json={"username": "employer", "password": passwords["employer"]})
        assert login.status_code == 200
        token = login.json()["token"]
        mine = client.get("/api/applications?awaitingMe=true", headers={"Authorization": f"Bearer {token}"})
        assert len(mine.json()) >= 1
    assert run(demo_env, "audit", "verify").exit_code == 0
    again = run(demo_env, "demo")
    assert again.exit_code == 2 and "database_not_empty" in again.output  # a second run adds nothing


def test_demo_refuses_a_database_that_holds_a_registry(demo_env: dict[str, str], tmp_path: Path) -> None:
    assert run(demo_env, "demo").exit_code == 0
    other = {**demo_env, "TITLECRED_HOME": str(tmp_path / "another-home")}
    r = run(other, "demo")
    assert r.exit_code == 2 and "database_not_empty" in r.output


def test_serve_runs_the_api_with_migrations_applied(demo_env: dict[str, str]) -> None:
    assert run(demo_env, "demo").exit_code == 0
    port = free_port()
    code = "import titlecred.cli_registry; from titlecred.cli import main; main()"
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env={**os.environ, **demo_env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, "/api/health", tries=100)
        assert httpx.get(f"{base}/.well-known/did.json").json()["id"].startswith("did:web:")
        assert httpx.get(f"{base}/status/revocation-1").status_code == 200
        assert httpx.get(f"{base}/openapi.json").status_code == 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    log = out.decode("utf-8", "replace")
    assert "GET /status/{list_id} 200" in log  # route templates in the access log, never raw URLs
