"""Every error is application/problem+json with a stable code; malformed input never gives a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from registry.kit import World, resident_id

PROBLEM = "https://w3id.org/titlecred/problems/"


def assert_problem(r: object, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["type"] == PROBLEM + code and body["code"] == code and body["status"] == status
    assert body["title"] and body["detail"]
    return dict(body)


def test_malformed_json_wrong_types_unknown_fields(world: World) -> None:
    h = {**world["holder"].h, "Content-Type": "application/json"}
    assert_problem(world.client.post("/api/applications", content=b"{", headers=h), 400, "malformed_json")
    body = assert_problem(world.client.post("/api/applications", json={"channel": 5}, headers=world["holder"].h),
                          422, "invalid_request")
    assert all("input" not in e for e in body["errors"])  # type: ignore[union-attr]
    secret = resident_id(seq=99)
    r = world.client.post("/api/applications", json={"channel": "exam", "idNumber": secret},
                          headers=world["holder"].h)
    assert_problem(r, 422, "invalid_request")
    assert secret not in r.text  # never echoed back
    r = world.client.post("/api/auth/login", json={"username": "x", "password": "y", "remember": True})
    assert_problem(r, 422, "invalid_request")


def test_invalid_id_numbers_are_refused_without_repeating_them(world: World) -> None:
    bad = resident_id(seq=33)[:-1] + ("0" if resident_id(seq=33)[-1] != "0" else "1")
    r = world.client.post(f"/api/organizations/{world.orgs['employer']}/accounts", headers=world["bureau"].h,
                          json={"username": "someone", "displayName": "x", "role": "holder",
                                "person": {"name": "某人", "idNumber": bad}})
    body = assert_problem(r, 422, "invalid_id_number")
    assert bad not in r.text and body["field"] == "person.idNumber"
    r = world.client.post("/api/organizations", headers=world["bureau"].h,
                          json={"kind": "employer", "name": "x", "unitCode": "91350100M000100Y4X"})
    assert_problem(r, 422, "invalid_unit_code")


def test_unknown_routes_methods_and_ids(world: World) -> None:
    assert_problem(world.client.get("/api/nothing-here"), 404, "not_found")
    assert_problem(world.client.delete("/api/applications", headers=world["holder"].h), 405, "method_not_allowed")
    assert_problem(world.client.get("/api/applications/999999", headers=world["holder"].h), 404, "not_found")
    assert_problem(world.client.get("/api/applications/abc", headers=world["holder"].h), 422, "invalid_request")
    # Numbers beyond the databases' integer range are refused, never passed on.
    huge = 2**63
    assert_problem(world.client.get(f"/api/applications/{huge}", headers=world["holder"].h), 422, "invalid_request")
    assert_problem(world.client.get("/api/applications?offset=-1", headers=world["holder"].h), 422,
                   "invalid_request")
    r = world.client.post("/api/applications", headers=world["holder"].h, json={
        "channel": "exam", "examBodyId": huge, "qualification": "工程师", "series": "工程技术", "specialty": "x",
        "level": "中级", "dateQualified": "2025-01-01"})
    assert_problem(r, 422, "invalid_request")


def test_bodies_are_bounded(world: World) -> None:
    big = json.dumps({"channel": "exam", "qualification": "x" * (1024 * 1024 + 10)}).encode()
    r = world.client.post("/api/applications", content=big, headers={**world["holder"].h,
                                                                      "Content-Type": "application/json"})
    assert_problem(r, 413, "request_too_large")
    r = world.client.post(f"/api/organizations/{world.orgs['committee']}/uploads",
                          content=b"name\n" + b"x\n" * 600_000, headers={**world["committee"].h,
                                                                          "Content-Type": "text/csv"})
    assert_problem(r, 413, "request_too_large")
    r = world.client.post(f"/api/organizations/{world.orgs['committee']}/uploads", content=b"<xml/>",
                          headers={**world["committee"].h, "Content-Type": "application/xml"})
    assert_problem(r, 415, "unsupported_media_type")
    r = world.client.post(f"/api/organizations/{world.orgs['committee']}/uploads", content=b"\xff\xfe\x00",
                          headers={**world["committee"].h, "Content-Type": "text/csv"})
    assert_problem(r, 400, "malformed_upload")


def test_nul_characters_are_refused_before_reaching_the_database(world: World) -> None:
    r = world.client.post("/api/auth/login", content=b'{"username": "a\\u0000b", "password": "x"}',
                          headers={"Content-Type": "application/json"})
    assert_problem(r, 422, "invalid_request")
    r = world.client.post("/api/tokens", json={"name": "a\u0000b"}, headers=world["bureau"].h)
    assert_problem(r, 422, "invalid_request")
    r = world.client.get("/api/applications?state=a%00b", headers=world["bureau"].h)
    assert_problem(r, 400, "malformed_request")
    r = world.client.post("/api/certificates/search", json={"name": "张\u0000三"}, headers=world["bureau"].h)
    assert_problem(r, 422, "invalid_request")


def test_a_conflicting_username_is_409(world: World) -> None:
    r = world.client.post(f"/api/organizations/{world.orgs['employer']}/accounts", headers=world["bureau"].h,
                          json={"username": "holder", "displayName": "x", "role": "officer"})
    assert_problem(r, 409, "username_taken")


@pytest.mark.parametrize("path", ["/api/applications", "/credentials/verify", "/presentations/verify",
                                  "/api/auth/login", "/api/legacy/search", "/credentials/issue"])
def test_garbage_never_gives_a_500(world: World, path: str) -> None:
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(st.binary(max_size=300), st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=20).map(lambda v: json.dumps(v).encode())))
    def check(body: bytes) -> None:
        r = world.client.post(path, content=body, headers={**world["bureau"].h, "Content-Type": "application/json"})
        assert r.status_code < 500, (path, body, r.text)
        if r.status_code >= 400:
            assert r.headers["content-type"] == "application/problem+json"

    check()
