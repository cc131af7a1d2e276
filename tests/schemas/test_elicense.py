"""The e-license identifier (GB/T 36904): computed, parsed, and refused when its check character is wrong."""

from __future__ import annotations

import pytest

from schemas.elicense import (
    ELICENSE_ROOT,
    INVALID_ELICENSE_ID,
    compute_identifier,
    credential_identifier_problem,
    mod37_36_check_char,
    parse_identifier,
    validate_identifier,
)
from schemas.identifiers import IdentifierError

# The deployed example (shared/data/README.md): its check character is 0.
EXAMPLE = "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0"


def test_the_published_example_computes_and_parses() -> None:
    assert compute_identifier("11100000000013338W009", "11330105002500287C", "2025052201", 2) == EXAMPLE
    parsed = parse_identifier(EXAMPLE)
    assert (parsed.type_code, parsed.issuer_code, parsed.serial, parsed.version, parsed.check) == \
        ("11100000000013338W009", "11330105002500287C", "2025052201", "002", "0")
    assert parsed.defining_authority == "11100000000013338W"
    assert parsed.text == EXAMPLE


def test_mod37_36_satisfies_the_iso_7064_hybrid_property() -> None:
    # Appending the check character makes the hybrid system's final remainder 1 (ISO/IEC 7064 §7).
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for data in ("0", "A", "ZZZZ", "11100000000013338W00911330105002500287C2025052201002", "B1401022026000123"):
        p = 36
        for char in data + mod37_36_check_char(data):
            s = (p + alphabet.index(char)) % 36 or 36
            p = (2 * s) % 37
        assert s == 1


def test_every_other_check_character_is_an_error() -> None:
    head = EXAMPLE[:-1]
    for char in "123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        with pytest.raises(IdentifierError) as e:
            parse_identifier(head + char)
        assert e.value.code == INVALID_ELICENSE_ID
        assert "check character" in e.value.message


def test_a_changed_field_is_caught_by_the_check_character() -> None:
    changed = EXAMPLE.replace("2025052201", "2025052202")
    with pytest.raises(IdentifierError, match="check character"):
        validate_identifier(changed)


@pytest.mark.parametrize("text, what", [
    ("1.2.156.3005.1.11100000000013338W009.11330105002500287C.2025052201.002.0", "root code"),
    ("1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002", "five fields"),
    ("1.2.156.3005.2.11100000000013338W9.11330105002500287C.2025052201.002.0", "type code"),
    ("1.2.156.3005.2.11100000000013338X009.11330105002500287C.2025052201.002.0", "unified social credit"),
    ("1.2.156.3005.2.11100000000013338W009.11330105002500287D.2025052201.002.0", "issuer code"),
    ("1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025-05.002.0", "serial"),
    ("1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.000.0", "version"),
    ("x" * 500, "at most"),
])
def test_malformed_identifiers_say_which_part_is_wrong(text: str, what: str) -> None:
    with pytest.raises(IdentifierError, match=what) as e:
        parse_identifier(text)
    assert e.value.code == INVALID_ELICENSE_ID


def test_compute_refuses_bad_parts_and_uppercases_the_serial() -> None:
    ident = compute_identifier("11100000000013338W009", "11330105002500287C", "b1401022026000123")
    assert ident.startswith(ELICENSE_ROOT + ".11100000000013338W009.11330105002500287C.B1401022026000123.001.")
    with pytest.raises(IdentifierError):
        compute_identifier("11100000000013338W009", "11330105002500287C", "B14-01")


def test_a_credential_must_state_its_own_issuer_and_number() -> None:
    ident = compute_identifier("11100000000013338W009", "11330105002500287C", "B2024110100001")
    doc = {"issuer": {"unitCode": "11330105002500287C"},
           "credentialSubject": {"certificateNumber": "B2024110100001", "eLicenseIdentifier": ident}}
    assert credential_identifier_problem(doc) is None
    assert "issuer code" in str(credential_identifier_problem({**doc, "issuer": {"unitCode": "91350100M000100Y43"}}))
    other = {**doc, "credentialSubject": {**doc["credentialSubject"], "certificateNumber": "B2024110100002"}}
    assert "serial" in str(credential_identifier_problem(other))
    assert credential_identifier_problem({"credentialSubject": {"certificateNumber": "B1"}}) is None
