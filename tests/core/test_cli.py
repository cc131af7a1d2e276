"""The `titlecred` CLI contract: keys, issue, sign, verify — exit codes, JSON shape, one-line errors."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import load_json
from core_support import record
from titlecred.cli import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TITLECRED_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TITLECRED_KEY_PASSPHRASE", "correct horse battery staple")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def issue(home: Path, **changes: Any) -> tuple[Path, Path]:
    rec = home / "record.json"
    rec.write_text(json.dumps(record(**changes), ensure_ascii=False), encoding="utf-8")
    result = run("issue", str(rec), "--out", str(home / "out"))
    assert result.exit_code == 0, result.output
    number = record(**changes)["certificateNumber"]
    return home / "out" / f"{number}.full.json", home / "out" / f"{number}.minimal.json"


@pytest.fixture
def issued(home: Path) -> dict[str, Path]:
    generated = run("keys", "generate", "--did", "did:web:hrss.example.gov.cn", "--name", "示例市人力资源和社会保障局")
    assert generated.exit_code == 0
    full, minimal = issue(home)
    assert run("keys", "publish", "--out", str(home / "pub")).exit_code == 0
    return {"full": full, "minimal": minimal, "did": home / "pub" / "did.json", "jwks": home / "pub" / "jwks.json"}


def test_issue_then_verify_against_published_did_document(issued: dict[str, Path]) -> None:
    for form in ("full", "minimal"):
        result = run("verify", str(issued[form]), "--trust", str(issued["did"]), "--no-local-trust")
        assert result.exit_code == 0, result.output
        assert "verdict: valid" in result.output


def test_verify_json_output_has_the_contract_shape(issued: dict[str, Path]) -> None:
    result = run("verify", str(issued["minimal"]), "--trust", str(issued["jwks"]), "--no-local-trust", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["verified"] is True
    assert out["errors"] == []
    assert {c["name"] for c in out["checks"]} >= {"proof", "key", "issuer", "validity", "schema", "contexts"}
    for check in out["checks"]:
        assert set(check) >= {"name", "ok", "reason"}
        assert isinstance(check["ok"], bool) and isinstance(check["reason"], str)


def test_tampered_credential_exits_1_and_names_the_proof(issued: dict[str, Path], home: Path) -> None:
    doc = load_json(issued["full"])
    doc["credentialSubject"]["qualification"] = "正高级工程师"
    forged = home / "forged.json"
    forged.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = run("verify", str(forged), "--trust", str(issued["did"]), "--no-local-trust", "--json")
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["verified"] is False
    proof = next(c for c in out["checks"] if c["name"] == "proof")
    assert proof["ok"] is False and "proof" in proof["reason"]


def test_verify_without_trust_fails(issued: dict[str, Path]) -> None:
    result = run("verify", str(issued["full"]), "--no-local-trust")
    assert result.exit_code == 1


@pytest.mark.parametrize(("content", "code"), [
    (b"{not json", "malformed_json"),
    (b'{"a": 1, "a": 2}', "malformed_json"),
    (b"\xff\xfe", "unsupported_input"),
    (b'{"@context": ["https://evil.example/ctx"], "type": ["VerifiableCredential"]}', "unknown_context"),
])
def test_unusable_input_exits_2_with_a_stable_code(issued: dict[str, Path], home: Path, content: bytes,
                                                   code: str) -> None:
    bad = home / "bad.json"
    bad.write_bytes(content)
    result = run("verify", str(bad), "--trust", str(issued["did"]), "--json")
    assert result.exit_code == 2, result.output
    assert json.loads(result.output)["errors"][0]["code"] == code
    plain = run("verify", str(bad), "--trust", str(issued["did"]))
    assert plain.exit_code == 2
    assert "Traceback" not in plain.output


@pytest.mark.parametrize(("changes", "code"), [
    ({"idNumber": "110105198503120419"}, "invalid_id_number"),
    ({"dateQualified": "2024-02-30"}, "invalid_date"),
    ({"name": "\uf900明"}, "not_nfc"),
])
def test_issue_refuses_bad_records_in_one_line(issued: dict[str, Path], home: Path, changes: dict[str, Any],
                                               code: str) -> None:
    rec = home / "bad-record.json"
    rec.write_text(json.dumps(record(**changes), ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["issue", str(rec), "--out", str(home / "out2")])
    assert result.exit_code == 2
    assert f"error[{code}]" in result.output
    assert "Traceback" not in result.output
    assert "110105198503120419" not in result.output
    assert not (home / "out2").exists()


def test_sign_reproduces_the_w3c_vector(w3c: Path) -> None:
    folder = w3c / "vectors" / "eddsa-rdfc-2022"
    keypair = load_json(folder / "keyPair.json")
    config = load_json(folder / "proofConfigDataInt.json")
    result = run("sign", str(folder / "unsigned.json"), "--secret-key-multibase", keypair["privateKeyMultibase"],
                 "--verification-method", config["verificationMethod"], "--created", config["created"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == load_json(folder / "signedDataInt.json")


def test_keys_never_print_or_store_private_material(issued: dict[str, Path], home: Path) -> None:
    listing = run("keys", "list", "--json")
    assert listing.exit_code == 0
    rows = json.loads(listing.output)
    assert rows[0]["state"] == "active" and rows[0]["publicKeyMultibase"].startswith("z6Mk")
    assert "z3u2" not in listing.output
    key_files = [p for p in (home / "home" / "keys").rglob("*") if p.is_file()]
    assert key_files
    for path in key_files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert "z3u2" not in path.read_text(errors="replace")
    published = (issued["did"].read_text() + issued["jwks"].read_text())
    assert '"d"' not in published and "z3u2" not in published


def test_rotation_keeps_old_certificates_valid(issued: dict[str, Path], home: Path) -> None:
    assert run("keys", "rotate").exit_code == 0
    new_full, _ = issue(home, certificateNumber="B2024110100002")
    assert run("keys", "publish", "--out", str(home / "pub2")).exit_code == 0
    did = str(home / "pub2" / "did.json")
    for cred in (issued["full"], new_full):
        result = run("verify", str(cred), "--trust", did, "--no-local-trust")
        assert result.exit_code == 0, result.output
    assert load_json(new_full)["proof"]["verificationMethod"].endswith("#key-2")


def test_revoked_key_fails_its_certificates(issued: dict[str, Path], home: Path) -> None:
    assert run("keys", "rotate").exit_code == 0
    assert run("keys", "revoke", "key-1", "--compromised-at", "2020-01-01T00:00:00Z").exit_code == 0
    assert run("keys", "publish", "--out", str(home / "pub3")).exit_code == 0
    result = run("verify", str(issued["full"]), "--trust", str(home / "pub3" / "did.json"), "--no-local-trust",
                 "--json")
    assert result.exit_code == 1
    key = next(c for c in json.loads(result.output)["checks"] if c["name"] == "key")
    assert key["ok"] is False


def test_revoke_refuses_an_impossible_time(issued: dict[str, Path]) -> None:
    result = runner.invoke(app, ["keys", "revoke", "key-1", "--compromised-at", "2026-13-45"])
    assert result.exit_code == 2
    assert "error[invalid_date]" in result.output


@pytest.mark.parametrize("value", ["9007199254740993", '"\\ud800"', "NaN"])
def test_sign_refuses_what_is_not_i_json(w3c: Path, tmp_path: Path, value: str) -> None:
    folder = w3c / "vectors" / "eddsa-rdfc-2022"
    keypair = load_json(folder / "keyPair.json")
    config = load_json(folder / "proofConfigDataInt.json")
    text = (folder / "unsigned.json").read_text(encoding="utf-8")
    doc = tmp_path / "doc.json"
    doc.write_text(text.replace('"credentialSubject": {', f'"credentialSubject": {{"age": {value}, ', 1),
                   encoding="utf-8")
    assert '"age"' in doc.read_text(encoding="utf-8")
    result = run("sign", str(doc), "--secret-key-multibase", keypair["privateKeyMultibase"],
                 "--verification-method", config["verificationMethod"], "--created", config["created"])
    assert result.exit_code == 2 and "proof" not in result.stdout
    assert any(code in result.output for code in ("not_ijson", "malformed_json", "invalid_unicode"))
