"""`titlecred render CREDENTIAL.json --out CERT.pdf`: the printable certificate of a full credential.

The QR code's compact form is signed here with the issuer's active key (this home's keystore), so the
credential is verified first against this issuer's own keys: a file that was changed after signing is
never given a fresh signature. `--qr-text FILE` uses a compact form made elsewhere instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from titlecred.cli import app, guarded
from titlecred.errors import AppError
from titlecred.settings import load_settings

# The checks a credential must pass before this home's key signs its QR code (status may be unknown
# offline: a revoked certificate is refused when its status is known).
_MUST_PASS = ("shape", "contexts", "schema", "proof", "key", "issuer")


def _require_own_valid(doc: Any, what: str) -> None:
    from dataclasses import replace

    from titlecred.trust import build_policy, local_trust_documents
    from verifier.verify import verify_credential

    settings = load_settings()
    policy = build_policy([], [], extra_documents=local_trust_documents(settings))
    result = verify_credential(doc, replace(policy, unsafe_skip_status=True))
    if result.errors:
        raise AppError(result.errors[0]["code"], f"{what}: {result.errors[0]['message']}")
    for check in result.checks:
        if check.name in _MUST_PASS and not check.ok:
            raise AppError("not_verified", f"{what} does not verify against this issuer's keys "
                                           f"({check.name}: {check.reason}); it is not printed")


@app.command("render")
def render_cmd(
    credential: Path,
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF")],
    qr_text: Annotated[Path | None, typer.Option("--qr-text", help="A file with the QR text to print "
                                                 "(default: signed now with the issuer's active key)")] = None,
    minimal: Annotated[Path | None, typer.Option("--minimal", help="The certificate's minimal credential "
                                                 "(its id then goes into the QR code)")] = None,
    key: Annotated[str | None, typer.Option("--key", help="Key id to sign the QR code with (default: active)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="pdf, or ofd (GB/T 33190, for e-license libraries)")] = "pdf",
    seal: Annotated[bool, typer.Option("--seal", help="Seal the OFD (SM2/SM3) with this home's seal key")] = False,
) -> None:
    """Render the one-page A4 certificate (PDF or OFD) of a full signed credential (the credential is attached)."""
    def refuse() -> None:
        raise AppError("invalid_format", "--format is pdf or ofd")

    if fmt not in ("pdf", "ofd"):
        guarded(refuse)
    from issuer.compact import compact_from_full, compact_from_minimal
    from printing.pdf import render_pdf
    from titlecred.issuer_profile import issuer_key, load_profile, open_keystore
    from titlecred.trust import read_json_file

    def run() -> None:
        settings = load_settings()
        full = read_json_file(credential, "credential")
        if qr_text is not None:
            try:
                text = qr_text.read_text(encoding="utf-8").strip()
            except OSError as e:
                raise AppError("unreadable_file", f"cannot read {qr_text}: {e.strerror}") from None
        else:
            _require_own_valid(full, "the credential")
            store = open_keystore(settings)
            key_id = key if key is None or key.startswith("did:") else \
                f"{load_profile(settings).did}#{key.lstrip('#')}"
            signer = issuer_key(store, key_id)
            if minimal is not None:
                doc = read_json_file(minimal, "minimal credential")
                _require_own_valid(doc, "the minimal credential")
                if not isinstance(doc, dict) or doc.get("fullCredential") != full.get("id"):
                    raise AppError("mismatched_credentials", "the minimal credential is not the minimal form "
                                                             "of this credential (fullCredential differs)")
                text = compact_from_minimal(doc, signer, settings.base_url)
            else:
                text = compact_from_full(full, signer, settings.base_url)
        if fmt == "ofd":
            from printing.ofd.package import render_ofd

            data = render_ofd(full, text)
            if seal:
                from printing.ofd.seal import seal_ofd
                from titlecred.ofd_seal_key import load_signer

                data = seal_ofd(data, load_signer(settings, str(full["issuer"]["name"])))
        else:
            data = render_pdf(full, text)
        _write_whole(out, data)
        typer.echo(f"rendered {out} ({len(data)} bytes; the full credential is attached as credential.jsonld)")

    guarded(run)


def _write_whole(out: Path, data: bytes) -> None:
    """Write a file whole or not at all: a full disk leaves no truncated PDF behind (issue 17)."""
    import contextlib
    import os
    import tempfile

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as e:
        raise AppError("write_failed", f"cannot write {out}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise AppError("write_failed", f"cannot write {out}: {e.strerror} (nothing was written)") from None
