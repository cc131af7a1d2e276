"""Resident ID numbers (GB 11643) and unified social credit codes (GB 32100): checks, masking, privacy."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.identifiers import (
    UNIT_CODE_ALPHABET,
    IdentifierError,
    birth_date_from_id,
    gender_from_id,
    mask_id_number,
    resident_id_check_char,
    unit_code_check_char,
    upgrade_15_digit_id,
    validate_resident_id,
    validate_unit_code,
)

VALID_ID = "11010519491231002X"
TODAY = dt.date(2025, 6, 1)


def make_id(address: str, born: dt.date, sequence: str) -> str:
    first17 = f"{address}{born:%Y%m%d}{sequence}"
    return first17 + resident_id_check_char(first17)


# --- resident ID numbers -------------------------------------------------------------------------------


def test_documented_example_is_valid() -> None:
    assert validate_resident_id(VALID_ID) == VALID_ID
    assert resident_id_check_char(VALID_ID[:17]) == "X"


def test_normalizes_lowercase_x_and_whitespace() -> None:
    assert validate_resident_id("  11010519491231002x\n") == VALID_ID
    assert validate_resident_id("\u300011010519491231002x") == VALID_ID  # ideographic space


@pytest.mark.parametrize("address", ["810000", "820000", "830000"])
def test_hong_kong_macao_taiwan_residence_permits(address: str) -> None:
    number = make_id(address, dt.date(1990, 5, 17), "123")
    assert validate_resident_id(number) == number


def test_foreigner_permanent_residence_number_2023() -> None:
    # Leading 9, then province and nationality codes; birth date and check work as for citizens.
    number = make_id("931840", dt.date(1985, 2, 28), "014")
    assert validate_resident_id(number) == number
    assert birth_date_from_id(number) == dt.date(1985, 2, 28)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1101051949123100", "18 characters, got 16"),
        ("110105194912310021X", "18 characters, got 19"),
        ("", "18 characters, got 0"),
        ("11010519491231002Y", "character 18 must be a digit or X"),
        ("1101051949123100X2", "character 17 is not a digit"),
        ("1101051949123100２X", "character 17 is not a digit"),  # full-width digit
        ("11010519490230002X", "not a real calendar date"),
        ("11010519491331002X", "not a real calendar date"),
        ("11010518991231002X", "before 1900"),
        ("11010529991231002X", "in the future"),
        ("11010519491231003X", "check character is wrong: it should be 8"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(value: str, fragment: str) -> None:
    # Fix the check character where the case is about another field, so that field is what fails.
    if fragment in ("not a real calendar date", "before 1900", "in the future"):
        value = value[:17] + resident_id_check_char(value[:17])
    with pytest.raises(IdentifierError) as caught:
        validate_resident_id(value, today=TODAY)
    assert caught.value.code == "invalid_id_number"
    assert fragment in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_birth_date_today_is_accepted_tomorrow_is_not() -> None:
    assert validate_resident_id(make_id("110105", TODAY, "001"), today=TODAY)
    with pytest.raises(IdentifierError, match="future"):
        validate_resident_id(make_id("110105", TODAY + dt.timedelta(days=1), "001"), today=TODAY)


def test_leap_day() -> None:
    assert validate_resident_id(make_id("110105", dt.date(2000, 2, 29), "001"))
    with pytest.raises(IdentifierError, match="calendar date"):
        validate_resident_id("11010519000229001" + resident_id_check_char("11010519000229001"))


def test_error_messages_never_contain_the_number_or_its_parts() -> None:
    wrong_check = VALID_ID[:17] + "5"
    bad_date = "110105194902300028"
    for value in (wrong_check, bad_date, VALID_ID + "1", "11010519491231002"):
        with pytest.raises(IdentifierError) as caught:
            validate_resident_id(value)
        text = str(caught.value) + repr(caught.value.args)
        for part in ("110105", "1949", "19491231", "491231", "002X", "0230"):
            assert part not in text
        # No chained exception carrying the value along into a traceback.
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_15_digit_numbers_only_with_explicit_flag() -> None:
    with pytest.raises(IdentifierError, match="15 characters"):
        validate_resident_id("110105491231002")
    assert validate_resident_id(" 110105491231002 ", allow_15=True) == VALID_ID
    assert upgrade_15_digit_id("110105491231002") == VALID_ID


@pytest.mark.parametrize("value", ["11010549123100", "11010549123100A", "110105490230002"])
def test_upgrade_rejects_bad_15_digit_numbers(value: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        upgrade_15_digit_id(value)
    assert caught.value.code == "invalid_id_number"


def test_gender_and_birth_date() -> None:
    assert gender_from_id(VALID_ID) == "女"  # sequence 002
    male = make_id("110105", dt.date(1970, 1, 1), "011")
    assert gender_from_id(male) == "男"
    assert birth_date_from_id(VALID_ID) == dt.date(1949, 12, 31)
    with pytest.raises(IdentifierError):
        gender_from_id("11010519491231003X")


def test_check_char_helper_rejects_bad_input() -> None:
    for bad in ("1101051949123100", "1101051949123100A", "110105194912310021"):
        with pytest.raises(IdentifierError):
            resident_id_check_char(bad)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (VALID_ID, "110***********002X"),
        ("11010519491231002x", "110***********002X"),
        (" 11010519491231002X ", "110***********002X"),
        ("110105491231002", "***********1002"),  # 15 digits: no head, layout unknown
        ("123456789012", "********9012"),
        ("12345678901", "***********"),
        ("1234", "****"),
        ("", ""),
        ("1101051949123100211234", "******************1234"),
    ],
)
def test_mask(value: str, masked: str) -> None:
    assert mask_id_number(value) == masked


# --- unified social credit codes -------------------------------------------------------------------


@pytest.mark.parametrize("code", ["91350100M000100Y43", "11100000000013338W"])
def test_documented_unit_codes_are_valid(code: str) -> None:
    assert validate_unit_code(code) == code
    assert unit_code_check_char(code[:17]) == code[17]


def test_unit_code_normalizes_case_and_whitespace() -> None:
    assert validate_unit_code(" 91350100m000100y43\t") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("91350100M000100Y4", "18 characters, got 17"),
        ("91350100M000100Y433", "18 characters, got 19"),
        ("91350100M0001O0Y43", "character 14 is not allowed"),
        ("91350100I000100Y43", "character 9 is not allowed"),
        ("9135010ßM000100Y43", "character 8 is not allowed"),
        ("91350100M000100Y44", "should be 3"),
    ],
)
def test_invalid_unit_codes(value: str, fragment: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_unit_code(value)
    assert caught.value.code == "invalid_unit_code"
    assert fragment in str(caught.value)
    assert "91350100M000100Y4" not in str(caught.value)


def test_unit_check_char_helper_rejects_bad_input() -> None:
    for bad in ("91350100M000100Y", "91350100M000100YI", "91350100m000100Y4"):
        with pytest.raises(IdentifierError) as caught:
            unit_code_check_char(bad)
        assert caught.value.code == "invalid_unit_code"


# --- properties -----------------------------------------------------------------------------------------

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
birth_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)
addresses = st.text(alphabet="0123456789", min_size=6, max_size=6)
sequences = st.text(alphabet="0123456789", min_size=3, max_size=3)
valid_ids = st.builds(make_id, addresses, birth_dates, sequences)
unit_prefixes = st.text(alphabet=UNIT_CODE_ALPHABET, min_size=17, max_size=17)
valid_unit_codes = unit_prefixes.map(lambda first17: first17 + unit_code_check_char(first17))
# Replacement characters: the valid alphabets plus lookalikes and other text.
replacements = st.sampled_from("0123456789XxABCDEFGHJKLMNPQRTUWXYIOSVZ ２-") | st.characters()


@given(addresses, birth_dates, sequences)
def test_any_prefix_with_valid_date_and_its_check_char_validates(
    address: str, born: dt.date, seq: str
) -> None:
    number = make_id(address, born, seq)
    assert validate_resident_id(number, today=TODAY) == number
    assert birth_date_from_id(number) == born
    assert gender_from_id(number) == ("男" if int(seq[-1]) % 2 else "女")


@given(valid_ids, st.integers(min_value=0, max_value=17), replacements)
def test_changing_one_character_of_an_id_invalidates_it(number: str, position: int, new: str) -> None:
    changed = number[:position] + new + number[position + 1 :]
    if changed.strip().replace("x", "X") == number:
        return  # the same number written differently (lowercase x), not a change
    with pytest.raises(IdentifierError):
        validate_resident_id(changed, today=TODAY)


@given(valid_unit_codes)
def test_any_unit_prefix_with_its_check_char_validates(code: str) -> None:
    assert validate_unit_code(code) == code


@given(valid_unit_codes, st.integers(min_value=0, max_value=17), replacements)
def test_changing_one_character_of_a_unit_code_invalidates_it(code: str, position: int, new: str) -> None:
    changed = code[:position] + new + code[position + 1 :]
    if changed.strip().upper() == code:
        return  # case or surrounding whitespace only
    with pytest.raises(IdentifierError):
        validate_unit_code(changed)


@given(st.one_of(valid_ids, st.text(max_size=40), st.text(alphabet="0123456789Xx *", max_size=40)))
def test_mask_never_reveals_more_than_seven_characters(value: str) -> None:
    masked = mask_id_number(value)
    stripped = value.strip()
    assert len(masked) == len(stripped)
    revealed = [i for i, char in enumerate(masked) if char != "*"]
    assert len(revealed) <= 7
    # What is shown is the original (up to the x → X fold) at the same place.
    for i in revealed:
        assert masked[i] == stripped[i].replace("x", "X")
