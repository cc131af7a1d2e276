"""Make the QR code's compact signed form (format TC1, see proofs.compact) of a certificate.

The compact form carries the facts of the *minimal* credential (the ID number masked) and is signed by
the issuer's key under the same verification method id that signs its credentials, so that it
verifies offline against the issuer's published keys. It is made from the signed minimal credential;
`compact_from_full` makes it from the full credential alone (the ID number masked here, no minimal id)
for a printout rendered from the holder's file.

Never puts a full resident ID number in the QR code; refuses a form that would not fit a printable QR
code (version 20 at error correction M) rather than print one that phones cannot read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from issuer.credential import MINIMAL_TYPE
from issuer.errors import IssuerError
from issuer.sign import IssuerKey
from proofs import compact
from schemas import identifiers
from schemas.validate import MINIMAL_SCHEMA_ID

MAX_QR_VERSION = 20


class CompactFormError(IssuerError):
    code = "not_compactable"


def _check_size(text: str) -> str:
    version = compact.qr_version_for(text)
    if version > MAX_QR_VERSION:
        raise CompactFormError(
            f"the certificate's facts need a version {version} QR code; at most {MAX_QR_VERSION} prints "
            "legibly (shorten the longest texts or the base URL)", code="qr_too_large")
    return text


def compact_from_minimal(minimal: dict[str, Any], key: IssuerKey, base_url: str, *,
                         now: datetime | None = None) -> str:
    """The QR text (a link to `{base_url}/v` with the signed facts in the fragment) of a minimal credential."""
    try:
        claims = compact.claims_from_credential(minimal, key.verification_method,
                                                signed_at=(now or datetime.now(UTC)))
        cose = compact.encode_cose(claims, key.verification_method, key.sign)
        return _check_size(compact.make_qr_text(base_url, cose))
    except compact.CompactError as e:
        raise CompactFormError(e.message, code=e.code) from None


def minimal_facts_from_full(full: dict[str, Any]) -> dict[str, Any]:
    """The minimal form's facts (unsigned, without an id of its own) of a full credential."""
    subject = full.get("credentialSubject")
    if not isinstance(subject, dict) or "idNumber" not in subject:
        raise CompactFormError("a full title credential (with idNumber) is needed", code="not_compactable")
    facts: dict[str, Any] = {
        "@context": full.get("@context"),
        "type": list(MINIMAL_TYPE),
        "issuer": full.get("issuer"),
        "validFrom": full.get("validFrom"),
        "credentialSchema": {"id": MINIMAL_SCHEMA_ID, "type": "JsonSchema"},
        "fullCredential": full.get("id"),
    }
    for key in ("validUntil", "reissueOf", "credentialStatus"):
        if key in full:
            facts[key] = full[key]
    masked: dict[str, Any] = {}
    for name, value in subject.items():
        if name == "idNumber":
            masked["idNumberMasked"] = identifiers.mask_id_number(value)
        else:
            masked[name] = value
    facts["credentialSubject"] = masked
    return facts


def compact_from_full(full: dict[str, Any], key: IssuerKey, base_url: str, *,
                      now: datetime | None = None) -> str:
    """The QR text made from the holder's full credential (the minimal facts derived here)."""
    return compact_from_minimal(minimal_facts_from_full(full), key, base_url, now=now)
