"""`titlecred.printed.verify_input`: PDFs, photos, QR texts; pasted QR codes and edited pages are caught."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import cbor2
import pypdfium2 as pdfium
import pytest
from certkit import BASE_URL, NOW, Bureau, Certificate
from PIL import Image, ImageFilter

from issuer.compact import compact_from_minimal
from printing.extract import ExtractLimits
from printing.pdf import render_pdf
from proofs import compact
from titlecred.printed import verify_bytes, verify_input

IN_PROCESS = ExtractLimits()  # the isolated child process is tested once, below; the rest reads in-process


def _png(pdf: bytes, dpi: int) -> Image.Image:
    doc = pdfium.PdfDocument(pdf)
    try:
        return doc[0].render(scale=dpi / 72).to_pil()
    finally:
        doc.close()


def _replace_attachment(pdf: bytes, data: bytes | None) -> bytes:
    """The same PDF with its attachment replaced (or removed): what an editor of the file can do."""
    doc = pdfium.PdfDocument(pdf)
    doc.del_attachment(0)
    if data is not None:
        attachment = doc.new_attachment("credential.jsonld")
        attachment.set_data(data)
    buffer = io.BytesIO()
    doc.save(buffer)
    doc.close()
    return buffer.getvalue()


def test_a_certificate_pdf_verifies_with_its_attachment_qr_and_printed_facts(samples: dict, policy,
                                                                             tmp_path: Path) -> None:
    path = tmp_path / "cert.pdf"
    path.write_bytes(samples["senior_b"].pdf)
    result = verify_input(path, policy)  # the default: read in an isolated child process
    assert result.verified, result.to_json()
    names = [c.name for c in result.checks]
    assert names[:4] == ["shape", "contexts", "schema", "proof"] and names[-2:] == ["qr", "printed"]


@pytest.mark.parametrize("name", ["senior_a", "intermediate", "clerk", "rare_name", "long_review_body", "reissue",
                                  "self_review", "pinyin_fallback"])
def test_every_sample_pdf_verifies(samples: dict, policy, name: str) -> None:
    result = verify_bytes(samples[name].pdf, policy, limits=IN_PROCESS)
    assert result.verified, result.to_json()


def test_a_photo_of_the_printout_verifies_and_shows_the_signed_facts(samples: dict, policy, tmp_path: Path) -> None:
    cert: Certificate = samples["rare_name"]
    page = _png(cert.pdf, 200).convert("L")
    # A hand-held photo: turned a little, softened, smaller, JPEG-compressed, on a grey table.
    photo = page.rotate(7, expand=True, fillcolor=120).filter(ImageFilter.GaussianBlur(0.8))
    photo = photo.resize((photo.width * 3 // 4, photo.height * 3 // 4))
    rng = random.Random(3)
    photo = photo.point(lambda v: max(0, min(255, v + rng.randint(-6, 6))))
    path = tmp_path / "photo.jpg"
    photo.save(path, "JPEG", quality=70)
    result = verify_input(path, policy, limits=IN_PROCESS)
    assert result.verified, result.to_json()
    subject = result.credential["credentialSubject"]
    assert subject["name"] == "刘䶮𠀾𪚥" and subject["idNumberMasked"] == "110***********0418"
    assert any("compare" in w for w in result.warnings)


def test_a_png_scan_verifies(samples: dict, policy, tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    _png(samples["clerk"].pdf, 150).save(path)
    assert verify_input(path, policy, limits=IN_PROCESS).verified


def test_the_qr_text_verifies_as_a_string_and_as_a_file(samples: dict, policy, tmp_path: Path) -> None:
    text = samples["senior_b"].qr_text
    assert verify_input(text, policy).verified
    path = tmp_path / "qr.txt"
    path.write_text(text + "\n", encoding="utf-8")
    assert verify_input(path, policy).verified


def test_a_json_credential_verifies(samples: dict, policy, tmp_path: Path) -> None:
    path = tmp_path / "full.json"
    path.write_text(json.dumps(samples["senior_b"].full, ensure_ascii=False), encoding="utf-8")
    assert verify_input(path, policy).verified


def test_a_damaged_qr_text_is_unreadable_not_tampered(samples: dict, policy) -> None:
    # The compressed stream cut short: nothing decodes, so nothing can be called forged.
    damaged = samples["senior_b"].qr_text[:-6]
    result = verify_input(damaged, policy)
    assert not result.verified and result.verdict == "unreadable"
    failed = [c for c in result.checks if not c.ok]
    assert failed and failed[0].name == "shape" and "altered" in failed[0].reason


def test_qr_text_whose_signed_facts_were_changed_is_tampered(samples: dict, policy) -> None:
    # A well-formed TC1 text whose payload says something its signature does not: the holder's name
    # replaced by another of the same length, the original signature kept, everything re-encoded.
    text = samples["senior_b"].qr_text
    parsed = compact.decode_cose(compact.read_qr_text(text))
    original = samples["senior_b"].full["credentialSubject"]["name"].encode("utf-8")
    forged_name = ("冒" * len(original.decode("utf-8"))).encode("utf-8")
    assert original in parsed.payload
    cose = cbor2.dumps(cbor2.CBORTag(compact.COSE_SIGN1_TAG, [
        parsed.protected, {}, parsed.payload.replace(original, forged_name), parsed.signature]))
    altered = compact.make_qr_text(BASE_URL, cose)
    result = verify_input(altered, policy)
    assert not result.verified and result.verdict == "tampered"
    assert result.credential["credentialSubject"]["name"] == forged_name.decode("utf-8")
    proof = result.check("proof")
    assert proof is not None and proof.outcome == "failed" and "changed after signing" in proof.reason


def test_a_valid_qr_code_on_another_persons_pdf_is_caught(bureau: Bureau, samples: dict, policy) -> None:
    mine: Certificate = samples["senior_b"]
    theirs = bureau.certificate(name="王五", namePinyin="Wang Wu", level="正高级", qualification="正高级工程师",
                                certificateNumber="A2024110100077")
    # Page and attachment of one person, the QR code of another.
    pasted = render_pdf(mine.full, theirs.qr_text)
    result = verify_bytes(pasted, policy, limits=IN_PROCESS)
    assert not result.verified
    qr = result.check("qr")
    assert qr is not None and qr.outcome == "failed" and "another certificate" in qr.reason
    # Page of one person; QR code and attachment (both genuine) of another: the printed facts give it away.
    swapped = _replace_attachment(pasted, json.dumps(theirs.full, ensure_ascii=False).encode("utf-8"))
    result = verify_bytes(swapped, policy, limits=IN_PROCESS)
    assert not result.verified
    assert result.check("proof").ok and result.check("qr").ok  # everything signed is genuine...
    printed = result.check("printed")
    assert printed is not None and printed.outcome == "failed"  # ...but it is not this page's
    for label in ("姓名", "资格名称", "级别", "证书编号"):
        assert label in printed.reason


def test_an_edited_page_is_caught(bureau: Bureau, samples: dict, policy) -> None:
    genuine: Certificate = samples["senior_b"]
    edited = json.loads(json.dumps(genuine.full))
    edited["credentialSubject"]["level"] = "正高级"
    page = render_pdf(edited, genuine.qr_text)  # the page now prints 正高级
    forged = _replace_attachment(page, json.dumps(genuine.full, ensure_ascii=False).encode("utf-8"))
    result = verify_bytes(forged, policy, limits=IN_PROCESS)
    assert not result.verified
    printed = result.check("printed")
    assert printed is not None and printed.outcome == "failed" and "级别" in printed.reason
    assert "姓名" not in printed.reason


def test_a_pdf_without_its_credential_is_checked_against_the_qr_code(samples: dict, policy) -> None:
    stripped = _replace_attachment(samples["senior_b"].pdf, None)
    result = verify_bytes(stripped, policy, limits=IN_PROCESS)
    assert not result.verified
    assert result.check("shape").code == "no_attachment"
    assert result.check("qr").ok and result.check("printed").ok  # the page matches its QR code


def test_a_tampered_qr_code_on_the_page_fails_the_pdf(bureau: Bureau, samples: dict, policy) -> None:
    cert: Certificate = samples["senior_b"]
    other_key = Bureau()
    forged_qr = compact_from_minimal(cert.pair.minimal, other_key.issuer_key, BASE_URL, now=NOW)
    result = verify_bytes(render_pdf(cert.full, forged_qr), policy, limits=IN_PROCESS)
    assert not result.verified
    assert result.check("qr").code == "qr_invalid"


def test_oversized_and_foreign_inputs_are_refused_with_stable_codes(samples: dict, policy, tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(samples["senior_b"].pdf + b"%" + b"0" * (10 * 1024 * 1024))
    assert verify_input(big, policy, limits=IN_PROCESS).errors[0]["code"] == "input_too_large"
    huge = tmp_path / "huge.png"
    Image.new("L", (5000, 4200), 255).save(huge)  # 21 megapixels, a small file
    assert verify_input(huge, policy, limits=IN_PROCESS).errors[0]["code"] == "input_too_large"
    other = tmp_path / "notes.txt"
    other.write_text("hello", encoding="utf-8")
    assert verify_input(other, policy).errors[0]["code"] == "unsupported_input"
    blank = tmp_path / "blank.png"
    Image.new("L", (400, 300), 255).save(blank)
    assert verify_input(blank, policy, limits=IN_PROCESS).errors[0]["code"] == "no_qr_code"


def test_a_two_page_pdf_is_not_a_certificate(samples: dict, policy) -> None:
    doc = pdfium.PdfDocument(samples["senior_b"].pdf)
    doc.import_pages(pdfium.PdfDocument(samples["clerk"].pdf))
    buffer = io.BytesIO()
    doc.save(buffer)
    doc.close()
    result = verify_bytes(buffer.getvalue(), policy, limits=IN_PROCESS)
    assert result.errors[0]["code"] == "unsupported_input"


def test_reading_is_bounded_in_time(samples: dict, policy) -> None:
    result = verify_bytes(samples["senior_b"].pdf, policy, limits=ExtractLimits(isolate=True, timeout_seconds=0.01))
    assert result.errors[0]["code"] == "extract_timeout"
