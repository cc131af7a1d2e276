"""The e-license identifier in the credential, its QR code and on the printed page."""

from __future__ import annotations

import copy

import pypdfium2 as pdfium
import pytest
from certkit import BASE_URL, NOW, Bureau, Certificate

from issuer.compact import compact_from_minimal
from issuer.credential import IssuerProfile
from issuer.record import parse_record
from issuer.sign import sign_document
from printing import layout
from printing.extract import ExtractLimits
from printing.pdf import render_pdf
from schemas.elicense import compute_identifier
from titlecred.printed import verify_bytes
from titlecred.services.elicense_id import DEFAULT_TYPE_CODE, with_identifier
from verifier.compact import verify_compact
from verifier.verify import verify_credential

UNIT_CODE = "11330105002500287C"
IN_PROCESS = ExtractLimits(isolate=False)


@pytest.fixture(scope="module")
def licensed() -> tuple[Bureau, Certificate]:
    bureau = Bureau(unit_code=UNIT_CODE)
    number = "B2024110100031"
    ident = compute_identifier(DEFAULT_TYPE_CODE, UNIT_CODE, number)
    return bureau, bureau.certificate(certificateNumber=number, eLicenseIdentifier=ident)


def _page_text(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        return doc[0].get_textpage().get_text_range()
    finally:
        doc.close()


def test_the_credential_states_the_identifier_and_verifies(licensed: tuple[Bureau, Certificate]) -> None:
    bureau, cert = licensed
    ident = cert.full["credentialSubject"]["eLicenseIdentifier"]
    assert ident.startswith("1.2.156.3005.2.11100000000013338W009.11330105002500287C.B2024110100031.001.")
    assert cert.pair.minimal["credentialSubject"]["eLicenseIdentifier"] == ident
    for doc in (cert.full, cert.pair.minimal):
        result = verify_credential(doc, bureau.policy())
        assert result.check("schema").ok, result.to_json()


def test_the_qr_code_carries_the_identifier(licensed: tuple[Bureau, Certificate]) -> None:
    bureau, cert = licensed
    result = verify_compact(cert.qr_text, bureau.policy(unsafe_skip_status=True))
    assert result.verified, result.to_json()
    assert result.credential["credentialSubject"]["eLicenseIdentifier"] == \
        cert.full["credentialSubject"]["eLicenseIdentifier"]


def test_the_page_prints_the_identifier_and_verifies(licensed: tuple[Bureau, Certificate]) -> None:
    bureau, cert = licensed
    text = layout.normalize_text(_page_text(cert.pdf))
    assert layout.normalize_text("证照标识：" + cert.full["credentialSubject"]["eLicenseIdentifier"]) in text
    assert text == layout.page_text(cert.full)
    result = verify_bytes(cert.pdf, bureau.policy(), limits=IN_PROCESS)
    assert result.verified, result.to_json()


def test_a_signed_credential_with_a_wrong_check_character_fails(licensed: tuple[Bureau, Certificate]) -> None:
    bureau, cert = licensed
    doc = copy.deepcopy(cert.full)
    doc.pop("proof")
    ident = doc["credentialSubject"]["eLicenseIdentifier"]
    wrong = ident[:-1] + ("1" if ident[-1] != "1" else "2")
    doc["credentialSubject"]["eLicenseIdentifier"] = wrong
    signed = sign_document(doc, bureau.issuer_key, created="2024-11-01T02:30:00Z")
    result = verify_credential(signed, bureau.policy())
    assert not result.verified
    assert result.check("proof").ok  # the signature is fine: the identifier itself is wrong
    assert result.check("schema").code == "invalid_elicense_id"
    assert "check character" in result.check("schema").reason


def test_a_record_with_a_wrong_identifier_is_refused_at_the_door() -> None:
    from certkit import record

    from issuer.errors import InvalidRecord
    ident = compute_identifier(DEFAULT_TYPE_CODE, UNIT_CODE, "B2024110100032")
    with pytest.raises(InvalidRecord) as e:
        parse_record(record(certificateNumber="B2024110100032", eLicenseIdentifier=ident[:-1] + "Z"))
    assert e.value.code == "invalid_elicense_id"
    with pytest.raises(InvalidRecord):  # a valid identifier of another certificate
        parse_record(record(certificateNumber="B2024110100033", eLicenseIdentifier=ident))


def test_the_issuing_service_adds_the_identifier_when_the_issuer_has_a_unit_code() -> None:
    from certkit import record

    rec = parse_record(record(certificateNumber="B2024110100034"))
    with_code = with_identifier(rec, IssuerProfile("did:web:x", "示例局", UNIT_CODE))
    assert with_code.eLicenseIdentifier == compute_identifier(DEFAULT_TYPE_CODE, UNIT_CODE, "B2024110100034")
    assert with_identifier(rec, IssuerProfile("did:web:x", "示例局")).eLicenseIdentifier is None


def test_an_old_credential_without_the_identifier_still_prints_and_verifies(samples: dict, policy) -> None:
    cert = samples["senior_b"]
    assert "eLicenseIdentifier" not in cert.full["credentialSubject"]
    assert "证照标识" not in _page_text(cert.pdf)
    qr = compact_from_minimal(cert.pair.minimal, Bureau().issuer_key, BASE_URL, now=NOW)
    assert render_pdf(cert.full, qr)
