"""`titlecred issuers add|list`: a did:key issuer instance beside the bureau, loaded by the service."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from titlecred.api.app import build_registry
from titlecred.cli import app
from titlecred.settings import load_settings

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TITLECRED_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TITLECRED_KEY_PASSPHRASE", "correct horse battery staple")
    assert runner.invoke(app, ["keys", "generate", "--did", "did:web:hrss.example.gov.cn", "--name", "示例局"]
                         ).exit_code == 0
    return tmp_path / "home"


def test_a_did_key_instance_is_added_listed_and_loaded(home: Path) -> None:
    added = runner.invoke(app, ["issuers", "add", "conformance", "--did-key", "--quiet"])
    assert added.exit_code == 0, added.output
    did = added.stdout.strip()
    assert did.startswith("did:key:z6Mk")
    assert did in runner.invoke(app, ["issuers", "list"]).stdout
    registry = build_registry(load_settings())
    inst = registry.instance_for_issuer(did)
    assert inst is not None and inst.instance_name == "conformance" and inst.list_prefix == "conformance"
    assert inst.keys.active().verification_method == f"{did}#{did.removeprefix('did:key:')}"
    assert registry.instance_for_issuer("did:key:z6MkOther") is None
    assert registry.for_list("conformancerevocation-1") is inst and registry.for_list("revocation-1") is registry


def test_bad_or_taken_names_are_refused_in_one_line(home: Path) -> None:
    for args, code in ((["issuers", "add", "conformance"], "unsupported_issuer"),
                       (["issuers", "add", "Bad-Name", "--did-key"], "invalid_name")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and f"error[{code}]" in result.output
    assert runner.invoke(app, ["issuers", "add", "small", "--did-key"]).exit_code == 0
    again = runner.invoke(app, ["issuers", "add", "small", "--did-key"])
    assert again.exit_code == 2 and "error[issuer_exists]" in again.output


def test_the_vc_1_1_context_is_bundled_byte_for_byte() -> None:
    from conftest import TEST_DATA
    from schemas.loader import context_bytes

    published = (TEST_DATA / "w3c" / "contexts" / "www.w3.org_2018_credentials_v1.jsonld").read_bytes()
    assert context_bytes("https://www.w3.org/2018/credentials/v1") == published
