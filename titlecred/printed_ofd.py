"""Verify a certificate OFD: the attached credential, the printed text against it, and the seal.

Checks added to those of `verify_credential` on the attachment:
- `printed`: the text of the page (every TextCode in document order) is exactly what the signed facts
  print, as for a PDF;
- `seal`: a sealed OFD must be intact (every part's SM3 digest, no part added or removed, the SM2
  signature over Signature.xml); a seal by a key this verifier does not trust is reported as such
  (indeterminate), an unsealed OFD skips the check.
- `qr`: the page's QR code (vector paths, drawn into a bitmap and decoded) verifies and carries this
  certificate's facts, as for a PDF.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from printing.ofd.reader import page_text, qr_text
from printing.ofd.seal import SealError, read_parts, verify_sealed
from proofs.bounds import parse_json
from proofs.errors import ProofLayerError
from verifier.compact import verify_compact
from verifier.policy import Policy
from verifier.result import Check, VerificationResult, unusable
from verifier.verify import verify_credential

NS = "http://www.ofdspec.org/2016"
CONTENT = "Doc_0/Pages/Page_0/Content.xml"
ATTACHMENT = "Doc_0/Attachs/credential.jsonld"


def is_ofd(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def verify_ofd(data: bytes, policy: Policy, *, seal_keys: frozenset[str] = frozenset()) -> VerificationResult:
    from titlecred.printed import _first_problem, _printed_check, _same_certificate

    try:
        parts = read_parts(data)
    except SealError as e:
        return unusable("unreadable_ofd", str(e))
    if ATTACHMENT not in parts or CONTENT not in parts:
        result = VerificationResult()
        result.checks.append(Check("shape", "failed", "the OFD carries no credential (credential.jsonld) or no "
                                   "page: it is not an original certificate file", "no_attachment"))
        return result
    try:
        parsed: Any = parse_json(parts[ATTACHMENT].decode("utf-8"), policy.limits)
    except (ProofLayerError, UnicodeDecodeError) as e:
        message = e.message if isinstance(e, ProofLayerError) else "not UTF-8"
        return unusable(getattr(e, "code", "unreadable_attachment"), f"the attached credential: {message}")
    result = verify_credential(parsed, policy)
    if result.errors:
        return result
    try:
        text = page_text(parts)
        qr = qr_text(parts)
    except etree.XMLSyntaxError:
        text, qr = "", None
    if qr is None:
        result.checks.append(Check("qr", "failed", "no certificate QR code can be read on the page", "no_qr_code"))
    else:
        qr_result = verify_compact(qr, policy)
        if not qr_result.verified:
            result.checks.append(Check("qr", "failed", f"the QR code does not verify: {_first_problem(qr_result)}",
                                       "qr_invalid"))
        elif isinstance(parsed, dict) and (problem := _same_certificate(parsed, qr_result.credential or {})):
            result.checks.append(Check("qr", "failed", problem, "qr_mismatch"))
        else:
            result.checks.append(Check("qr", "passed", "the QR code verifies and carries this certificate's "
                                                       "signed facts"))
    if isinstance(parsed, dict):
        result.checks.append(_printed_check(text, parsed, "attached credential", "layout 1"))
    seal = verify_sealed(parts)
    if not seal.sealed:
        result.checks.append(Check("seal", "skipped", "the OFD is not sealed", required=False))
    elif not seal.ok:
        result.checks.append(Check("seal", "failed", seal.reason, "seal_invalid"))
    elif seal.signer_key is None or seal.signer_key.lower() not in seal_keys:
        result.checks.append(Check("seal", "indeterminate", f"{seal.reason}, but the seal's key is not one this "
                                   "verifier trusts", "seal_key_untrusted", required=False))
    else:
        result.checks.append(Check("seal", "passed", seal.reason))
    return result
