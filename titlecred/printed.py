"""Verify what a person was given: a credential file, a certificate PDF, a photo of a printout, or the
text of its QR code. `verify_input(path, policy) -> VerificationResult`.

- JSON credential: `verify_credential`, as it is.
- PDF: the embedded full credential (every check of `verify_credential`), plus two checks of the page:
  `qr` (the QR code, read from the page rendered at 150 dpi as a scanner would, verifies and carries
  the same certificate as the attachment) and `printed` (the page's text, read back, is exactly what
  the signed facts print: a valid QR code or attachment pasted onto another person's page fails here).
- PNG/JPEG photo: the QR code's compact form, verified; the result carries the signed facts (name,
  masked ID number, title) for the person to compare with the paper.
- A text file or string with the QR text (the link, or its TC1: payload): the same.

Files from strangers are read with bounds on size, pixels and time, in a child process
(`printing.extract`). An invalid certificate is a result; only input that cannot be read is unusable
(errors, exit 2 in the CLI).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from issuer.compact import minimal_facts_from_full
from printing import layout
from printing.errors import ExtractError
from printing.extract import ExtractLimits, image_qr_text, read_pdf, sniff
from proofs.bounds import parse_json
from proofs.compact import FORMAT_PREFIX
from proofs.errors import ProofLayerError
from verifier.compact import verify_compact
from verifier.policy import Policy
from verifier.result import Check, VerificationResult, unusable
from verifier.verify import verify_credential

MAX_INPUT_BYTES = 20 * 1024 * 1024
# Strangers' files: read in a child process that is killed after 30 s.
UNTRUSTED_LIMITS = ExtractLimits(isolate=True)
SUPPORTED_LAYOUTS = ("1",)


def verify_input(path: Path | str, policy: Policy, *, limits: ExtractLimits = UNTRUSTED_LIMITS,
                 seal_keys: frozenset[str] = frozenset()) -> VerificationResult:
    """Verify a file (credential JSON, certificate PDF, PNG/JPEG photo, text with the QR text) or a QR text
    given directly as a string."""
    if isinstance(path, str) and FORMAT_PREFIX in path and not _is_file(path):
        return verify_compact(path, policy)
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_INPUT_BYTES:
            return unusable("input_too_large", f"{file} is {size} bytes; at most {MAX_INPUT_BYTES} are read")
        data = file.read_bytes()
    except OSError as e:
        return unusable("unreadable_file", f"cannot read {file}: {e.strerror}")
    return verify_bytes(data, policy, limits=limits, seal_keys=seal_keys)


def _is_file(name: str) -> bool:
    try:
        return Path(name).is_file()
    except (OSError, ValueError):  # a QR text is often longer than a file name may be
        return False


def verify_bytes(data: bytes, policy: Policy, *, limits: ExtractLimits = UNTRUSTED_LIMITS,
                 seal_keys: frozenset[str] = frozenset()) -> VerificationResult:
    """As `verify_input`, for content already in memory (an upload)."""
    kind = sniff(data)
    if data[:4] == b"PK\x03\x04":  # an OFD package (ZIP)
        from titlecred.printed_ofd import verify_ofd

        return verify_ofd(data, policy, seal_keys=seal_keys)
    if kind == "pdf":
        return verify_pdf(data, policy, limits=limits)
    if kind in ("png", "jpeg"):
        return verify_photo(data, policy, limits=limits)
    try:
        text = data.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return unusable("unsupported_input", "not a credential, a PDF, a PNG or JPEG photo, or a QR text")
    if text.startswith("{"):
        try:
            document = parse_json(text, policy.limits)
        except ProofLayerError as e:
            return unusable(e.code, e.message)
        return verify_credential(document, policy)
    if FORMAT_PREFIX in text:
        return verify_compact(text, policy)
    return unusable("unsupported_input", "not a credential, a PDF, a PNG or JPEG photo, or a QR text")


def verify_photo(data: bytes, policy: Policy, *, limits: ExtractLimits = UNTRUSTED_LIMITS) -> VerificationResult:
    """A photo (or scan) of a printout: its QR code, verified. Compare the facts shown with the paper."""
    try:
        text = image_qr_text(data, limits)
    except ExtractError as e:
        return unusable(e.code, e.message)
    return verify_compact(text, policy)


def _first_problem(result: VerificationResult) -> str:
    if result.errors:
        return result.errors[0]["message"]
    bad = next((c for c in result.checks if not c.ok and c.required), None)
    return f"{bad.name}: {bad.reason}" if bad else "not verified"


def _same_certificate(attached: dict[str, Any], qr_doc: dict[str, Any]) -> str | None:
    """Why the QR code's signed facts are not those of the attached credential, or None if they are.

    The attachment is the full credential (holder's and bureau's copies) or the minimal one (an
    employer's copy): either way the QR code must carry exactly the minimal facts of that certificate."""
    got = {k: v for k, v in qr_doc.items() if k != "id"}
    if "MinimalTitleCredential" in (attached.get("type") or []):
        expected = {k: v for k, v in attached.items() if k not in ("id", "proof")}
        owner = attached.get("fullCredential")
    else:
        try:
            expected = minimal_facts_from_full(attached)
        except Exception:
            return "the attached credential is not a title credential"
        owner = attached.get("id")
    if got.get("fullCredential") != owner:
        return "the QR code belongs to another certificate (its fullCredential is not the attached credential's)"
    differing = sorted(k for k in set(expected) | set(got) if expected.get(k) != got.get(k))
    if differing:
        return f"the QR code's signed facts differ from the attached credential ({', '.join(differing)})"
    return None


def _printed_check(page_text: str, signed: dict[str, Any], source: str, keywords: str) -> Check:
    version = re.search(r"layout (\S+)", keywords)
    if version and version.group(1) not in SUPPORTED_LAYOUTS:
        return Check("printed", "indeterminate",
                     f"the page was made with layout {version.group(1)}, which this verifier does not know",
                     "unknown_layout")
    printed = layout.normalize_text(page_text)
    try:
        expected = layout.page_text(signed)
    except (KeyError, ValueError, TypeError):
        return Check("printed", "failed", f"the {source} cannot be printed: its facts are incomplete",
                     "printed_mismatch")
    if printed == expected:
        return Check("printed", "passed", f"the page prints exactly the facts signed in the {source}")
    differing = layout.mismatched_facts(signed, printed)
    what = ", ".join(differing) if differing else "text that the certificate does not have"
    return Check("printed", "failed",
                 f"the page does not print what the {source} signs: {what} differ(s). This page may be "
                 "another person's, or edited", "printed_mismatch")


def verify_pdf(data: bytes, policy: Policy, *, limits: ExtractLimits = UNTRUSTED_LIMITS) -> VerificationResult:
    """A certificate PDF: its attached credential, its QR code, and its printed facts against both."""
    try:
        contents = read_pdf(data, limits)
    except ExtractError as e:
        return unusable(e.code, e.message)

    full: dict[str, Any] | None = None
    if contents.attachment is None:
        result = VerificationResult()
        result.checks.append(Check("shape", "failed", "the PDF carries no credential (credential.jsonld): it "
                                                      "is not an original certificate file", "no_attachment"))
    else:
        try:
            parsed = parse_json(contents.attachment, policy.limits)
        except ProofLayerError as e:
            return unusable(e.code, f"the attached credential: {e.message}")
        result = verify_credential(parsed, policy)
        if result.errors:
            return result
        full = parsed if isinstance(parsed, dict) else None

    qr_doc: dict[str, Any] | None = None
    if contents.qr_text is None:
        result.checks.append(Check("qr", "failed", "no certificate QR code can be read on the page at "
                                   f"{limits.render_dpi} dpi", "no_qr_code"))
    else:
        qr_result = verify_compact(contents.qr_text, policy)
        qr_doc = qr_result.credential
        if not qr_result.verified:
            result.checks.append(Check("qr", "failed", f"the QR code does not verify: {_first_problem(qr_result)}",
                                       "qr_invalid"))
        elif full is not None and (problem := _same_certificate(full, qr_result.credential or {})):
            result.checks.append(Check("qr", "failed", problem, "qr_mismatch"))
        else:
            result.checks.append(Check("qr", "passed", "the QR code verifies and carries this certificate's "
                                                       "signed facts"))

    if full is not None:
        result.checks.append(_printed_check(contents.text, full, "attached credential", contents.keywords))
    elif qr_doc is not None:
        result.checks.append(_printed_check(contents.text, qr_doc, "QR code", contents.keywords))
        result.credential = qr_doc
    else:
        result.checks.append(Check("printed", "failed", "nothing signed to compare the page with",
                                   "printed_mismatch"))
    return result
