"""Check and normalize the two national identifiers a title certificate carries.

- Resident ID numbers (公民身份号码, GB 11643-1999): the holder's number, 18 characters, check character
  by ISO 7064 MOD 11-2. Also covers the Hong Kong / Macao / Taiwan residence permits (address codes
  810000 / 820000 / 830000) and the 2023 foreigner permanent-residence number (leading 9), which share
  the layout and the check. Old 15-digit numbers are upgraded only when the caller asks for it.
- Unified social credit codes (统一社会信用代码, GB 32100-2015): the issuer's, the employer's and the
  reporting unit's code, 18 characters, check character modulo 31.

What this module must never do:
- put personal data into error messages, exception attributes or logs. An ID number reveals birth
  date, gender and home district; messages name the field and the position that is wrong, never the
  number or any part of it (the expected check character alone is allowed: on its own it says nothing);
- import anything else of TitleCred (the `schemas` package is the bottom layer), touch the network or
  keep state: every function here is pure.

Address codes and organization structure are deliberately not checked against lists: division codes
change every year and old numbers keep retired codes, so only layout, date and check character decide.
"""

from __future__ import annotations

import datetime as _dt
import string
from typing import Final

__all__ = [
    "UNIT_CODE_ALPHABET",
    "IdentifierError",
    "birth_date_from_id",
    "gender_from_id",
    "mask_id_number",
    "resident_id_check_char",
    "unit_code_check_char",
    "upgrade_15_digit_id",
    "validate_resident_id",
    "validate_unit_code",
]

INVALID_ID_NUMBER: Final = "invalid_id_number"
INVALID_UNIT_CODE: Final = "invalid_unit_code"


