"""`titlecred verify` on hostile input, as a real process: exit 2 with a JSON error under --json, never
a traceback; the QR text accepted as a string."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_inputs import DID_KEY, poison_credential

from core_support import make_bureau
from issuer.compact import compact_from_minimal

CLI = [sys.executable, "-c", "from titlecred.cli import main; main()"]


def titlecred(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TITLECRED_HOME": str(tmp_path / "home")}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=60, check=False)


def test_poison_graph_is_unsupported_exit_2_within_a_second(tmp_path: Path) -> None:
    path = tmp_path / "poison.json"
    path.write_text(json.dumps(poison_credential(10)))
    started = time.monotonic()
    done = titlecred(tmp_path, "verify", str(path), "--json", "--trust-issuer", DID_KEY, "--no-local-trust")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    out = json.loads(done.stdout)
    assert out["verdict"] == "unsupported" and out["verified"] is False
    proof = next(c for c in out["checks"] if c["name"] == "proof")
    assert proof["code"] == "canonicalization_too_complex" and proof["outcome"] == "indeterminate"
    assert time.monotonic() - started < 10  # a process start included; the refusal itself is ~0.3 s


@pytest.mark.parametrize("text", ['{"a": "\\ud800"}', '{"a": ' + "9" * 4400 + "}", '{"a": 1e99999}',
                                  '{"a": "\\udfff", "@context": []}', "[" * 100_000])
def test_unreadable_json_is_exit_2_with_a_json_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    done = titlecred(tmp_path, "verify", str(path), "--json")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    out = json.loads(done.stdout)
    assert out["verified"] is False and out["errors"][0]["code"]


def test_qr_text_is_accepted_as_a_string(tmp_path: Path) -> None:
    bureau = make_bureau()
    pair = bureau.issue()
    qr = compact_from_minimal(pair.minimal, bureau.issuer_key, "https://verify.example.gov.cn")
    payload = qr[qr.index("TC1:"):]
    for text in (qr, payload):
        done = titlecred(tmp_path, "verify", text, "--json", "--no-local-trust")
        assert "Traceback" not in done.stderr
        out = json.loads(done.stdout)
        # Read as a QR text (its issuer is not trusted here), never as a file name.
        assert not any(e.get("code") == "unreadable_file" for e in out["errors"]), out
        assert any(c["name"] == "proof" for c in out["checks"]), out
