"""A newcomer's first verification (issue 15): `titlecred verify` on the demo's genuine certificate says
valid in the demo's home (its keys and the status lists its registry published), and names where that
trust came from; with no trust at all it says unknown issuer, never valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from registry.kit import PASSPHRASE
from typer.testing import CliRunner

from titlecred.cli import app as cli


@pytest.fixture
def demo_env(tmp_path: Path, fresh_db_url: tuple[str, str | None]) -> dict[str, str]:
    url, schema = fresh_db_url
    if schema:
        url += f"?options=-csearch_path%3D{schema}"
    return {"TITLECRED_HOME": str(tmp_path / "demo-home"), "TITLECRED_DATABASE_URL": url,
            "TITLECRED_KEY_PASSPHRASE": PASSPHRASE, "TITLECRED_ARGON2": "1,8,1",
            "TITLECRED_LOOKUP_SECRET": "a demo lookup secret for tests",
            "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_CACHE_HOME": str(tmp_path / "cache")}


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env=env)


def test_the_demo_certificate_verifies_in_the_demo_home(demo_env: dict[str, str], tmp_path: Path) -> None:
    assert run(demo_env, "demo").exit_code == 0
    pdf = tmp_path / "demo-home" / "demo-certificate.pdf"
    r = run(demo_env, "verify", str(pdf), "--json")
    out = json.loads(r.stdout)
    assert r.exit_code == 0, r.stdout
    assert out["verdict"] == "valid" and out["status"]["value"] == "valid"
    assert any("registry database" in t["source"] for t in out["trust"] if t["what"] == "status list")
    stranger = run(demo_env, "verify", str(pdf), "--no-local-trust", "--json")
    assert stranger.exit_code == 1 and json.loads(stranger.stdout)["verdict"] == "unknown_issuer"
