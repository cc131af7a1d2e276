"""Life after issue: reissue (补发), paper conversion (换证, Ningxia rules), legacy records, query slips."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image
from registry.kit import World, resident_id, snapshot


def image(fmt: str = "PNG", size: tuple[int, int] = (320, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (178, 34, 34)).save(out, format=fmt)
    return out.getvalue()


PAPER = {"series": "农业", "qualification": "高级农艺师", "specialty": "农学", "level": "副高级",
         "oldCertificateNumber": "NX2015-0042", "appointmentDocument": "宁人社函〔2015〕210号",
         "issueDate": "2015-12-12", "issuingBody": "宁夏回族自治区人力资源和社会保障厅"}


def convert(world: World, who: str = "holder", paper: dict[str, Any] | None = None, cover1: bytes | None = None,
            cover2: bytes | None = None, type1: str = "image/png") -> Any:
    files = {"cover1": ("cover1.png", cover1 if cover1 is not None else image(), type1),
             "cover2": ("cover2.jpg", cover2 if cover2 is not None else image("JPEG"), "image/jpeg")}
    return world.client.post("/api/conversions", data={"paper": json.dumps(paper or PAPER)}, files=files,
                             headers=world[who].h)


# ------------------------------------------------------------------ reissue


def test_reissue_supersedes_the_old_certificate_and_links_to_it(world: World) -> None:
    old = world.issued()
    r = world.client.post(f"/api/certificates/{old['id']}/reissue", json={"reason": "lost", "detail": "证书文件遗失"},
                          headers=world["bureau"].h)
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["certificateNumber"] != old["certificateNumber"] and new["reissueOfId"] == old["id"]
    full = new["fullCredential"]
    assert full["reissueOf"] == old["fullCredential"]["id"]
    assert new["minimalCredential"]["reissueOf"] == old["fullCredential"]["id"]
    assert "补发" in full["credentialSubject"]["annotations"]
    assert world.client.post("/credentials/verify", json={"verifiableCredential": full}).status_code == 200
    gone = world.client.post("/credentials/verify", json={"verifiableCredential": old["fullCredential"]})
    assert gone.status_code == 422 and gone.json()["results"]["verdict"] == "revoked"
    shown = world.client.get(f"/api/certificates/{old['id']}", headers=world["holder"].h).json()
    assert shown["state"] == "superseded" and shown["reissuedAsId"] == new["id"]
    assert shown["revocation"]["reason"] == "superseded"
    assert "superseded by reissue" in shown["revocation"]["detail"]
    # Idempotent: asking again returns the same reissue and changes nothing.
    before = snapshot(world.sessions)
    again = world.client.post(f"/api/certificates/{old['id']}/reissue", json={"reason": "lost"},
                              headers=world["bureau"].h)
    assert again.json()["id"] == new["id"]
    assert snapshot(world.sessions) == before
    # The reissue is not a superseded certificate's: revoked ones are not reissued.
    world.client.post(f"/api/certificates/{new['id']}/revoke", json={"reason": "forgery"}, headers=world["bureau"].h)
    r = world.client.post(f"/api/certificates/{new['id']}/reissue", json={"reason": "lost"}, headers=world["bureau"].h)
    assert r.status_code == 409


# ------------------------------------------------------------------ conversion


def test_conversion_runs_unit_district_bureau_and_issues_a_conversion_credential(world: World) -> None:
    r = convert(world)
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["channel"] == "conversion" and [c["stage"] for c in app["chain"]] == ["employer", "district", "bureau"]
    assert app["paper"]["oldCertificateNumber"] == "NX2015-0042"
    for who in ("holder", "employer", "district", "bureau"):
        photo = world.client.get(f"/api/applications/{app['id']}/photos/cover2", headers=world[who].h)
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert world.client.get(f"/api/applications/{app['id']}/photos/cover1", headers=world["employer2"].h).status_code \
        == 403
    cert = world.approve_all(app["id"], "employer", "district", "bureau")["certificate"]
    subject = cert["fullCredential"]["credentialSubject"]
    assert subject["reviewChannel"] == "换证" and subject["reviewBody"] == PAPER["issuingBody"]
    assert "原证书编号：NX2015-0042" in subject["annotations"] and subject["dateQualified"] == "2015-12-12"
    assert cert["certificateNumber"][0] == "B"
    assert world.client.post("/credentials/verify", json={"verifiableCredential": cert["fullCredential"]}).status_code \
        == 200


@pytest.mark.parametrize("change,code", [
    ({"validOnlyInNonPublic": True}, "non_public_scope"),
    ({"scopeOfUse": "在全区非公有制经济组织范围内有效"}, "non_public_scope"),
    ({"level": "中级", "qualification": "农艺师"}, "conversion_out_of_scope"),
    ({"issueDate": "2021-03-01"}, "conversion_out_of_scope"),
    ({"issueDate": "2019-02-30"}, "invalid_date"),
    ({"shoeSize": "42"}, "unknown_field"),
])
def test_conversion_refusals_name_their_reason(world: World, change: dict[str, Any], code: str) -> None:
    before = snapshot(world.sessions)
    r = convert(world, paper={**PAPER, **change})
    assert r.status_code == 422 and r.json()["code"] == code, r.text
    if code == "non_public_scope":
        assert "非公有制经济组织" in r.json()["detail"]
    assert snapshot(world.sessions) == before


@pytest.mark.parametrize("cover1,type1,code,status", [
    (b"GIF89a" + b"\0" * 64, "image/gif", "invalid_image", 422),
    (b"this is not an image at all", "image/png", "invalid_image", 422),
    (image("PNG")[:60], "image/png", "invalid_image", 422),  # a PNG header, truncated
    (image("JPEG"), "image/png", "invalid_image", 422),  # a JPEG sent as PNG
    (b"\x89PNG\r\n\x1a\n" + bytes(1024 * 1024), "image/png", "photo_too_large", 413),
])
def test_conversion_accepts_only_real_small_jpeg_or_png(world: World, cover1: bytes, type1: str, code: str,
                                                        status: int) -> None:
    before = snapshot(world.sessions)
    r = convert(world, cover1=cover1, type1=type1)
    assert r.status_code == status and r.json()["code"] == code, r.text
    assert r.json()["field"] == "cover1"
    assert snapshot(world.sessions) == before


def test_conversion_needs_both_photos(world: World) -> None:
    r = world.client.post("/api/conversions", data={"paper": json.dumps(PAPER)},
                          files={"cover1": ("c.png", image(), "image/png")}, headers=world["holder"].h)
    assert r.status_code == 422


def test_only_the_highest_title_is_converted(world: World) -> None:
    # A 正高级 title on record (an earlier import): the 副高级 paper certificate is not converted.
    imported = world.client.post("/api/legacy/imports", json=[{
        "name": "张三", "idNumber": world.ids["holder"], "qualification": "正高级农艺师", "series": "农业",
        "specialty": "农学", "level": "正高级", "certificateNumber": "NX2018-0007", "dateQualified": "2018-12-01",
        "issuingBody": "宁夏回族自治区人力资源和社会保障厅"}], headers=world["bureau"].h)
    assert imported.status_code == 201
    r = convert(world)
    assert r.status_code == 422 and r.json()["code"] == "not_highest_title"
    assert "正高级" in r.json()["detail"]
    r = convert(world, paper={**PAPER, "level": "正高级", "qualification": "正高级农艺师"})
    assert r.status_code == 201


def test_a_higher_conversion_arriving_later_stops_the_lower_at_the_bureau(world: World) -> None:
    low = convert(world).json()
    world.approve_all(low["id"], "employer", "district")
    high = convert(world, paper={**PAPER, "level": "正高级", "qualification": "正高级农艺师",
                                 "oldCertificateNumber": "NX2019-0001"})
    assert high.status_code == 201
    before = snapshot(world.sessions)
    r = world.review(low["id"], "bureau")
    assert r.status_code == 422 and r.json()["code"] == "not_highest_title"
    assert snapshot(world.sessions) == before
    r = world.review(low["id"], "bureau", "reject", reason="就高换发：已申请换发正高级职称证书")
    assert r.json()["application"]["state"] == "rejected"
    dup = convert(world, paper={**PAPER, "level": "正高级", "qualification": "正高级农艺师"})
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate_conversion"


def test_a_returned_conversion_is_corrected_with_paper_facts(world: World) -> None:
    app = convert(world).json()
    world.review(app["id"], "employer", "return", reason="任职文件编号有误")
    r = world.client.post(f"/api/applications/{app['id']}/resubmit",
                          json={"changes": {"appointmentDocument": "宁人社函〔2015〕211号"}}, headers=world["holder"].h)
    assert r.status_code == 200, r.text
    assert "任职文件：宁人社函〔2015〕211号" in r.json()["facts"]["annotations"]
    r = world.client.post(f"/api/applications/{app['id']}/resubmit", json={}, headers=world["holder"].h)
    assert r.status_code == 409


# ------------------------------------------------------------------ legacy records and query slips


LEGACY_CSV = ("姓名,身份证号,资格名称,系列,专业,级别,证书编号,取得资格时间,发证单位,职称任职文件\n"
              "王五,{id1},工程师,工程技术,建筑工程,中级,J2009-1234,2009-12-01,示例市人事局,示人职〔2009〕12号\n"
              "赵六,{id15},助理工程师,工程技术,建筑工程,助理级,Z1998-0456,1998-06-15,示例市人事局,\n")


def test_legacy_import_is_searchable_by_name_id_number_and_number(world: World) -> None:
    id1 = resident_id(seq=81)
    id18 = resident_id(region="110105", born="19650505", seq=123)
    id15 = id18[:6] + id18[8:17]  # the same person's old 15-digit number
    body = LEGACY_CSV.format(id1=id1, id15=id15).encode("utf-8")
    r = world.client.post("/api/legacy/imports", content=body,
                          headers={**world["bureau"].h, "Content-Type": "text/csv"})
    assert r.status_code == 201 and r.json()["stored"] == 2, r.text
    h = world["bureau"].h
    by_name = world.client.post("/api/legacy/search", json={"name": "王五"}, headers=h).json()
    assert [x["certificateNumber"] for x in by_name] == ["J2009-1234"] and by_name[0]["idNumber"] is None
    assert by_name[0]["idNumberMasked"].startswith("110") and id1 not in json.dumps(by_name)
    for query in (id18, id15):
        found = world.client.post("/api/legacy/search", json={"idNumber": query}, headers=h).json()
        assert [x["name"] for x in found] == ["赵六"]
    found = world.client.post("/api/legacy/search", json={"certificateNumber": "Z1998-0456"}, headers=h).json()
    detail = world.client.get(f"/api/legacy/records/{found[0]['id']}", headers=h).json()
    assert detail["idNumber"] == id18  # the bureau, acting on the record, sees it in full
    # Re-sending the same file is refused row by row, and stores nothing.
    before = snapshot(world.sessions)
    again = world.client.post("/api/legacy/imports", content=body, headers={**h, "Content-Type": "text/csv"})
    assert again.status_code == 422 and [e["code"] for e in again.json()["errors"]] == ["already_imported"] * 2
    assert [e["line"] for e in again.json()["errors"]] == [2, 3]
    assert snapshot(world.sessions) == before


def test_query_slip_states_the_record_and_verifies(world: World) -> None:
    imported = world.client.post("/api/legacy/imports", json=[{
        "name": "张三", "idNumber": world.ids["holder"], "qualification": "工程师", "series": "工程技术",
        "specialty": "建筑工程", "level": "中级", "certificateNumber": "J2010-0099", "dateQualified": "2010-12-01",
        "issuingBody": "示例市人事局", "documentNumber": "示人职〔2010〕8号"}], headers=world["bureau"].h)
    record_id = imported.json()["recordIds"][0]
    mine = world.client.get("/api/legacy/records", headers=world["holder"].h).json()
    assert [x["id"] for x in mine] == [record_id]
    r = world.client.post("/api/query-slips", json={"legacyRecordId": record_id}, headers=world["holder"].h)
    assert r.status_code == 201, r.text
    slip = r.json()["verifiableCredential"]
    assert slip["type"] == ["VerifiableCredential", "TitleQuerySlip"]
    subject = slip["credentialSubject"]
    assert subject["certificateNumber"] == "J2010-0099" and "示人职〔2010〕8号" in subject["recordStatement"]
    assert world.ids["holder"] not in json.dumps(slip)  # masked: the slip is shown to others
    v = world.client.post("/credentials/verify", json={"verifiableCredential": slip})
    assert v.status_code == 200, v.text
    slips = world.client.get("/api/query-slips", headers=world["holder"].h).json()
    assert [s["credentialId"] for s in slips] == [slip["id"]]
    assert world.client.get("/api/query-slips", headers=world["holder2"].h).json() == []


def test_query_slip_of_an_electronic_certificate_for_the_bureau(world: World) -> None:
    cert = world.issued()
    r = world.client.post("/api/query-slips", json={"certificateId": cert["id"]}, headers=world["bureau"].h)
    assert r.status_code == 201
    assert r.json()["verifiableCredential"]["credentialSubject"]["certificateNumber"] == cert["certificateNumber"]
    r = world.client.post("/api/query-slips", json={}, headers=world["bureau"].h)
    assert r.status_code == 422
