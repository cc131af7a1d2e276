"""The printed page: a sample of certificates rendered with the real fonts, read back, decoded, checked.

Each sample is rendered once (session fixture). The checks read the PDF as others will: its text with
pdfium, its QR code from the page rendered at 150 dpi (pdfium and poppler's pdftoppm) with zxing-cpp,
its attachment, its embedded font with fontTools' own CFF parser.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from certkit import NO_GLYPH, SAMPLES, Bureau, Certificate
from fontTools.cffLib import CFFFontSet
from PIL import Image

from printing import layout
from printing.errors import GlyphMissing, NotACertificate
from printing.extract import pdf_attachment, read_pdf
from printing.pdf import render_pdf
from verifier.verify import verify_credential

ALL = list(SAMPLES)
MM = 72 / 25.4


def page_text(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        textpage = doc[0].get_textpage()
        return textpage.get_text_range()
    finally:
        doc.close()


def render_png(pdf: bytes, dpi: int = 150) -> Image.Image:
    doc = pdfium.PdfDocument(pdf)
    try:
        return doc[0].render(scale=dpi / 72).to_pil()
    finally:
        doc.close()


@pytest.mark.parametrize("name", ALL)
def test_one_a4_page_whose_text_reads_back_exactly_as_the_signed_facts(samples: dict, name: str) -> None:
    cert: Certificate = samples[name]
    doc = pdfium.PdfDocument(cert.pdf)
    assert len(doc) == 1
    width, height = doc[0].get_size()
    assert (round(width / MM), round(height / MM)) == (210, 297)
    doc.close()
    text = page_text(cert.pdf)
    assert layout.normalize_text(text) == layout.page_text(cert.full)
    subject = cert.full["credentialSubject"]
    for key in ("certificateNumber", "qualification", "series", "specialty", "level", "reviewChannel"):
        assert layout.normalize_text(subject[key]) in layout.normalize_text(text), key
    assert subject["idNumber"] not in text  # never the full ID number on the page
    assert subject["idNumber"][:3] + "*" * 11 + subject["idNumber"][-4:] in text


def test_a_rare_character_name_prints_exactly(samples: dict) -> None:
    text = page_text(samples["rare_name"].pdf)
    assert "刘䶮𠀾𪚥" in text  # Extension A, and two of Extension B (one from HanaMinB), above U+FFFF


def test_a_name_no_font_can_print_falls_back_to_pinyin_only_when_the_credential_says_so(samples: dict,
                                                                                      bureau: Bureau) -> None:
    text = page_text(samples["pinyin_fallback"].pdf)
    assert "Li Yu（拼音）" in text and NO_GLYPH not in text
    pair = bureau.issue(name="李" + NO_GLYPH, certificateNumber="B2024110100099")
    with pytest.raises(GlyphMissing) as caught:
        render_pdf(pair.full, samples["senior_b"].qr_text)
    assert caught.value.code == "glyph_missing" and "namePrintedAsPinyin" in caught.value.message


@pytest.mark.parametrize("name", ALL)
def test_the_qr_code_decodes_from_the_page_rendered_at_150_dpi(samples: dict, name: str) -> None:
    cert = samples[name]
    image = render_png(cert.pdf, 150).convert("L")
    found = [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
    assert found == [cert.qr_text]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
def test_the_qr_code_decodes_from_pdftoppm_at_150_dpi(samples: dict, tmp_path: Path) -> None:
    for name in ("long_review_body", "senior_b"):
        cert = samples[name]
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(cert.pdf)
        subprocess.run(["pdftoppm", "-r", "150", "-gray", "-png", str(pdf), str(tmp_path / name)], check=True)
        image = Image.open(next(tmp_path.glob(f"{name}*.png")))
        found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        assert [b.text for b in found] == [cert.qr_text]
        assert found[0].ec_level in ("M", "Q", "H")
        modules = (int(found[0].extra.get("Version", 0)) * 4 + 17) if found[0].extra.get("Version") else None
        assert modules is None or modules <= 97  # version 20 at most


def test_the_qr_code_is_at_least_35_mm_wide(samples: dict) -> None:
    image = render_png(samples["senior_b"].pdf, 150).convert("L")
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)[0]
    xs = [found.position.top_left.x, found.position.top_right.x]
    width_mm = (max(xs) - min(xs)) / 150 * 25.4
    assert width_mm >= 35


@pytest.mark.parametrize("name", ["senior_b", "rare_name", "reissue"])
def test_the_full_signed_credential_is_attached_and_verifies(samples: dict, name: str, policy) -> None:
    cert = samples[name]
    raw = pdf_attachment(cert.pdf)
    assert json.loads(raw) == cert.full
    assert verify_credential(json.loads(raw), policy).verified
    doc = pdfium.PdfDocument(cert.pdf)
    attachment = doc.get_attachment(0)
    assert attachment.get_name() == "credential.jsonld"
    assert attachment.get_subtype() == "application/ld+json"
    doc.close()


@pytest.mark.parametrize(("name", "colour"), [
    ("senior_a", (0.10, 0.20, 0.42)), ("senior_b", (0.10, 0.20, 0.42)), ("intermediate", (0.02, 0.43, 0.24)),
    ("assistant", (0.74, 0.10, 0.12)), ("clerk", (0.74, 0.10, 0.12)),
])
def test_the_frame_is_coloured_by_level(samples: dict, name: str, colour: tuple) -> None:
    image = render_png(samples[name].pdf, 100).convert("RGB")
    # The middle of the heavy outer line, halfway down the left edge (10 mm in).
    pixel = image.getpixel((round(10 * 100 / 25.4), image.height // 2))
    assert all(abs(p / 255 - c) < 0.08 for p, c in zip(pixel, colour, strict=True)), pixel


def test_a_reissue_is_marked_and_the_others_are_not(samples: dict) -> None:
    assert layout.REISSUE_MARK in page_text(samples["reissue"].pdf)
    assert layout.REISSUE_MARK not in page_text(samples["senior_b"].pdf)


def test_self_review_and_the_scope_of_use_are_printed(samples: dict) -> None:
    text = layout.normalize_text(page_text(samples["self_review"].pdf))
    assert "加注自主评审" in text
    assert "使用范围仅限在民营企业范围内使用" in text


def _char_boxes(pdf: bytes) -> list[tuple[str, float, float, float, float]]:
    """(character, left, top, right, bottom) in mm from the top-left corner, for every visible character."""
    doc = pdfium.PdfDocument(pdf)
    page = doc[0]
    height = page.get_height()
    textpage = page.get_textpage()
    boxes = []
    for i in range(textpage.count_chars()):
        char = textpage.get_text_range(i, 1)
        if not char.strip():
            continue
        left, bottom, right, top = textpage.get_charbox(i)
        boxes.append((char, left / MM, (height - top) / MM, right / MM, (height - bottom) / MM))
    doc.close()
    return boxes


def _assert_nothing_clipped_or_overlapping(pdf: bytes) -> None:
    boxes = _char_boxes(pdf)
    inner = layout.FRAME_INNER
    for char, left, top, right, bottom in boxes:
        assert inner < left and right < 210 - inner and inner < top and bottom < 297 - inner, (char, left, top)
    # No two characters' ink overlaps (boxes shrunk a little: neighbours on a line may touch).
    shrunk = [(c, x0 + 0.15, y0 + 0.15, x1 - 0.15, y1 - 0.15) for c, x0, y0, x1, y1 in boxes
              if x1 - x0 > 0.3 and y1 - y0 > 0.3]
    shrunk.sort(key=lambda b: b[1])
    for i, (c1, l1, t1, r1, b1) in enumerate(shrunk):
        for c2, l2, t2, r2, b2 in shrunk[i + 1:]:
            if l2 >= r1:
                break
            assert not (t1 < b2 and t2 < b1), f"{c1!r} and {c2!r} overlap"


@pytest.mark.parametrize("name", ["long_review_body", "self_review", "rare_name", "senior_b"])
def test_nothing_is_clipped_or_overlapping(samples: dict, name: str) -> None:
    _assert_nothing_clipped_or_overlapping(samples[name].pdf)


def test_the_value_column_holds_the_longest_values_by_wrapping(samples: dict) -> None:
    boxes = _char_boxes(samples["long_review_body"].pdf)
    body = [b for b in boxes if b[0] in "职称评审委员会"]
    assert max(b[3] for b in body) < layout.CONTENT_X1
    text = page_text(samples["long_review_body"].pdf)
    assert layout.normalize_text(SAMPLES["long_review_body"]["reviewBody"]) in layout.normalize_text(text)


def test_even_absurdly_long_values_fit_by_shrinking_never_by_clipping(bureau: Bureau, samples: dict) -> None:
    pair = bureau.issue(reviewBody="评审委员会" * 40, reportingUnit="示例单位" * 50, specialty="专业" * 50,
                        scopeOfUse="仅限" * 100, annotations=["自主评审", "加注" * 50],
                        certificateNumber="B2024110100098")
    pdf = render_pdf(pair.full, samples["senior_b"].qr_text)
    assert layout.normalize_text(page_text(pdf)) == layout.page_text(pair.full)
    _assert_nothing_clipped_or_overlapping(pdf)


def _font_program(pdf: bytes) -> bytes:
    match = re.search(rb"/Subtype /CIDFontType0C /Filter /FlateDecode /Length (\d+) >>\nstream\n", pdf)
    assert match
    start = match.end()
    return zlib.decompress(pdf[start:start + int(match.group(1))])


def test_the_embedded_font_is_a_valid_cid_cff_with_only_the_pages_glyphs(samples: dict) -> None:
    program = _font_program(samples["rare_name"].pdf)
    fonts = CFFFontSet()
    fonts.decompile(io.BytesIO(program), None)
    top = fonts[fonts.fontNames[0]]
    assert top.ROS == ("Adobe", "Identity", 0)
    count = len(top.CharStrings)
    assert 100 < count < 400  # the page's distinct characters, not the 65,535 of the font
    for name in top.charset[1:]:
        charstring, _ = top.CharStrings.getItemAndSelector(name)
        charstring.decompile()
        assert charstring.program  # every glyph has an outline program
    assert len(samples["rare_name"].pdf) < 200_000


def test_rendering_is_deterministic(bureau: Bureau, samples: dict) -> None:
    cert = samples["senior_b"]
    assert render_pdf(cert.full, cert.qr_text) == cert.pdf


def test_only_a_signed_full_credential_is_printed(samples: dict) -> None:
    cert = samples["senior_b"]
    with pytest.raises(NotACertificate):
        render_pdf(cert.pair.minimal, cert.qr_text)
    unsigned = {k: v for k, v in cert.full.items() if k != "proof"}
    with pytest.raises(NotACertificate):
        render_pdf(unsigned, cert.qr_text)


def test_reading_the_pdf_back_gives_attachment_text_and_qr(samples: dict) -> None:
    cert = samples["intermediate"]
    contents = read_pdf(cert.pdf)
    assert contents.qr_text == cert.qr_text
    assert json.loads(contents.attachment or b"") == cert.full
    assert "layout 1" in contents.keywords
