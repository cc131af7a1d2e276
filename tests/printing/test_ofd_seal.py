"""Sealed OFD: the standard's signature structure, SM3 per part, SM2 over Signature.xml; any change caught."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import ofdkit
import pytest
from gmssl import sm2
from lxml import etree

from printing import layout
from printing.ofd import der
from printing.ofd.package import render_ofd, zip_parts
from printing.ofd.seal import (
    SIGNATURE_PATH,
    SIGNATURES_PATH,
    SIGNED_VALUE_PATH,
    SM3_OID,
    SoftwareSm2Signer,
    read_parts,
    seal_ofd,
    verify_sealed,
)

SCHEMA_DIR = Path(__file__).parent / "ofd_schema"
SIGNED_AT = datetime(2024, 11, 1, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def signer() -> SoftwareSm2Signer:
    return SoftwareSm2Signer(SoftwareSm2Signer.generate_key(), "示例市人力资源和社会保障局")


@pytest.fixture(scope="module")
def sealed(samples: dict, signer: SoftwareSm2Signer) -> bytes:
    cert = samples["senior_b"]
    return seal_ofd(render_ofd(cert.full, cert.qr_text), signer, signed_at=SIGNED_AT)


def _schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / name)))


def test_a_sealed_ofd_verifies_and_still_reads(sealed: bytes, samples: dict, signer: SoftwareSm2Signer) -> None:
    result = verify_sealed(read_parts(sealed))
    assert result.sealed and result.ok, result.reason
    assert result.signer_key == "04" + signer.public_key
    with ofdkit.open(sealed) as doc:
        text = "".join(run.text for run in doc.pages[0].runs)
    assert layout.normalize_text(text) == layout.page_text(samples["senior_b"].full)


def test_the_signature_structure_follows_the_standard(sealed: bytes) -> None:
    parts = read_parts(sealed)
    assert {SIGNATURES_PATH, SIGNATURE_PATH, SIGNED_VALUE_PATH} <= set(parts)
    assert b"<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>" in parts["OFD.xml"]
    assert _schema("OFD.xsd").validate(etree.fromstring(parts["OFD.xml"]))
    assert _schema("Signatures.xsd").validate(etree.fromstring(parts[SIGNATURES_PATH]))
    signature = etree.fromstring(parts[SIGNATURE_PATH])
    ns = {"ofd": "http://www.ofdspec.org/2016"}
    refs = signature.find("ofd:SignedInfo/ofd:References", ns)
    assert refs.get("CheckMethod") == SM3_OID
    referenced = {r.get("FileRef") for r in refs.findall("ofd:Reference", ns)}
    assert referenced == {"/" + p for p in parts if not p.startswith("Doc_0/Signs/")}
    stamp = signature.find("ofd:SignedInfo/ofd:StampAnnot", ns)
    x, y, w, h = (float(v) for v in stamp.get("Boundary").split())
    assert (x + w / 2, y + h / 2, w / 2) == (layout.SEAL_CX, layout.SEAL_CY, layout.SEAL_R)
    # The 2016 XSD lists only MD5 and SHA1 for CheckMethod; with that one value swapped the part validates.
    refs.set("CheckMethod", "SHA1")
    assert _schema("Signature.xsd").validate(signature)


def test_the_sm2_signature_verifies_in_gmssls_own_sm3_path(sealed: bytes, signer: SoftwareSm2Signer) -> None:
    """gmssl computes Z and e itself (verify_with_sm3): an independent check of our SM2 with SM3."""
    value = read_parts(sealed)[SIGNED_VALUE_PATH]
    _tag, body, _end = der.read(value)
    to_sign, key, _alg, sig = der.children(body)
    _t, rs_body, _e = der.read(sig[1][1:])
    r, s = (int.from_bytes(v, "big") for _, v, _ in der.children(rs_body))
    checker = sm2.CryptSM2(private_key="", public_key="")
    checker.public_key = key[1][2:].hex()  # set, not passed: the constructor's lstrip("04") mangles some keys
    assert checker.verify_with_sm3(f"{r:064x}{s:064x}", to_sign[2])
    assert not checker.verify_with_sm3(f"{r:064x}{s:064x}", to_sign[2] + b"x")


def test_a_seal_whose_key_begins_with_04_verifies(samples: dict) -> None:
    # The private key 11's public x begins with "04": gmssl's constructor strips that as if it were
    # the uncompressed-point prefix (and every further leading '0' and '4'), one key in 256.
    signer = SoftwareSm2Signer((11).to_bytes(32, "big"), "示例市人力资源和社会保障局")
    assert signer.public_key.startswith("04")
    cert = samples["senior_b"]
    result = verify_sealed(read_parts(seal_ofd(render_ofd(cert.full, cert.qr_text), signer, signed_at=SIGNED_AT)))
    assert result.sealed and result.ok, result.reason
    assert result.signer_key == "04" + signer.public_key


def _with(signed_value: bytes, *, key: bytes | None = None, rs: tuple[int, int] | None = None) -> bytes:
    """`signed_value` with its signer's key (hex-free x‖y bytes) or its (r, s) replaced."""
    _tag, body, _end = der.read(signed_value)
    to_sign, key_item, alg, sig = der.children(body)
    new_key = der.bit_string(b"\x04" + key) if key is not None else key_item[2]
    new_sig = der.bit_string(der.sequence(der.integer(rs[0]), der.integer(rs[1]))) if rs is not None else sig[2]
    return der.sequence(to_sign[2], new_key, alg[2], new_sig)


