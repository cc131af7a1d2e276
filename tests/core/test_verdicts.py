"""Every verdict of `titlecred verify`, from its trigger, with its exit code (the table in docs/verdicts.md).

`tampered` means one thing: a proof failed over a document we could process. Input we cannot read is
`unreadable`, input we do not support is `unsupported`; both exit 2 (nothing was checked).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core_support import record
from titlecred.cli import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TITLECRED_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TITLECRED_KEY_PASSPHRASE", "correct horse battery staple")
    monkeypatch.chdir(tmp_path)
    keys = ["keys", "generate", "--did", "did:web:hrss.example.gov.cn", "--name", "示例局"]
    assert runner.invoke(app, keys).exit_code == 0
    rec = tmp_path / "record.json"
    rec.write_text(json.dumps(record(), ensure_ascii=False), encoding="utf-8")
    assert runner.invoke(app, ["issue", str(rec), "--out", str(tmp_path / "out")]).exit_code == 0
    return tmp_path


def full(home: Path) -> dict[str, Any]:
    path = next((home / "out").glob("*.full.json"))
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def verdict(home: Path, content: str | bytes | None, name: str = "input.json") -> tuple[str, int]:
    path = home / name
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = runner.invoke(app, ["verify", str(path), "--json"], catch_exceptions=False)
    return json.loads(result.stdout)["verdict"], result.exit_code


def changed(home: Path, fn: Any) -> str:
    doc = copy.deepcopy(full(home))
    fn(doc)
    return json.dumps(doc, ensure_ascii=False)


def test_valid(home: Path) -> None:
    assert verdict(home, json.dumps(full(home), ensure_ascii=False)) == ("valid", 0)


def test_a_missing_file_is_unreadable(home: Path) -> None:
    assert verdict(home, None, "no-such-cert.pdf") == ("unreadable", 2)


@pytest.mark.parametrize("content", [
    b"{not json at all",
    b"\xff\xfe garbage",
    "hello, not a credential",
    '{"a": "\\u0001"}',
    '{"a": 1, "a": 2}',
    "[" * 40 + "]" * 40,
    '{"x": "' + "a" * 100_000 + '"}',
])
def test_what_cannot_be_read_is_unreadable(home: Path, content: str | bytes) -> None:
    assert verdict(home, content) == ("unreadable", 2)


def test_a_control_character_in_a_credential_is_unreadable(home: Path) -> None:
    text = changed(home, lambda d: d["credentialSubject"].__setitem__("name", "张\u0007三"))
    assert verdict(home, text) == ("unreadable", 2)


def test_a_json_object_that_is_no_credential_is_unreadable(home: Path) -> None:
    assert verdict(home, '{"hello": "world"}') == ("unreadable", 2)


def test_an_unknown_context_is_unsupported(home: Path) -> None:
    text = changed(home, lambda d: d["@context"].append("https://example.org/unknown/v1"))
    assert verdict(home, text) == ("unsupported", 2)


def test_a_refused_inline_context_is_unsupported(home: Path) -> None:
    text = changed(home, lambda d: d["@context"].append({"@import": "https://www.w3.org/ns/credentials/v2"}))
    assert verdict(home, text) == ("unsupported", 2)


@pytest.mark.parametrize("proof_change", [{"cryptosuite": "ecdsa-rdfc-2019"}, {"type": "Ed25519Signature2020"}])
def test_an_unsupported_cryptosuite_or_proof_type_is_unsupported(home: Path, proof_change: dict[str, str]) -> None:
    text = changed(home, lambda d: d["proof"].update(proof_change))
    assert verdict(home, text) == ("unsupported", 2)


def test_an_undefined_term_is_unsupported(home: Path) -> None:
    text = changed(home, lambda d: d["credentialSubject"].__setitem__("shoeSize", "42"))
    assert verdict(home, text) == ("unsupported", 2)


def test_a_work_bound_is_unsupported(home: Path) -> None:
    def many_blank_nodes(d: dict[str, Any]) -> None:
        d["@context"] = [*d["@context"], "https://www.w3.org/ns/credentials/examples/v2"]
        d["evidence"] = [{"type": "Evidence", "note": str(i)} for i in range(40)]
    assert verdict(home, changed(home, many_blank_nodes)) == ("unsupported", 2)


def test_a_changed_fact_is_tampered(home: Path) -> None:
    text = changed(home, lambda d: d["credentialSubject"].__setitem__("name", "李四"))
    assert verdict(home, text) == ("tampered", 1)


def test_a_changed_signature_is_tampered(home: Path) -> None:
    def flip(d: dict[str, Any]) -> None:
        v = d["proof"]["proofValue"]
        d["proof"]["proofValue"] = v[:-2] + ("A" if v[-2] != "A" else "B") + v[-1]
    assert verdict(home, changed(home, flip)) == ("tampered", 1)
