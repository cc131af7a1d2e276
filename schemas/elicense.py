"""The e-license identifier (电子证照标识, GB/T 36904-2018 as deployed by the provincial libraries).

    1.2.156.3005.2.<license type code>.<issuer USCC>.<serial>.<version>.<check>

- root code `1.2.156.3005.2` (the national e-license OID arc: ISO member body 156, e-license 3005, 2 the
  licenses issued under it);
- license type code: the defining authority's unified social credit code (18 characters) plus a
  3-digit sequence it assigns to the kind of license (21 characters);
- the issuing authority's unified social credit code (GB 32100, 18 characters, its own check valid);
- the serial of the license at that issuer (here: the certificate number, 1–32 of 0-9A-Z);
- a 3-digit version (001 for the first; a changed or reissued license counts up);
- one check character, ISO/IEC 7064 MOD 37,36 over the four fields concatenated without dots
  (alphabet 0-9A-Z, letters taken case-insensitively but written upper case).

Pure functions; a wrong check character is an error (`invalid_elicense_id`), never a warning. Messages
say which part is wrong; the identifier carries no personal data, so it may be quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from schemas.identifiers import IdentifierError, validate_unit_code

__all__ = [
    "ELICENSE_ROOT",
    "INVALID_ELICENSE_ID",
    "ELicenseId",
    "compute_identifier",
    "mod37_36_check_char",
    "parse_identifier",
    "validate_identifier",
]

ELICENSE_ROOT: Final = "1.2.156.3005.2"
INVALID_ELICENSE_ID: Final = "invalid_elicense_id"
_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUE: Final = {c: i for i, c in enumerate(_ALPHABET)}
_TYPE_CODE: Final = re.compile(r"[0-9A-HJ-NP-RTUW-Y]{18}[0-9]{3}")
_SERIAL: Final = re.compile(r"[0-9A-Z]{1,32}")
_VERSION: Final = re.compile(r"[0-9]{3}")
MAX_LENGTH: Final = len(ELICENSE_ROOT) + 1 + 21 + 1 + 18 + 1 + 32 + 1 + 3 + 1 + 1


def _error(message: str) -> IdentifierError:
    return IdentifierError(INVALID_ELICENSE_ID, message)


def mod37_36_check_char(data: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 (hybrid system, M = 36) check character of `data` (0-9A-Z)."""
    m = 36
    p = m
    for char in data.upper():
        value = _VALUE.get(char)
        if value is None:
            raise _error(f"character {char!r} is not in 0-9A-Z")
        s = (p + value) % m or m
        p = (2 * s) % (m + 1)
    return _ALPHABET[(m + 1 - p) % m]


@dataclass(frozen=True)
class ELicenseId:
    """The parts of an e-license identifier."""

    type_code: str
    issuer_code: str
    serial: str
    version: str
    check: str

    @property
    def text(self) -> str:
        return ".".join((ELICENSE_ROOT, self.type_code, self.issuer_code, self.serial, self.version, self.check))

    @property
    def defining_authority(self) -> str:
        return self.type_code[:18]


@lru_cache(maxsize=64)
def _check_codes(type_code: str, issuer_code: str) -> None:
    """The fixed fields, checked once per pair: an issuer states the same two codes in every identifier
    (a failed check is not cached: it raises again)."""
    if not _TYPE_CODE.fullmatch(type_code):
        raise _error("the license type code must be the defining authority's unified social credit code "
                     "and a 3-digit sequence (21 characters)")
    for what, code in (("license type code's authority", type_code[:18]), ("issuer", issuer_code)):
        try:
            validate_unit_code(code)
        except IdentifierError as e:
            raise _error(f"the {what} code is not a valid unified social credit code: {e.message}") from None


def _check_fields(type_code: str, issuer_code: str, serial: str, version: str) -> None:
    _check_codes(type_code, issuer_code)
    if not _SERIAL.fullmatch(serial):
        raise _error("the serial must be 1 to 32 characters of 0-9A-Z")
    if not _VERSION.fullmatch(version) or version == "000":
        raise _error("the version must be three digits from 001")


def compute_identifier(type_code: str, issuer_code: str, serial: str, version: int | str = 1) -> str:
    """The identifier of a license; the serial is upper-cased, the version written as 3 digits."""
    ver = f"{version:03d}" if isinstance(version, int) else version
    serial = serial.upper()
    _check_fields(type_code, issuer_code, serial, ver)
    check = mod37_36_check_char(type_code + issuer_code + serial + ver)
    return ELicenseId(type_code, issuer_code, serial, ver, check).text


def parse_identifier(text: str) -> ELicenseId:
    """Split and check an identifier; `IdentifierError` (invalid_elicense_id) says what is wrong."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        raise _error(f"an e-license identifier is a string of at most {MAX_LENGTH} characters")
    if not text.startswith(ELICENSE_ROOT + "."):
        raise _error(f"an e-license identifier starts with the root code {ELICENSE_ROOT}")
    parts = text[len(ELICENSE_ROOT) + 1:].split(".")
    if len(parts) != 5:
        raise _error("an e-license identifier has five fields after the root code: type code, issuer code, "
                     "serial, version, check character")
    type_code, issuer_code, serial, version, check = parts
    _check_fields(type_code, issuer_code, serial, version)
    expected = mod37_36_check_char(type_code + issuer_code + serial + version)
    if check != expected:
        raise _error(f"the check character is wrong (MOD 37,36 gives {expected})")
    return ELicenseId(type_code, issuer_code, serial, version, check)


def validate_identifier(text: str) -> str:
    """`text` if it is a valid e-license identifier, else `IdentifierError`."""
    return parse_identifier(text).text


def credential_identifier_problem(doc: object) -> str | None:
    """Why the e-license identifier a title credential states is wrong, or None (also when it states none).

    The identifier must be valid (check character included), name the credential's issuer
    (`issuer.unitCode`) and carry the certificate number as its serial."""
    if not isinstance(doc, dict):
        return None
    subject = doc.get("credentialSubject")
    if not isinstance(subject, dict) or "eLicenseIdentifier" not in subject:
        return None
    try:
        parsed = parse_identifier(subject["eLicenseIdentifier"])
    except IdentifierError as e:
        return f"eLicenseIdentifier: {e.message}"
    issuer = doc.get("issuer")
    unit_code = issuer.get("unitCode") if isinstance(issuer, dict) else None
    if parsed.issuer_code != unit_code:
        return "eLicenseIdentifier: its issuer code is not the issuer's unitCode"
    if parsed.serial != subject.get("certificateNumber"):
        return "eLicenseIdentifier: its serial is not the certificateNumber"
    return None
