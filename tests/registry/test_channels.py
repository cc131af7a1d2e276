"""The four channels and their review chains, end to end through the HTTP API."""

from __future__ import annotations

import json
from typing import Any

from registry.kit import World, count, resident_id, snapshot

from titlecred.db.models import Application, Certificate
from titlecred.services.clock import china_year


def verify(world: World, credential: dict[str, Any]) -> Any:
    return world.client.post("/credentials/verify", json={"verifiableCredential": credential})


def test_self_appointment_runs_holder_employer_supervisory_bureau_and_issues(world: World) -> None:
    app = world.application("holder")
    assert app["state"] == "pending" and app["stage"] == "employer"
    assert [c["stage"] for c in app["chain"]] == ["employer", "supervisory", "bureau"]
    assert app["facts"]["reviewBody"] == "employer"  # the appointing employer (named after its org here)
    assert app["facts"]["reportingUnit"] == "supervisory"  # 呈报单位: the supervisory department
    r = world.review(app["id"], "employer")
    assert r.json()["application"]["stage"] == "supervisory"
    r = world.review(app["id"], "supervisory")
    assert r.json()["application"]["stage"] == "bureau"
    out = world.review(app["id"], "bureau").json()
    assert out["application"]["state"] == "issued"
    cert = out["certificate"]
    year = china_year(world.registry.now())
    assert cert["certificateNumber"] == f"B140102{year}000001"  # letter, region, year, sequence
    subject = cert["fullCredential"]["credentialSubject"]
    assert subject["reviewChannel"] == "自主聘任" and subject["idNumber"] == world.ids["holder"]
    assert cert["minimalCredential"]["credentialSubject"]["idNumberMasked"].startswith("110")
    assert verify(world, cert["fullCredential"]).status_code == 200
    assert verify(world, cert["minimalCredential"]).status_code == 200

    # Every step is visible to the applicant: who, when, what.
    seen = world.client.get(f"/api/applications/{app['id']}", headers=world["holder"].h).json()
    assert [(s["stage"], s["action"]) for s in seen["steps"]] == [
        ("applicant", "submitted"), ("employer", "approved"), ("supervisory", "approved"), ("bureau", "approved"),
        ("bureau", "issued")]
    assert seen["steps"][1]["actor"] == "employer" and seen["steps"][1]["orgName"] == "employer"
    assert seen["certificateId"] == cert["id"]
    mine = world.client.get("/api/certificates", headers=world["holder"].h).json()
    assert [c["id"] for c in mine] == [cert["id"]] and mine[0]["fullCredential"] is not None


def test_exam_runs_holder_exam_body_bureau(world: World) -> None:
    app = world.application("holder", channel="exam", examBodyId=world.orgs["exam"], qualification="工程师",
                            level="中级")
    assert [c["stage"] for c in app["chain"]] == ["exam_body", "bureau"]
    assert app["facts"]["reviewBody"] == "exam"
    out = world.approve_all(app["id"], "exam", "bureau")
    cert = out["certificate"]
    assert cert["certificateNumber"][0] == "C"
    assert cert["fullCredential"]["credentialSubject"]["reviewChannel"] == "以考代评"


def test_exam_needs_a_real_exam_body(world: World) -> None:
    body = {"channel": "exam", "examBodyId": world.orgs["employer"], "qualification": "工程师", "series": "工程技术",
            "specialty": "建筑工程", "level": "中级", "dateQualified": "2025-06-30"}
    r = world.client.post("/api/applications", json=body, headers=world["holder"].h)
    assert r.status_code == 422 and r.json()["code"] == "invalid_link"


def test_entrusted_review_runs_holder_employer_supervisory_bureau(world: World) -> None:
    app = world.application("holder", channel="entrusted_review", reviewBody="国家某部工程技术高级职称评审委员会")
    assert [c["stage"] for c in app["chain"]] == ["employer", "supervisory", "bureau"]
    cert = world.approve_all(app["id"], "employer", "supervisory", "bureau")["certificate"]
    assert cert["fullCredential"]["credentialSubject"]["reviewBody"] == "国家某部工程技术高级职称评审委员会"
    assert cert["fullCredential"]["credentialSubject"]["reviewChannel"] == "委托评审"


def test_entrusted_review_needs_the_committee_named(world: World) -> None:
    body = {"channel": "entrusted_review", "qualification": "高级工程师", "series": "工程技术", "specialty": "建筑工程",
            "level": "副高级", "dateQualified": "2025-06-30"}
    r = world.client.post("/api/applications", json=body, headers=world["holder"].h)
    assert r.status_code == 422 and r.json()["code"] == "missing_field" and r.json()["field"] == "reviewBody"