class IdentifierError(ValueError):
    """An identifier failed validation.

    `code` is stable and machine-readable (`invalid_id_number` or `invalid_unit_code`); the message is
    one human line that never contains the identifier itself.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- Resident ID numbers (GB 11643-1999) --------------------------------------------------------------

_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Index = weighted sum mod 11 (ISO 7064 MOD 11-2 as tabulated in GB 11643).
_ID_CHECK_CHARS: Final = "10X98765432"
_ASCII_DIGITS: Final = frozenset("0123456789")
# Nobody holding a number today was born earlier; a 18xx year is a typo, not a centenarian.
_EARLIEST_BIRTH: Final = _dt.date(1900, 1, 1)


def _id_error(message: str) -> IdentifierError:
    return IdentifierError(INVALID_ID_NUMBER, message)


def _first_non_digit(value: str) -> int | None:
    # str.isdigit() accepts full-width and other Unicode digits; only ASCII digits are valid here.
    for index, char in enumerate(value):
        if char not in _ASCII_DIGITS:
            return index
    return None


def resident_id_check_char(first17: str) -> str:
    """The GB 11643 check character ("0"–"9" or "X") for the first 17 digits of a resident ID number."""
    if not isinstance(first17, str) or len(first17) != 17:
        raise _id_error("a resident ID number check needs exactly 17 leading digits")
    bad = _first_non_digit(first17)
    if bad is not None:
        raise _id_error(f"resident ID number character {bad + 1} is not a digit")
    total = sum(int(char) * weight for char, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _birth_date(digits8: str) -> _dt.date:
    """The date encoded as YYYYMMDD; the message names the field, never its value (it is personal data)."""
    try:
        return _dt.date(int(digits8[0:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        # `from None`: the original exception adds nothing and should not ride along into logs.
        raise _id_error("resident ID number birth date is not a real calendar date") from None


def _check_birth_date(born: _dt.date, today: _dt.date) -> None:
    if born < _EARLIEST_BIRTH:
        raise _id_error("resident ID number birth date is before 1900")
    if born > today:
        raise _id_error("resident ID number birth date is in the future")


def upgrade_15_digit_id(value: str) -> str:
    """Convert an old 15-digit number (issued until 1999) to its 18-character form.

    The 15-digit layout is address(6) YYMMDD(6) sequence(3); every holder was born in the 1900s, so
    "19" goes before the year and the check character is appended.
    """
    if not isinstance(value, str):
        raise _id_error("a resident ID number must be text")
    value = value.strip()
    if len(value) != 15:
        raise _id_error(f"an old resident ID number must be 15 digits, got {len(value)} characters")
    bad = _first_non_digit(value)
    if bad is not None:
        raise _id_error(f"resident ID number character {bad + 1} is not a digit")
    first17 = value[:6] + "19" + value[6:]
    _birth_date(first17[6:14])  # only a real date; 19xx cannot be in the future or before 1900
    return first17 + resident_id_check_char(first17)


def validate_resident_id(value: str, *, allow_15: bool = False, today: _dt.date | None = None) -> str:
    """Validate a resident ID number and return its normalized 18-character form.

    Surrounding whitespace is stripped and a lowercase check "x" becomes "X". The birth date must be a
    real date, not before 1900 and not after `today` (default: the local date; tests pass a fixed one).
    A 15-digit number is refused unless `allow_15=True`, then returned upgraded to 18 characters: old
    numbers are legitimate only where the caller knows it is reading legacy records (paper conversion).
    Raises `IdentifierError` (code `invalid_id_number`).
    """
    if not isinstance(value, str):
        raise _id_error("a resident ID number must be text")
    # Only the check character may be a letter, so only "x" needs folding; str.upper() would also
    # rewrite non-ASCII text (ß → SS) and make the length and positions in messages wrong.
    value = value.strip().replace("x", "X")
    if len(value) == 15:
        if not allow_15:
            raise _id_error("resident ID number has 15 characters: old numbers must be upgraded to 18 first")
        value = upgrade_15_digit_id(value)
    if len(value) != 18:
        raise _id_error(f"a resident ID number must be 18 characters, got {len(value)}")
    bad = _first_non_digit(value[:17])
    if bad is not None:
        raise _id_error(f"resident ID number character {bad + 1} is not a digit")
    if value[17] not in _ID_CHECK_CHARS:
        raise _id_error("resident ID number character 18 must be a digit or X")
    _check_birth_date(_birth_date(value[6:14]), today or _dt.date.today())
    expected = resident_id_check_char(value[:17])
    if value[17] != expected:
        raise _id_error(f"resident ID number check character is wrong: it should be {expected}")
    return value


def gender_from_id(id18: str) -> str:
    """The gender "男" or "女" from the sequence code (odd male, even female); validates the number first."""
    number = validate_resident_id(id18)
    return "男" if int(number[16]) % 2 == 1 else "女"


def birth_date_from_id(id18: str) -> _dt.date:
    """The birth date encoded in a resident ID number. Validates the number first."""
    number = validate_resident_id(id18)
    return _birth_date(number[6:14])


_MASK_CHAR: Final = "*"
_MASK_HEAD: Final = 3
_MASK_TAIL: Final = 4
# Below this length the last four would be a large share of the value; reveal nothing at all.
_MASK_MIN_TAIL_LENGTH: Final = 12


def mask_id_number(id18: str) -> str:
    """Mask an ID number for display to anyone but its holder: `110***********002X`.

    Never raises and never reveals more than 7 characters, whatever it is given (it is used on values
    that failed validation too). The result has the length of the stripped input:
    - 18 characters: the first 3 and the last 4 are shown;
    - any other length of at least 12 (e.g. an old 15-digit number): only the last 4 are shown, since
      the layout is not known and the leading characters may not be the region;
    - shorter than 12: every character is masked.
    A lowercase "x" is shown as "X", like the normalized number.
    """
    # Fold only "x": str.upper() can lengthen non-ASCII text (ß → SS) and shift what is revealed.
    value = id18.strip().replace("x", "X") if isinstance(id18, str) else ""
    length = len(value)
    if length == 18:
        head, tail = _MASK_HEAD, _MASK_TAIL
    elif length >= _MASK_MIN_TAIL_LENGTH:
        head, tail = 0, _MASK_TAIL
    else:
        head, tail = 0, 0
    return value[:head] + _MASK_CHAR * (length - head - tail) + value[length - tail :]


# --- Unified social credit codes (GB 32100-2015) ------------------------------------------------------

# No I, O, S, V, Z: they are too easily read as 1, 0, 5, U, 2.
UNIT_CODE_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_UNIT_VALUES: Final = {char: index for index, char in enumerate(UNIT_CODE_ALPHABET)}
# ASCII-only case folding: str.upper() would turn "ß" into "SS" and shift every reported position.
_ASCII_UPPER: Final = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_UNIT_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _unit_error(message: str) -> IdentifierError:
    return IdentifierError(INVALID_UNIT_CODE, message)


def _first_bad_unit_char(value: str) -> int | None:
    for index, char in enumerate(value):
        if char not in _UNIT_VALUES:
            return index
    return None


def unit_code_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a unified social credit code.

    Input is taken as is (no case folding): helpers that generate codes should pass canonical text.
    """
    if not isinstance(first17, str) or len(first17) != 17:
        raise _unit_error("a unified social credit code check needs exactly 17 leading characters")
    bad = _first_bad_unit_char(first17)
    if bad is not None:
        raise _unit_error(f"unified social credit code character {bad + 1} is not allowed")
    total = sum(_UNIT_VALUES[char] * weight for char, weight in zip(first17, _UNIT_WEIGHTS, strict=True))
    return UNIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_unit_code(value: str) -> str:
    """Validate a unified social credit code; return it stripped and uppercased.

    Only length, alphabet and check character are enforced: registering-authority and organization-type
    codes are extended by regulation, so a list here would reject new, valid codes.
    Raises `IdentifierError` (code `invalid_unit_code`).
    """
    if not isinstance(value, str):
        raise _unit_error("a unified social credit code must be text")
    value = value.strip().translate(_ASCII_UPPER)
    if len(value) != 18:
        raise _unit_error(f"a unified social credit code must be 18 characters, got {len(value)}")
    bad = _first_bad_unit_char(value)
    if bad is not None:
        raise _unit_error(
            f"unified social credit code character {bad + 1} is not allowed "
            "(digits and capital letters except I, O, S, V, Z)"
        )
    expected = unit_code_check_char(value[:17])
    if value[17] != expected:
        raise _unit_error(f"unified social credit code check character is wrong: it should be {expected}")
    return value
