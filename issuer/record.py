"""The certificate record: the facts of one professional title, validated at the door.

A record is what a review chain hands the bureau (or what `titlecred issue RECORD.json` reads). Every
rule that can be checked without a database is checked here, so that nothing invalid is ever signed:
exact Unicode (NFC) text, a resident ID number with a valid GB 11643 check character, a real date,
a known level and channel. Error messages never repeat the ID number.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from issuer.errors import InvalidRecord
from schemas import elicense, identifiers, titles
from schemas.text import is_printable

REQUIRED = (
    "name", "namePinyin", "gender", "idNumber", "reportingUnit", "qualification", "series",
    "specialty", "level", "reviewBody", "reviewChannel", "dateQualified", "certificateNumber",
)
OPTIONAL = ("annotations", "scopeOfUse", "reissueOf", "namePrintedAsPinyin", "levelCode", "eLicenseIdentifier")
MAX_TEXT = 200


@dataclass(frozen=True)
class TitleRecord:
    name: str
    namePinyin: str
    gender: str
    idNumber: str
    reportingUnit: str
    qualification: str
    series: str
    specialty: str
    level: str
    reviewBody: str
    reviewChannel: str
    dateQualified: str
    certificateNumber: str
    annotations: tuple[str, ...] = field(default_factory=tuple)
    scopeOfUse: str | None = None
    reissueOf: str | None = None
    namePrintedAsPinyin: bool | None = None
    eLicenseIdentifier: str | None = None  # GB/T 36904; set by the issuing service

    @property
    def levelCode(self) -> str:
        return titles.level_letter(self.level)

    def as_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy of every field cost more than the rest of this (every field
        # is a str, bool or None but the tuple of annotations, made a list here).
        d = {name: getattr(self, name) for name in _FIELD_NAMES}
        d["annotations"] = list(self.annotations)
        return {k: v for k, v in d.items() if v not in (None, [])}


_FIELD_NAMES = tuple(f.name for f in fields(TitleRecord))


def _text(data: dict[str, Any], key: str, *, required: bool = True, max_len: int = MAX_TEXT) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise InvalidRecord(f"{key} is required", field=key, code="missing_field")
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"{key} must be a string", field=key, code="invalid_field")
    if value != value.strip() or not is_printable(value):
        raise InvalidRecord(f"{key} has leading/trailing spaces or control characters", field=key,
                            code="invalid_field")
    if not unicodedata.is_normalized("NFC", value):
        raise InvalidRecord(
            f"{key} is not in Unicode NFC form; send the exact characters, normalized (NFC)",
            field=key, code="not_nfc")
    if len(value) > max_len:
        raise InvalidRecord(f"{key} is longer than {max_len} characters", field=key, code="invalid_field")
    return value


def _date(value: str, key: str) -> str:
    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise InvalidRecord(f"{key} {value!r} is not a real date (YYYY-MM-DD)", field=key,
                            code="invalid_date") from None
    if len(value) != 10 or d.year < 1949 or d > date.today():
        raise InvalidRecord(f"{key} {value!r} is not a possible date (YYYY-MM-DD, 1949 to today)",
                            field=key, code="invalid_date")
    return value


def parse_record(data: Any) -> TitleRecord:
    """Validate a record (a JSON object) and return it; raise `InvalidRecord` naming the field."""
    if not isinstance(data, dict):
        raise InvalidRecord("a certificate record must be a JSON object", code="invalid_record")
    unknown = set(data) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        raise InvalidRecord(f"unknown field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0],
                            code="unknown_field")
    values = {k: _text(data, k) for k in REQUIRED}
    try:
        id_number = identifiers.validate_resident_id(str(values["idNumber"]))
    except identifiers.IdentifierError as e:
        raise InvalidRecord(f"idNumber: {e}", field="idNumber", code=e.code) from None
    if values["gender"] not in ("男", "女"):
        raise InvalidRecord("gender must be 男 or 女", field="gender", code="invalid_field")
    try:
        level_code = titles.level_letter(str(values["level"]))
        titles.channel_code(str(values["reviewChannel"]))
    except titles.TitleDataError as e:
        raise InvalidRecord(str(e), field="level" if e.code == "invalid_level" else "reviewChannel",
                            code=e.code) from None
    given_code = data.get("levelCode")
    if given_code is not None and given_code != level_code:
        raise InvalidRecord(f"levelCode {given_code!r} does not match level {values['level']} ({level_code})",
                            field="levelCode", code="invalid_level")
    number = str(values["certificateNumber"])
    if not (number[:1] == level_code and number[1:].isdigit() and 6 <= len(number) - 1 <= 24):
        raise InvalidRecord(
            f"certificateNumber must be the level letter {level_code} followed by 6–24 digits",
            field="certificateNumber", code="invalid_certificate_number")
    annotations = data.get("annotations") or []
    if not isinstance(annotations, list) or len(annotations) > 8:
        raise InvalidRecord("annotations must be a list of at most 8 strings", field="annotations",
                            code="invalid_field")
    notes = tuple(_text({"a": a}, "a") or "" for a in annotations)
    if len(set(notes)) != len(notes):
        raise InvalidRecord("annotations must not repeat", field="annotations", code="invalid_field")
    reissue_of = _text(data, "reissueOf", required=False)
    if reissue_of is not None and not reissue_of.startswith("urn:uuid:"):
        raise InvalidRecord("reissueOf must be the urn:uuid: id of the credential reissued",
                            field="reissueOf", code="invalid_field")
    printed_pinyin = data.get("namePrintedAsPinyin")
    if printed_pinyin is not None and not isinstance(printed_pinyin, bool):
        raise InvalidRecord("namePrintedAsPinyin must be true or false", field="namePrintedAsPinyin",
                            code="invalid_field")
    license_id = data.get("eLicenseIdentifier")
    if license_id is not None:
        try:
            license_id = elicense.validate_identifier(license_id)
        except identifiers.IdentifierError as e:
            raise InvalidRecord(f"eLicenseIdentifier: {e}", field="eLicenseIdentifier", code=e.code) from None
        if elicense.parse_identifier(license_id).serial != number:
            raise InvalidRecord("eLicenseIdentifier: its serial must be the certificate number",
                                field="eLicenseIdentifier", code="invalid_elicense_id")
    return TitleRecord(
        name=str(values["name"]), namePinyin=str(values["namePinyin"]), gender=str(values["gender"]),
        idNumber=id_number, reportingUnit=str(values["reportingUnit"]),
        qualification=str(values["qualification"]), series=str(values["series"]),
        specialty=str(values["specialty"]), level=str(values["level"]), reviewBody=str(values["reviewBody"]),
        reviewChannel=str(values["reviewChannel"]),
        dateQualified=_date(str(values["dateQualified"]), "dateQualified"),
        certificateNumber=number, annotations=notes, scopeOfUse=_text(data, "scopeOfUse", required=False),
        reissueOf=reissue_of, namePrintedAsPinyin=printed_pinyin, eLicenseIdentifier=license_id,
    )