def test_invalid_facts_are_refused_naming_the_field(world: World) -> None:
    body = {"channel": "self_appointment", "qualification": "高级工程师", "series": "工程技术", "specialty": "建筑工程",
            "level": "特级", "dateQualified": "2025-06-30"}
    r = world.client.post("/api/applications", json=body, headers=world["holder"].h)
    assert r.status_code == 422 and r.json()["code"] == "invalid_level"
    body["level"], body["dateQualified"] = "副高级", "2025-02-30"
    r = world.client.post("/api/applications", json=body, headers=world["holder"].h)
    assert r.status_code == 422 and r.json()["code"] == "invalid_date"
    assert count(world.sessions, Application) == 0


def test_return_for_correction_then_resubmit_restarts_the_chain(world: World) -> None:
    app = world.application("holder")
    world.approve_all(app["id"], "employer")
    r = world.review(app["id"], "supervisory", "return", reason="专业名称与任职文件不一致")
    assert r.status_code == 200 and r.json()["application"]["state"] == "returned"
    # Only the applicant resubmits.
    r = world.client.post(f"/api/applications/{app['id']}/resubmit", json={}, headers=world["employer"].h)
    assert r.status_code == 403
    r = world.client.post(f"/api/applications/{app['id']}/resubmit", json={"changes": {"specialty": "结构工程"}},
                          headers=world["holder"].h)
    assert r.status_code == 200, r.text
    again = r.json()
    assert again["state"] == "pending" and again["stage"] == "employer" and again["facts"]["specialty"] == "结构工程"
    actions = [(s["stage"], s["action"], s["reason"]) for s in again["steps"]]
    assert ("supervisory", "returned", "专业名称与任职文件不一致") in actions
    assert actions[-2:] == [("applicant", "corrected", None), ("applicant", "resubmitted", None)]
    cert = world.approve_all(app["id"], "employer", "supervisory", "bureau")["certificate"]
    assert cert["fullCredential"]["credentialSubject"]["specialty"] == "结构工程"


def test_reject_needs_a_reason_and_is_final(world: World) -> None:
    app = world.application("holder")
    r = world.review(app["id"], "employer", "reject")
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    r = world.review(app["id"], "employer", "reject", reason="任职年限不足")
    assert r.json()["application"]["state"] == "rejected"
    assert world.review(app["id"], "supervisory").status_code == 409
    r = world.client.post(f"/api/applications/{app['id']}/resubmit", json={}, headers=world["holder"].h)
    assert r.status_code == 409 and r.json()["code"] == "not_returned"


def test_a_stage_acts_only_when_it_is_its_turn(world: World) -> None:
    app = world.application("holder")
    before = snapshot(world.sessions)
    r = world.review(app["id"], "supervisory")  # the employer has not approved yet
    assert r.status_code == 403
    r = world.review(app["id"], "bureau")
    assert r.status_code == 403
    assert snapshot(world.sessions) == before


def rows(n: int, start: int = 0) -> list[dict[str, Any]]:
    out = []
    for i in range(start, start + n):
        out.append({"name": f"评审{i}", "namePinyin": "Ping Shen", "gender": "男",
                    "idNumber": resident_id(born="19790101", seq=101 + 2 * i),
                    "reportingUnit": "示例市住房和城乡建设局",
                    "qualification": "高级工程师", "series": "工程技术", "specialty": "结构工程", "level": "副高级",
                    "dateQualified": "2025-11-20"})
    return out


def test_committee_upload_json_then_batch_approval_and_batch_run(world: World) -> None:
    c = world.client
    r = c.post(f"/api/organizations/{world.orgs['committee']}/uploads", json=rows(3), headers=world["committee"].h)
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["stored"] == 3 and up["errors"] == []
    app = c.get(f"/api/applications/{up['applicationIds'][0]}", headers=world["committee"].h).json()
    assert app["channel"] == "review" and app["stage"] == "bureau" and app["line"] == 1
    assert app["facts"]["reviewBody"] == "committee"
    r = c.post(f"/api/uploads/{up['batchId']}/approve", headers=world["bureau"].h)
    assert sorted(r.json()) == sorted(up["applicationIds"])
    r = c.post("/api/issuance/run", json={"batchId": up["batchId"]}, headers=world["bureau"].h)
    issued = r.json()["issued"]
    assert len(issued) == 3 and r.json()["failed"] == []
    seqs = sorted(int(i["certificateNumber"][-6:]) for i in issued)
    assert seqs == [1, 2, 3]
    # A second run finds nothing left to issue.
    assert c.post("/api/issuance/run", json={}, headers=world["bureau"].h).json()["issued"] == []
    # The holder of an uploaded record sees the application and its steps.
    assert count(world.sessions, Certificate) == 3