def test_a_constructed_signed_value_fails_its_check_without_raising() -> None:
    from printing.ofd.seal import SoftwareSm2Verifier

    xml = b"<ofd:Signature/>"
    # Private key 1: the public key is the generator G, so that s = 5, r = n - 10 gives
    # t = r + s = -s and [s]G + [t]G is the point at infinity (gmssl's arithmetic returns None there).
    signer = SoftwareSm2Signer((1).to_bytes(32, "big"), "伪造")
    value = signer.signed_value(xml, signed_at=SIGNED_AT, property_info="/" + SIGNATURE_PATH)
    assert SoftwareSm2Verifier().verify(value, xml).ok
    n = int(sm2.default_ecc_table["n"], 16)
    infinity = SoftwareSm2Verifier().verify(_with(value, rs=(n - 10, 5)), xml)
    assert not infinity.ok and "does not verify" in infinity.reason
    off_curve = SoftwareSm2Verifier().verify(_with(value, key=(1).to_bytes(32, "big") * 2), xml)
    assert not off_curve.ok and "not a point on the SM2 curve" in off_curve.reason


def test_changing_any_part_is_detected(sealed: bytes) -> None:
    parts = read_parts(sealed)
    for path in parts:
        changed = dict(parts)
        changed[path] = parts[path] + b" "
        result = verify_sealed(changed)
        assert result.sealed and not result.ok, path


def test_added_and_removed_parts_and_a_forged_signed_value_are_detected(sealed: bytes) -> None:
    parts = read_parts(sealed)
    added = {**parts, "Doc_0/Res/extra.png": b"\x89PNG"}
    assert "added" in verify_sealed(added).reason
    removed = {k: v for k, v in parts.items() if k != "Doc_0/Attachs/credential.jsonld"}
    assert "removed" in verify_sealed(removed).reason
    other = SoftwareSm2Signer(SoftwareSm2Signer.generate_key(), "伪造")
    forged = {**parts, SIGNED_VALUE_PATH: other.signed_value(parts[SIGNATURE_PATH], signed_at=SIGNED_AT,
                                                             property_info="/" + SIGNATURE_PATH)}
    result = verify_sealed(forged)
    assert result.ok and result.signer_key == "04" + other.public_key  # intact, but another key: trust decides
    garbage = {**parts, SIGNED_VALUE_PATH: b"\x30\x03\x02\x01\x04"}
    assert not verify_sealed(garbage).ok


def test_an_unsealed_ofd_says_so_and_a_second_seal_is_refused(samples: dict, signer: SoftwareSm2Signer,
                                                               sealed: bytes) -> None:
    from printing.ofd.seal import SealError

    cert = samples["senior_b"]
    assert not verify_sealed(read_parts(render_ofd(cert.full, cert.qr_text))).sealed
    with pytest.raises(SealError):
        seal_ofd(sealed, signer)


def test_hostile_packages_are_refused_with_bounds() -> None:
    from printing.ofd.seal import SealError

    with pytest.raises(SealError):
        read_parts(b"not a zip")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", b"\0" * (30 * 1024 * 1024))
    with pytest.raises(SealError, match="too"):
        read_parts(bomb.getvalue())
    many = zip_parts({f"p{i}": b"" for i in range(300)})
    with pytest.raises(SealError, match="more than"):
        read_parts(many)
