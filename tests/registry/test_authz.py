"""Authorization, role by role: every forbidden action gets 403 and changes nothing in the database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from registry.kit import World, resident_id, snapshot, unit_code


@pytest.fixture
def scene(world: World) -> dict[str, Any]:
    """A certificate of `holder`, a pending application of `holder2`, an approved one, a legacy record, a batch."""
    cert = world.issued("holder")
    pending = world.application("holder2")
    approved = world.application("holder")
    world.approve_all(approved["id"], "employer", "supervisory")
    assert world.review(approved["id"], "bureau", issue=False).status_code == 200
    world.add_account("employer-admin", "employer", "admin")
    legacy = world.client.post("/api/legacy/imports", json=[{
        "name": "李四", "idNumber": world.ids["holder2"], "qualification": "工程师", "series": "工程技术",
        "specialty": "建筑工程", "level": "中级", "certificateNumber": "J2009-1", "dateQualified": "2009-12-01",
        "issuingBody": "示例市人事局"}], headers=world["bureau"].h)
    assert legacy.status_code == 201, legacy.text
    row = {"name": "王五", "namePinyin": "Wang Wu", "gender": "男", "idNumber": resident_id(seq=71),
           "reportingUnit": "示例市住房和城乡建设局", "qualification": "高级工程师", "series": "工程技术",
           "specialty": "结构工程", "level": "副高级", "dateQualified": "2025-11-20"}
    up = world.client.post(f"/api/organizations/{world.orgs['committee']}/uploads", json=[row],
                           headers=world["committee"].h)
    assert up.status_code == 201
    return {"cert": cert["id"], "pending": pending["id"], "approved": approved["id"], "mine": cert["applicationId"],
            "legacy": legacy.json()["recordIds"][0], "batch": up.json()["batchId"]}


def forbidden_cases(world: World, s: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    o = world.orgs
    cert, pending, approved = s["cert"], s["pending"], s["approved"]
    cases: list[tuple[str, str, str, Any]] = [
        # An employer sees and reviews its own staff only.
        ("employer", "GET", f"/api/applications/{pending}", None),
        ("employer", "POST", f"/api/applications/{pending}/review", {"decision": "approve"}),
        ("employer2", "GET", f"/api/certificates/{cert}", None),
        ("supervisory", "GET", f"/api/certificates/{cert}", None),
        # A holder applies and resubmits, never reviews; sees their own only.
        ("holder2", "POST", f"/api/applications/{pending}/review", {"decision": "approve"}),
        ("holder", "GET", f"/api/applications/{pending}", None),
        ("holder2", "GET", f"/api/certificates/{cert}", None),
        ("holder2", "POST", "/api/query-slips", {"certificateId": cert}),
        ("holder", "POST", "/api/query-slips", {"legacyRecordId": s["legacy"]}),
        ("holder", "POST", "/api/tokens", {"name": "script"}),
        # A committee uploads only for itself; others do not upload at all.
        ("committee2", "POST", f"/api/organizations/{o['committee']}/uploads", []),
        ("employer", "POST", f"/api/organizations/{o['employer']}/uploads", []),
        ("committee2", "GET", f"/api/uploads/{s['batch']}", None),
        # Organizations and accounts: the bureau's admin, and each organization's own admin.
        ("employer", "POST", "/api/organizations", {"kind": "employer", "name": "x", "unitCode": "x"}),
        ("bureau-officer", "POST", "/api/organizations", {"kind": "employer", "name": "x", "unitCode": "x"}),
        ("employer", "POST", f"/api/organizations/{o['employer']}/accounts",
         {"username": "newbie", "displayName": "n", "role": "officer"}),
        ("employer-admin", "POST", f"/api/organizations/{o['employer2']}/accounts",
         {"username": "intruder", "displayName": "n", "role": "admin"}),
        ("employer-admin", "GET", f"/api/organizations/{o['employer2']}/accounts", None),
    ]
    # Only the bureau issues, revokes, suspends, reissues, imports, searches and reads the log.
    for who in ("employer", "employer-admin", "supervisory", "committee", "exam", "district", "holder"):
        cases += [
            (who, "POST", f"/api/certificates/{cert}/revoke", {"reason": "forgery"}),
            (who, "POST", f"/api/certificates/{cert}/suspend", {}),
            (who, "POST", f"/api/certificates/{cert}/reissue", {"reason": "lost"}),
            (who, "POST", f"/api/applications/{approved}/issue", None),
            (who, "POST", "/api/issuance/run", {}),
            (who, "POST", f"/api/uploads/{s['batch']}/approve", None),
            (who, "POST", "/api/legacy/imports", [{"name": "x"}]),
            (who, "POST", "/api/legacy/search", {"name": "李四"}),
            (who, "GET", "/api/audit", None),
            (who, "GET", "/api/revocations", None),
            (who, "POST", "/credentials/issue", {"credential": {"type": ["VerifiableCredential"],
                                                                 "credentialSubject": {"id": "did:example:1"}}}),
        ]
    return cases


def test_every_forbidden_action_is_403_and_changes_nothing(world: World, scene: dict[str, Any]) -> None:
    cases = forbidden_cases(world, scene)
    before = snapshot(world.sessions)
    failures = []
    for who, method, path, body in cases:
        kwargs: dict[str, Any] = {"headers": world[who].h}
        if body is not None:
            kwargs["json"] = body
        r = world.client.request(method, path, **kwargs)
        if r.status_code != 403 or r.headers["content-type"] != "application/problem+json":
            failures.append((who, method, path, r.status_code, r.text[:200]))
    assert failures == []
    assert snapshot(world.sessions) == before


def test_unsuspend_is_the_bureaus_too(world: World, scene: dict[str, Any]) -> None:
    cert = scene["cert"]
    assert world.client.post(f"/api/certificates/{cert}/suspend", json={}, headers=world["bureau"].h).status_code == 200
    before = snapshot(world.sessions)
    for who in ("employer", "holder", "committee"):
        r = world.client.post(f"/api/certificates/{cert}/unsuspend", json={}, headers=world[who].h)
        assert r.status_code == 403
    assert snapshot(world.sessions) == before


def test_without_a_token_every_workflow_route_is_401(world: World, scene: dict[str, Any]) -> None:
    before = snapshot(world.sessions)
    for method, path in [("GET", "/api/applications"), ("POST", "/api/applications"), ("GET", "/api/certificates"),
                         ("POST", f"/api/certificates/{scene['cert']}/revoke"), ("POST", "/credentials/issue"),
                         ("GET", "/api/me"), ("POST", "/api/issuance/run")]:
        r = world.client.request(method, path, json={})
        assert r.status_code == 401, (method, path, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        r = world.client.request(method, path, json={}, headers={"Authorization": "Bearer tc_forged"})
        assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    assert snapshot(world.sessions) == before


def test_employer_sees_its_staffs_certificates_in_the_minimal_form_only(world: World, scene: dict[str, Any]) -> None:
    r = world.client.get(f"/api/certificates/{scene['cert']}", headers=world["employer"].h)
    assert r.status_code == 200
    body = r.json()
    assert body["fullCredential"] is None and body["minimalCredential"]
    assert world.ids["holder"] not in json.dumps(body)
    listed = world.client.get("/api/certificates", headers=world["employer"].h).json()
    assert [c["id"] for c in listed] == [scene["cert"]]
    assert world.client.get("/api/certificates", headers=world["employer2"].h).json() == []


def test_holder_and_bureau_see_the_full_credential(world: World, scene: dict[str, Any]) -> None:
    for who in ("holder", "bureau", "bureau-officer"):
        body = world.client.get(f"/api/certificates/{scene['cert']}", headers=world[who].h).json()
        assert body["fullCredential"]["credentialSubject"]["idNumber"] == world.ids["holder"]


def test_bureau_searches_by_id_number_in_the_body_never_the_url(world: World, scene: dict[str, Any]) -> None:
    r = world.client.post("/api/certificates/search", json={"idNumber": world.ids["holder"]},
                          headers=world["bureau"].h)
    assert [c["id"] for c in r.json()] == [scene["cert"]]
    r = world.client.post("/api/certificates/search", json={"idNumber": world.ids["holder"]},
                          headers=world["employer"].h)
    assert [c["id"] for c in r.json()] == [scene["cert"]]  # its own staff, and no one else's
    r = world.client.post("/api/certificates/search", json={"idNumber": world.ids["holder"]},
                          headers=world["employer2"].h)
    assert r.json() == []


def test_bureau_admin_creates_organizations_linked_to_their_reviewers(world: World) -> None:
    r = world.client.post("/api/organizations", headers=world["bureau"].h, json={
        "kind": "employer", "name": "示例设计院", "unitCode": unit_code(77), "supervisorId": world.orgs["supervisory"],
        "districtId": world.orgs["district"]})
    assert r.status_code == 201, r.text
    assert r.json()["supervisorId"] == world.orgs["supervisory"]
    r = world.client.post("/api/organizations", headers=world["bureau"].h, json={
        "kind": "employer", "name": "错链", "unitCode": unit_code(78), "supervisorId": world.orgs["committee"]})
    assert r.status_code == 422 and r.json()["code"] == "invalid_link"
    r = world.client.post("/api/organizations", headers=world["bureau"].h, json={
        "kind": "bureau", "name": "第二个发证机关", "unitCode": unit_code(79)})
    assert r.status_code == 422  # one bureau per registry
    r = world.client.post("/api/organizations", headers=world["bureau"].h, json={
        "kind": "employer", "name": "重复", "unitCode": unit_code(77)})
    assert r.status_code == 409 and r.json()["code"] == "organization_exists"
    mine = world.client.get("/api/organizations", headers=world["employer"].h).json()
    assert {o["kind"] for o in mine} == {"employer", "exam_body"}  # its own, and the exam bodies to apply to


def test_organization_admins_manage_their_own_accounts(world: World, scene: dict[str, Any]) -> None:
    r = world.client.post(f"/api/organizations/{world.orgs['employer']}/accounts",
                          json={"username": "new-officer", "displayName": "新人", "role": "officer"},
                          headers=world["employer-admin"].h)
    assert r.status_code == 201
    assert len(r.json()["password"]) >= 12  # generated, shown once
    listed = world.client.get(f"/api/organizations/{world.orgs['employer']}/accounts",
                              headers=world["employer-admin"].h).json()
    assert "new-officer" in [a["username"] for a in listed]
    # The holder's number is masked in the admin's listing.
    assert world.ids["holder"] not in json.dumps(listed)
    r = world.client.patch(f"/api/accounts/{r.json()['account']['id']}", json={"active": False},
                           headers=world["employer-admin"].h)
    assert r.status_code == 200 and r.json()["active"] is False
