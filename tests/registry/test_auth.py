"""Authentication: Argon2 password hashes, bearer tokens stored hashed, lockout, expiry, no secrets in logs."""

from __future__ import annotations

import logging

import pytest
from registry.kit import PASSWORD, Clock, World
from sqlmodel import select

from titlecred.db.models import Account, ApiToken


def test_login_gives_a_bearer_token_that_is_stored_only_as_a_hash(world: World) -> None:
    r = world.client.post("/api/auth/login", json={"username": "holder", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["tokenType"] == "Bearer" and body["account"]["role"] == "holder"
    assert body["account"]["person"]["idNumber"] is None  # not even the holder's own number here
    token = body["token"]
    with world.sessions() as s:
        rows = s.exec(select(ApiToken)).all()
        assert all(token not in (t.token_hash, t.prefix) for t in rows)
        account = s.exec(select(Account).where(Account.username == "holder")).one()
        assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
    me = world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["username"] == "holder" and me["person"]["idNumber"] == world.ids["holder"]


def test_wrong_password_and_unknown_user_look_the_same(world: World) -> None:
    a = world.client.post("/api/auth/login", json={"username": "holder", "password": "not the password"})
    b = world.client.post("/api/auth/login", json={"username": "nobody-at-all", "password": "not the password"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_repeated_failures_lock_the_account_for_a_while(world: World, clock: Clock) -> None:
    for _ in range(3):
        world.client.post("/api/auth/login", json={"username": "holder", "password": "wrong wrong wrong"})
    r = world.client.post("/api/auth/login", json={"username": "holder", "password": PASSWORD})
    assert r.status_code == 401 and r.json()["code"] == "account_locked"
    clock.advance(minutes=16)
    assert world.client.post("/api/auth/login", json={"username": "holder", "password": PASSWORD}).status_code == 200


def test_sessions_expire_and_logout_ends_them(world: World, clock: Clock) -> None:
    token = world.login("holder")
    h = {"Authorization": f"Bearer {token}"}
    assert world.client.get("/api/me", headers=h).status_code == 200
    assert world.client.post("/api/auth/logout", headers=h).status_code == 204
    assert world.client.get("/api/me", headers=h).status_code == 401
    other = {"Authorization": f"Bearer {world.login('holder')}"}
    clock.advance(hours=9)
    r = world.client.get("/api/me", headers=other)
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"


def test_api_tokens_are_shown_once_listed_without_secret_and_revocable(world: World) -> None:
    h = world["bureau"].h
    r = world.client.post("/api/tokens", json={"name": "batch client", "expiresInDays": 30}, headers=h)
    assert r.status_code == 201
    token, token_id = r.json()["token"], r.json()["id"]
    listed = world.client.get("/api/tokens", headers=h).json()
    assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0]
    th = {"Authorization": f"Bearer {token}"}
    assert world.client.get("/api/me", headers=th).json()["username"] == "bureau-admin"
    assert world.client.delete(f"/api/tokens/{token_id}", headers=h).json()["revokedAt"] is not None
    assert world.client.get("/api/me", headers=th).status_code == 401
    # An admin makes a token for an API client account of its own organization, not of another.
    r = world.client.post("/api/tokens", json={"name": "for officer", "accountId": world["bureau-officer"].account_id},
                          headers=h)
    assert r.status_code == 201
    r = world.client.post("/api/tokens", json={"name": "x", "accountId": world["employer"].account_id}, headers=h)
    assert r.status_code == 403


def test_password_change_ends_other_sessions(world: World) -> None:
    first = {"Authorization": f"Bearer {world.login('holder')}"}
    second = {"Authorization": f"Bearer {world.login('holder')}"}
    r = world.client.put("/api/me/password", json={"currentPassword": PASSWORD, "newPassword": "short"},
                         headers=first)
    assert r.status_code == 422 and r.json()["code"] == "weak_password"
    r = world.client.put("/api/me/password", json={"currentPassword": "wrong", "newPassword": "a much better one!"},
                         headers=first)
    assert r.status_code == 422
    r = world.client.put("/api/me/password", json={"currentPassword": PASSWORD, "newPassword": "a much better one!"},
                         headers=first)
    assert r.status_code == 204
    assert world.client.get("/api/me", headers=first).status_code == 200
    assert world.client.get("/api/me", headers=second).status_code == 401
    assert world.client.post("/api/auth/login", json={"username": "holder", "password": "a much better one!"}) \
        .status_code == 200


def test_deactivated_accounts_cannot_log_in(world: World) -> None:
    r = world.client.patch(f"/api/accounts/{world['holder'].account_id}", json={"active": False},
                           headers=world["bureau"].h)
    assert r.status_code == 200
    assert world.client.get("/api/me", headers=world["holder"].h).status_code == 401
    assert world.client.post("/api/auth/login", json={"username": "holder", "password": PASSWORD}).status_code == 401


def test_no_secret_or_id_number_reaches_a_log_line(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = world.login("holder")
    h = {"Authorization": f"Bearer {token}"}
    world.client.get("/api/me", headers=h)
    world.client.post("/api/auth/login", json={"username": "holder", "password": "wrong password!"})
    world.client.post("/api/certificates/search", json={"idNumber": world.ids["holder2"]}, headers=world["bureau"].h)
    world.client.post(f"/api/organizations/{world.orgs['employer']}/accounts", headers=world["bureau"].h, json={
        "username": "bad-holder", "displayName": "x", "role": "holder",
        "person": {"name": "某人", "idNumber": world.ids["holder2"][:-1] + "0"}})
    text = caplog.text
    for secret in (token, PASSWORD, "wrong password!", world.ids["holder"], world.ids["holder2"],
                   world.ids["holder2"][:-1] + "0"):
        assert secret not in text