def test_committee_csv_with_bad_rows_stores_nothing_and_reports_each_line(world: World) -> None:
    good = rows(3)
    bad_id = dict(good[1], idNumber=good[1]["idNumber"][:-1] + ("0" if good[1]["idNumber"][-1] != "0" else "1"))
    bad_level = dict(good[2], level="高级")
    header = ["姓名", "namePinyin", "性别", "身份证号", "呈报单位", "资格名称", "系列", "专业", "级别", "取得资格时间"]
    keys = ["name", "namePinyin", "gender", "idNumber", "reportingUnit", "qualification", "series", "specialty",
            "level", "dateQualified"]
    lines = [",".join(header)] + [",".join(str(r[k]) for k in keys) for r in (good[0], bad_id, bad_level)]
    csv_body = ("\n".join(lines) + "\n").encode("utf-8")
    before = snapshot(world.sessions)
    url = f"/api/organizations/{world.orgs['committee']}/uploads"
    hdrs = {**world["committee"].h, "Content-Type": "text/csv"}
    r = world.client.post(url, content=csv_body, headers=hdrs)
    assert r.status_code == 422 and r.json()["code"] == "invalid_rows"
    errors = r.json()["errors"]
    assert [(e["line"], e["code"]) for e in errors] == [(3, "invalid_id_number"), (4, "invalid_level")]
    assert errors[0]["field"] == "idNumber"
    assert bad_id["idNumber"] not in r.text  # the number is never echoed
    assert snapshot(world.sessions) == before
    r = world.client.post(url + "?keep_valid=true", content=csv_body, headers=hdrs)
    assert r.status_code == 201 and r.json()["stored"] == 1 and len(r.json()["errors"]) == 2


def test_upload_refuses_unknown_columns_and_duplicates(world: World) -> None:
    url = f"/api/organizations/{world.orgs['committee']}/uploads"
    r = world.client.post(url, content=b"name,shoeSize\nA,42\n", headers={**world["committee"].h,
                                                                           "Content-Type": "text/csv"})
    assert r.status_code == 400 and r.json()["code"] == "unknown_column"
    dup = rows(1) * 2
    r = world.client.post(url, json=dup, headers=world["committee"].h)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "duplicate_row"
    r = world.client.post(url, json={"rows": []}, headers=world["committee"].h)
    assert r.status_code == 400 and r.json()["code"] == "empty_upload"
    r = world.client.post(url, content=b"[{]", headers={**world["committee"].h, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"


def test_self_review_unit_upload_is_marked_self_review(world: World) -> None:
    r = world.client.post(f"/api/organizations/{world.orgs['selfreview']}/uploads", json=rows(1),
                          headers=world["selfreview"].h)
    assert r.status_code == 201, r.text
    app_id = r.json()["applicationIds"][0]
    cert = world.review(app_id, "bureau").json()["certificate"]
    subject = cert["fullCredential"]["credentialSubject"]
    assert subject["reviewChannel"] == "自主评审" and "自主评审" in subject["annotations"]


def test_bureau_may_leave_an_approval_for_the_batch_run(world: World) -> None:
    app = world.application("holder")
    world.approve_all(app["id"], "employer", "supervisory")
    r = world.review(app["id"], "bureau", issue=False)
    assert r.json()["application"]["state"] == "approved" and r.json()["certificate"] is None
    listed = world.client.get("/api/applications?state=approved", headers=world["bureau"].h).json()
    assert [a["id"] for a in listed] == [app["id"]]
    run = world.client.post("/api/issuance/run", headers=world["bureau"].h).json()
    assert [i["applicationId"] for i in run["issued"]] == [app["id"]]


def test_worklists_show_each_organization_what_awaits_it(world: World) -> None:
    a = world.application("holder")
    b = world.application("holder2")
    mine = world.client.get("/api/applications?awaitingMe=true", headers=world["employer"].h).json()
    assert [x["id"] for x in mine] == [a["id"]]
    world.review(a["id"], "employer")
    sup = world.client.get("/api/applications?awaitingMe=true", headers=world["supervisory"].h).json()
    assert [x["id"] for x in sup] == [a["id"]]
    assert b["id"] not in [x["id"] for x in sup]
    # The holder's view lists their own only, with their full ID number; the employer's is masked.
    own = world.client.get("/api/applications", headers=world["holder"].h).json()
    assert [x["id"] for x in own] == [a["id"]] and own[0]["person"]["idNumber"] == world.ids["holder"]
    emp = world.client.get(f"/api/applications/{a['id']}", headers=world["employer"].h).json()
    assert emp["person"]["idNumber"] is None and world.ids["holder"] not in json.dumps(emp)
