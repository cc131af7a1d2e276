"""The printable certificate through the API: who gets which PDF, and what it carries.

Real PDFs, rendered and read back (text, attachment, QR code at 150 dpi), verified with the
registry's own keys and status lists.
"""

from __future__ import annotations

import json
from typing import Any

from registry.kit import World, resident_id

from printing.extract import pdf_attachment, pdf_text
from schemas.identifiers import mask_id_number
from titlecred.printed import verify_bytes
from titlecred.services import verification


def _pdf(world: World, who: str, cert_id: int) -> Any:
    return world.client.get(f"/api/certificates/{cert_id}/pdf", headers=world[who].h)


def _verify(world: World, data: bytes) -> Any:
    with world.sessions() as s:
        return verify_bytes(data, verification.policy(s, world.registry))


def test_holder_downloads_pdf_with_full_credential_attached_and_a_verifying_qr(world: World) -> None:
    cert = world.issued("holder")
    r = _pdf(world, "holder", cert["id"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f'attachment; filename="{cert["certificateNumber"]}.pdf"'
    attached = json.loads(pdf_attachment(r.content))
    assert attached["credentialSubject"]["idNumber"] == world.ids["holder"]
    text = pdf_text(r.content)
    assert mask_id_number(world.ids["holder"]) in text and world.ids["holder"] not in text
    result = _verify(world, r.content)
    assert result.verified, [(c.name, c.reason) for c in result.checks if not c.ok]
    assert {c.name: c.outcome for c in result.checks}["printed"] == "passed"


def test_employer_gets_its_staff_pdf_with_only_the_minimal_credential(world: World) -> None:
    cert = world.issued("holder")
    r = _pdf(world, "employer", cert["id"])
    assert r.status_code == 200, r.text
    assert r.headers["x-titlecred-attached"] == "minimal"
    assert world.ids["holder"].encode() not in r.content
    attached = json.loads(pdf_attachment(r.content))
    assert "MinimalTitleCredential" in attached["type"]
    assert "idNumber" not in attached["credentialSubject"]
    result = _verify(world, r.content)
    assert result.verified, [(c.name, c.reason) for c in result.checks if not c.ok]


def test_other_employer_and_other_holder_cannot_download(world: World) -> None:
    cert = world.issued("holder")
    assert _pdf(world, "employer2", cert["id"]).status_code == 403
    assert _pdf(world, "holder2", cert["id"]).status_code == 403
    assert world.client.get(f"/api/certificates/{cert['id']}/pdf").status_code == 401


def test_revoked_certificate_is_printed_for_the_bureau_only(world: World) -> None:
    cert = world.issued("holder")
    r = world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "forgery", "detail": "伪造"},
                          headers=world["bureau"].h)
    assert r.status_code == 200, r.text
    refused = _pdf(world, "holder", cert["id"])
    assert refused.status_code == 409 and refused.json()["code"] == "certificate_revoked"
    bureau_copy = _pdf(world, "bureau", cert["id"])
    assert bureau_copy.status_code == 200
    result = _verify(world, bureau_copy.content)
    assert not result.verified
    assert {c.name: c.outcome for c in result.checks}["status"] == "failed"


def test_unprintable_rare_name_is_signed_as_printed_in_pinyin(world: World) -> None:
    # U+30000 (CJK Extension G) is in no installed certificate font; 𠀾 (Extension B) is.
    world.ids["rare"] = resident_id(seq=63)
    world.add_account("rare", "employer", "holder", {"name": "王\U00030000", "idNumber": world.ids["rare"],
                                                     "namePinyin": "Wang Biang"})
    world.ids["ext"] = resident_id(seq=74)
    world.add_account("ext", "employer", "holder", {"name": "李𠀾", "idNumber": world.ids["ext"],
                                                    "namePinyin": "Li Qiu"})
    rare = world.issued("rare", namePinyin="Wang Biang")
    ext = world.issued("ext", namePinyin="Li Qiu")
    rare_full = rare["fullCredential"]["credentialSubject"]
    assert rare_full["namePrintedAsPinyin"] is True
    assert "namePrintedAsPinyin" not in ext["fullCredential"]["credentialSubject"]
    r = _pdf(world, "rare", rare["id"])
    assert r.status_code == 200, r.text
    text = pdf_text(r.content)
    assert "Wang Biang" in text and "\U00030000" not in text
    assert "李𠀾" in pdf_text(_pdf(world, "ext", ext["id"]).content)
