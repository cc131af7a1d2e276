"""The certificate as OFD (GB/T 33190-2016): schema-valid parts, embedded glyf fonts, text that an
independent reader (ofdkit) extracts exactly, the signed credential attached."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import ofdkit
import pytest
from certkit import Certificate
from fontTools.ttLib import TTFont
from lxml import etree

from printing import layout
from printing.ofd.package import render_ofd, zip_parts

SCHEMA_DIR = Path(__file__).parent / "ofd_schema"
ROOT_SCHEMAS = {"OFD": "OFD.xsd", "Document": "Document.xsd", "Res": "Res.xsd", "Page": "Page.xsd",
                "Attachments": "Attachments.xsd", "Signatures": "Signatures.xsd", "Signature": "Signature.xsd"}
NAMES = ["senior_b", "senior_a", "intermediate", "assistant", "clerk", "rare_name", "long_review_body", "reissue",
         "self_review", "pinyin_fallback"]


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    return {root: etree.XMLSchema(etree.parse(str(SCHEMA_DIR / name))) for root, name in ROOT_SCHEMAS.items()}


@pytest.fixture(scope="module")
def ofds(samples: dict[str, Certificate]) -> dict[str, bytes]:
    return {name: render_ofd(samples[name].full, samples[name].qr_text) for name in NAMES}


def _xml_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n.endswith(".xml")}


@pytest.mark.parametrize("name", NAMES)
def test_every_xml_part_validates_against_the_standards_xsds(ofds: dict[str, bytes], schemas: dict, name: str) -> None:
    parts = _xml_parts(ofds[name])
    assert {"OFD.xml", "Doc_0/Document.xml", "Doc_0/PublicRes.xml", "Doc_0/Pages/Page_0/Content.xml",
            "Doc_0/Attachs/Attachments.xml"} <= set(parts)
    for path, xml in parts.items():
        doc = etree.fromstring(xml)
        schema = schemas[etree.QName(doc).localname]
        assert schema.validate(doc), f"{path}: {schema.error_log}"


@pytest.mark.parametrize("name", NAMES)
def test_ofdkit_reads_back_exactly_the_printed_text(ofds: dict[str, bytes], samples: dict, name: str) -> None:
    with ofdkit.open(ofds[name]) as doc:
        assert len(doc.pages) == 1
        runs = doc.pages[0].runs
        reading_order = doc.pages[0].text()
    expected = layout.page_text(samples[name].full)
    assert layout.normalize_text("".join(run.text for run in runs)) == expected
    # In the reader's own reading order the lines may come in another order, never other characters.
    assert sorted(layout.normalize_text(reading_order)) == sorted(expected)


def test_rare_characters_are_real_text_in_an_embedded_glyf_font(ofds: dict[str, bytes], samples: dict) -> None:
    name = samples["rare_name"].full["credentialSubject"]["name"]
    with zipfile.ZipFile(io.BytesIO(ofds["rare_name"])) as archive:
        fonts = [TTFont(io.BytesIO(archive.read(n))) for n in archive.namelist() if n.endswith(".ttf")]
        content = archive.read("Doc_0/Pages/Page_0/Content.xml").decode("utf-8")
    assert f">{name}</ofd:TextCode>" in content
    assert fonts and all("glyf" in f and "CFF " not in f for f in fonts)
    mapped = set().union(*(f.getBestCmap().keys() for f in fonts))
    assert {ord(c) for c in name} <= mapped
    glyf = fonts[0]["glyf"]
    assert sum(1 for g in glyf.glyphOrder if glyf[g].numberOfContours > 0) > 20  # real outlines, not empty boxes


def test_the_page_matches_the_pdf_layout(ofds: dict[str, bytes], samples: dict) -> None:
    """Frame, seal and QR code are there: the frame in the level's colour, the seal semi-opaque red."""
    content = _xml_parts(ofds["intermediate"])["Doc_0/Pages/Page_0/Content.xml"].decode("utf-8")
    green = " ".join(str(round(c * 255)) for c in layout.GREEN.frame)
    assert f'StrokeColor Value="{green}"' in content
    assert 'Type="Background"' in content and 'Type="Foreground"' in content and 'Alpha="235"' in content
    senior = _xml_parts(ofds["senior_b"])["Doc_0/Pages/Page_0/Content.xml"].decode("utf-8")
    navy = " ".join(str(round(c * 255)) for c in layout.NAVY_GOLD.frame)
    assert f'StrokeColor Value="{navy}"' in senior


def test_the_signed_credential_is_attached(ofds: dict[str, bytes], samples: dict) -> None:
    with zipfile.ZipFile(io.BytesIO(ofds["senior_b"])) as archive:
        attached = json.loads(archive.read("Doc_0/Attachs/credential.jsonld"))
        listing = archive.read("Doc_0/Attachs/Attachments.xml").decode("utf-8")
    assert attached == samples["senior_b"].full
    assert 'Name="credential.jsonld"' in listing


def test_the_same_certificate_gives_the_same_bytes(ofds: dict[str, bytes], samples: dict) -> None:
    assert render_ofd(samples["senior_b"].full, samples["senior_b"].qr_text) == ofds["senior_b"]


def test_an_unsigned_or_minimal_credential_is_not_rendered(samples: dict) -> None:
    from printing.errors import NotACertificate

    full = dict(samples["senior_b"].full)
    full.pop("proof")
    with pytest.raises(NotACertificate):
        render_ofd(full, samples["senior_b"].qr_text)
    with pytest.raises(NotACertificate):
        render_ofd(samples["senior_b"].pair.minimal, samples["senior_b"].qr_text)


def test_verify_reads_an_ofd_and_catches_an_edited_page(ofds: dict[str, bytes], policy) -> None:
    from titlecred.printed import verify_bytes

    result = verify_bytes(ofds["senior_b"], policy)
    assert result.verified, result.to_json()
    assert result.check("printed").outcome == "passed" and result.check("seal").outcome == "skipped"
    source = zipfile.ZipFile(io.BytesIO(ofds["senior_b"]))
    edited = io.BytesIO()
    with zipfile.ZipFile(edited, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("Content.xml"):
                data = data.replace("副高级".encode(), "正高级".encode())
            target.writestr(info, data)
    result = verify_bytes(edited.getvalue(), policy)
    assert not result.verified
    assert result.check("printed").outcome == "failed" and "级别" in result.check("printed").reason


@pytest.mark.parametrize("name", ["senior_b", "long_review_body", "rare_name"])
def test_the_qr_code_drawn_as_paths_decodes_to_the_certificates_qr_text(ofds: dict[str, bytes], samples: dict,
                                                                        name: str) -> None:
    from printing.ofd.reader import qr_text
    from printing.ofd.seal import read_parts

    assert qr_text(read_parts(ofds[name])) == samples[name].qr_text


def test_another_certificates_qr_code_on_the_page_is_caught(ofds: dict[str, bytes], samples: dict, policy) -> None:
    from printing.ofd.seal import read_parts
    from titlecred.printed import verify_bytes

    mine, other = read_parts(ofds["senior_b"]), read_parts(ofds["intermediate"])
    content = "Doc_0/Pages/Page_0/Content.xml"
    swapped = dict(mine)
    swapped[content] = mine[content].replace(_qr_object(mine[content]), _qr_object(other[content]))
    result = verify_bytes(zip_parts(swapped), policy)
    assert not result.verified and result.check("qr").code == "qr_mismatch"


def _qr_object(content: bytes) -> bytes:
    import re

    return max(re.findall(rb"<ofd:PathObject [^>]*>.*?</ofd:PathObject>", content), key=len)
