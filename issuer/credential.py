"""The professional title credential (VC Data Model 2.0) in its two forms.

The full form is the holder's: every fact, the resident ID number included. The minimal form is what
strangers see (printouts, QR codes): the same facts with the ID number masked, signed on its own and
linked to the full one by id. Both are validated against their JSON Schema before they are signed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from issuer.errors import InvalidRecord
from issuer.record import TitleRecord
from schemas import CREDENTIALS_V2_URL, TITLE_CONTEXT_URL, identifiers
from schemas.validate import FULL_SCHEMA_ID, MINIMAL_SCHEMA_ID, schema_errors

CONTEXT = [CREDENTIALS_V2_URL, TITLE_CONTEXT_URL]
FULL_TYPE = ["VerifiableCredential", "ProfessionalTitleCredential"]
MINIMAL_TYPE = ["VerifiableCredential", "ProfessionalTitleCredential", "MinimalTitleCredential"]


@dataclass(frozen=True)
class IssuerProfile:
    """Who issues: the bureau's DID, its Chinese name, and its unified social credit code."""

    did: str
    name: str
    unit_code: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.did, "name": self.name}
        if self.unit_code:
            out["unitCode"] = self.unit_code
        return out


def new_credential_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _subject(record: TitleRecord, *, masked: bool) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "type": "ProfessionalTitleHolder",
        "name": record.name,
        "namePinyin": record.namePinyin,
        "gender": record.gender,
    }
    if masked:
        subject["idNumberMasked"] = identifiers.mask_id_number(record.idNumber)
    else:
        subject["idNumber"] = record.idNumber
    subject.update({
        "reportingUnit": record.reportingUnit,
        "qualification": record.qualification,
        "series": record.series,
        "specialty": record.specialty,
        "level": record.level,
        "levelCode": record.levelCode,
        "reviewBody": record.reviewBody,
        "reviewChannel": record.reviewChannel,
        "dateQualified": record.dateQualified,
        "certificateNumber": record.certificateNumber,
    })
    if record.eLicenseIdentifier:
        subject["eLicenseIdentifier"] = record.eLicenseIdentifier
    if record.annotations:
        subject["annotations"] = list(record.annotations)
    if record.scopeOfUse:
        subject["scopeOfUse"] = record.scopeOfUse
    if record.namePrintedAsPinyin is not None:
        subject["namePrintedAsPinyin"] = record.namePrintedAsPinyin
    return subject


def _check(doc: dict[str, Any], schema_id: str) -> dict[str, Any]:
    problems = schema_errors(doc, schema_id)
    if problems:
        raise InvalidRecord("the credential would not match its schema: " + "; ".join(problems),
                            code="schema_violation")
    return doc


def build_full_credential(
    record: TitleRecord,
    issuer: IssuerProfile,
    *,
    valid_from: str,
    credential_id: str | None = None,
    status: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The unsigned full credential of `record`."""
    doc: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": credential_id or new_credential_id(),
        "type": list(FULL_TYPE),
        "issuer": issuer.as_json(),
        "validFrom": valid_from,
        "credentialSchema": {"id": FULL_SCHEMA_ID, "type": "JsonSchema"},
    }
    if record.reissueOf:
        doc["reissueOf"] = record.reissueOf
    if status:
        doc["credentialStatus"] = status if len(status) > 1 else status[0]
    doc["credentialSubject"] = _subject(record, masked=False)
    return _check(doc, FULL_SCHEMA_ID)


def build_minimal_credential(
    record: TitleRecord,
    full: dict[str, Any],
    *,
    credential_id: str | None = None,
) -> dict[str, Any]:
    """The unsigned minimal form that goes with the (signed or unsigned) full credential `full`."""
    doc: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": credential_id or new_credential_id(),
        "type": list(MINIMAL_TYPE),
        "issuer": full["issuer"],
        "validFrom": full["validFrom"],
        "credentialSchema": {"id": MINIMAL_SCHEMA_ID, "type": "JsonSchema"},
        "fullCredential": full["id"],
    }
    if record.reissueOf:
        doc["reissueOf"] = record.reissueOf
    if "credentialStatus" in full:
        # The same status entries: revoking the certificate revokes both forms at once.
        doc["credentialStatus"] = full["credentialStatus"]
    doc["credentialSubject"] = _subject(record, masked=True)
    return _check(doc, MINIMAL_SCHEMA_ID)


def bound_copy(full: dict[str, Any], holder_did: str, *, valid_from: str, credential_id: str | None = None
               ) -> dict[str, Any]:
    """The unsigned copy of the (signed) full credential `full` bound to `holder_did`: a new id and
    validFrom, `credentialSubject.id` = the holder's DID, everything else (facts, status) as it is."""
    doc = {k: v for k, v in full.items() if k != "proof"}
    doc["id"] = credential_id or new_credential_id()
    doc["validFrom"] = valid_from
    subject = {k: v for k, v in full["credentialSubject"].items() if k != "id"}
    doc["credentialSubject"] = {"id": holder_did, **subject}
    return _check(doc, FULL_SCHEMA_ID)
