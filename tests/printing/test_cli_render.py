"""`titlecred render`: a real home (keystore, issuer), a real record, a real PDF that verifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from certkit import record
from typer.testing import CliRunner

import titlecred.cli_printing  # noqa: F401  (registers `render` on the app until cli.py imports it)
from titlecred.cli import app
from titlecred.printed import verify_input
from titlecred.settings import load_settings
from titlecred.trust import build_policy, local_trust_documents

runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TITLECRED_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TITLECRED_KEY_PASSPHRASE", "correct horse battery staple")
    monkeypatch.setenv("TITLECRED_BASE_URL", "https://hrss.example.gov.cn")
    monkeypatch.chdir(tmp_path)
    generated = run("keys", "generate", "--did", "did:web:hrss.example.gov.cn", "--name", "示例市人力资源和社会保障局")
    assert generated.exit_code == 0
    rec = tmp_path / "record.json"
    rec.write_text(json.dumps(record(), ensure_ascii=False), encoding="utf-8")
    assert run("issue", str(rec), "--out", str(tmp_path / "out")).exit_code == 0
    return tmp_path


def test_render_then_verify_the_pdf(home: Path) -> None:
    full = home / "out" / "B2024110100001.full.json"
    minimal = home / "out" / "B2024110100001.minimal.json"
    result = run("render", str(full), "--out", str(home / "cert.pdf"), "--minimal", str(minimal))
    assert result.exit_code == 0, result.output
    policy = build_policy([], [], extra_documents=local_trust_documents(load_settings()))
    verified = verify_input(home / "cert.pdf", policy)
    assert verified.verified, verified.to_json()
    qr = verified.check("qr")
    assert qr is not None and qr.ok


def test_render_refuses_a_credential_changed_after_signing(home: Path) -> None:
    full = home / "out" / "B2024110100001.full.json"
    doc = json.loads(full.read_text(encoding="utf-8"))
    doc["credentialSubject"]["level"] = "正高级"
    forged = home / "forged.json"
    forged.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = run("render", str(forged), "--out", str(home / "forged.pdf"))
    assert result.exit_code == 2
    assert "not_verified" in result.output
    assert not (home / "forged.pdf").exists()


def test_render_with_a_given_qr_text(home: Path) -> None:
    full = home / "out" / "B2024110100001.full.json"
    assert run("render", str(full), "--out", str(home / "a.pdf")).exit_code == 0
    from printing.extract import read_pdf

    qr_text = read_pdf((home / "a.pdf").read_bytes()).qr_text
    assert qr_text is not None and qr_text.startswith("https://hrss.example.gov.cn/v#TC1:")
    (home / "qr.txt").write_text(qr_text, encoding="utf-8")
    result = run("render", str(full), "--out", str(home / "b.pdf"), "--qr-text", str(home / "qr.txt"))
    assert result.exit_code == 0, result.output


def test_render_a_sealed_ofd_then_verify_it_and_catch_a_change(home: Path) -> None:
    import io
    import zipfile

    from titlecred.cli import app as cli_app

    full = home / "out" / "B2024110100001.full.json"
    out = home / "cert.ofd"
    result = run("render", str(full), "--out", str(out), "--format", "ofd", "--seal")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"PK\x03\x04"
    verified = runner.invoke(cli_app, ["verify", str(out), "--json"])
    assert verified.exit_code == 0, verified.output
    checks = {c["name"]: c["outcome"] for c in json.loads(verified.output)["checks"]}
    assert checks["seal"] == "passed" and checks["printed"] == "passed"
    # Change one byte of the page (a drawing, not the signed facts): the seal catches it.
    source = zipfile.ZipFile(io.BytesIO(out.read_bytes()))
    changed = io.BytesIO()
    with zipfile.ZipFile(changed, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("Content.xml"):
                data = data.replace(b'LineWidth="', b'LineWidth="1', 1)
            target.writestr(info, data)
    bad = home / "changed.ofd"
    bad.write_bytes(changed.getvalue())
    verified = runner.invoke(cli_app, ["verify", str(bad), "--json"])
    assert verified.exit_code == 1, verified.output
    seal = next(c for c in json.loads(verified.output)["checks"] if c["name"] == "seal")
    assert seal["outcome"] == "failed" and "Content.xml" in seal["reason"]


def test_render_refuses_an_unknown_format(home: Path) -> None:
    full = home / "out" / "B2024110100001.full.json"
    result = run("render", str(full), "--out", str(home / "x"), "--format", "docx")
    assert result.exit_code == 2 and "invalid_format" in result.output


def test_a_full_disk_while_writing_the_pdf_leaves_no_partial_file(home: Path) -> None:
    """The disk fills up mid-write (RLIMIT_FSIZE in a child process, as a full filesystem answers: EFBIG):
    a clear error, exit 2, and no PDF, not even a truncated one."""
    import os
    import resource
    import signal
    import subprocess
    import sys

    full = home / "out" / "B2024110100001.full.json"
    target = home / "pdfs" / "cert.pdf"

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    done = subprocess.run([sys.executable, "-c", "from titlecred.cli import main; main()", "render", str(full),
                           "--out", str(target)], env=dict(os.environ), capture_output=True, text=True, timeout=120,
                          preexec_fn=small_disk)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "write_failed" in done.stderr + done.stdout
    assert not target.exists() and list(target.parent.iterdir()) == []
    # With room again, the same command writes the whole PDF.
    assert run("render", str(full), "--out", str(target)).exit_code == 0
    assert target.stat().st_size > 20_000
