"""Holder sign-in by a one-time code (SMS or e-mail through a pluggable sender): the same answer whether
or not the account exists, codes stored as HMACs, single use, short-lived, dead after five wrong tries,
rate-limited; a session token like a password login's; contact details validated and unique, and a
holder's new phone or e-mail in force only once the code sent to it is entered."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest
from registry.kit import Clock, World, resident_id
from sqlmodel import select

from titlecred.db.models import Account, ApiToken, AuditEntry, ContactChange, OtpChallenge
from titlecred.errors import AppError
from titlecred.services.config import load_registry_config
from titlecred.services.senders import ConsoleSender, MemorySender, make_sender, mask_destination
from titlecred.settings import Settings

PHONE = "13800138000"
EMAIL = "zhang.san@example.org"


def sender(w: World) -> MemorySender:
    s = w.registry.sender
    assert isinstance(s, MemorySender)
    return s


def set_contact(w: World, who: str = "holder", phone: str | None = PHONE, email: str | None = EMAIL) -> httpx.Response:
    return w.client.put("/api/me/contact", json={"phone": phone, "email": email}, headers=w[who].h)


def confirm(w: World, field: str, code: str, who: str = "holder") -> httpx.Response:
    return w.client.post("/api/me/contact/confirm", json={"field": field, "code": code}, headers=w[who].h)


def give_contact(w: World, who: str = "holder", phone: str | None = PHONE, email: str | None = EMAIL) -> None:
    """Set the holder's contact the way a holder does: ask, then confirm each code sent to a new address."""
    r = set_contact(w, who, phone, email)
    assert r.status_code in (200, 202), r.text
    for pending in r.json()["pending"]:
        assert confirm(w, pending["field"], last_code(w, pending["destination"]), who).status_code == 200
    sender(w).clear()


def request(w: World, identifier: str, channel: str = "sms") -> httpx.Response:
    return w.client.post("/api/auth/otp/request", json={"identifier": identifier, "channel": channel})


def verify(w: World, identifier: str, code: str) -> httpx.Response:
    return w.client.post("/api/auth/otp/verify", json={"identifier": identifier, "code": code})


def last_code(w: World, destination: str) -> str:
    message = sender(w).last_to(destination)
    assert message is not None
    found = re.search(r"\b(\d{6})\b", message.message)
    assert found is not None
    return found.group(1)


def test_code_sign_in_gives_a_session_token_like_a_password_login(world: World) -> None:
    give_contact(world)
    r = request(world, "+86 138-0013-8000")
    assert r.status_code == 200
    code = last_code(world, PHONE)
    r = verify(world, PHONE, code)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tokenType"] == "Bearer" and body["account"]["username"] == "holder" and body["expiresAt"]
    me = world.client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json()["username"] == "holder"
    with world.sessions() as s:
        row = s.exec(select(ApiToken).where(ApiToken.name == "one-time code")).one()
    assert row.kind == "session" and row.expires_at is not None
    # By e-mail, and with the username as identifier, too.
    assert request(world, "holder", "email").status_code == 200
    assert verify(world, "Zhang.San@Example.org", last_code(world, EMAIL)).status_code == 200


def test_request_answers_the_same_whether_or_not_the_account_exists(world: World) -> None:
    give_contact(world, email=None)
    answers = [request(world, ident, channel) for ident, channel in (
        ("holder", "sms"),             # exists: a code is sent
        ("nobody-at-all", "sms"),      # no such account
        ("13900139000", "sms"),        # no such phone
        ("x@example.org", "email"),    # no such e-mail
        ("holder", "email"),           # exists, but has no e-mail
        ("employer", "sms"),           # a staff account: passwords only
        (world.ids["holder"], "sms"),  # an ID number is not an identifier
    )]
    assert {(r.status_code, r.content) for r in answers} == {(200, answers[0].content)}
    assert [m.destination for m in sender(world).sent] == [PHONE]


def test_wrong_code_is_refused_uniformly_and_the_code_dies_after_five_tries(world: World) -> None:
    give_contact(world)
    request(world, PHONE)
    code = last_code(world, PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [verify(world, PHONE, wrong) for _ in range(5)]
    answers += [verify(world, "nobody-at-all", wrong), verify(world, PHONE, "abc"), verify(world, PHONE, code)]
    assert {(r.status_code, r.content) for r in answers} == {(401, answers[0].content)}
    assert answers[0].json()["code"] == "invalid_code"
    # A new code works again.
    request(world, PHONE)
    assert verify(world, PHONE, last_code(world, PHONE)).status_code == 200


def test_a_new_request_replaces_the_previous_code(world: World) -> None:
    give_contact(world)
    request(world, PHONE)
    first = last_code(world, PHONE)
    request(world, PHONE)
    second = last_code(world, PHONE)
    if first != second:
        assert verify(world, PHONE, first).status_code == 401
    assert verify(world, PHONE, second).status_code == 200
    with world.sessions() as s:
        assert len(s.exec(select(OtpChallenge)).all()) == 1


def test_code_is_single_use_and_expires(world: World, clock: Clock) -> None:
    give_contact(world)
    request(world, PHONE)
    code = last_code(world, PHONE)
    assert verify(world, PHONE, code).status_code == 200
    assert verify(world, PHONE, code).status_code == 401
    request(world, PHONE)
    code = last_code(world, PHONE)
    clock.advance(minutes=11)
    assert verify(world, PHONE, code).status_code == 401


def test_requests_are_rate_limited_per_client_and_per_identifier(world: World) -> None:
    give_contact(world)
    for ident in (PHONE, "13900139000"):  # one exists, one does not: the same limit
        statuses = [request(world, ident).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429], ident
    assert len(sender(world).sent) == 5
    # The client has now asked 10 times: its own limit answers next, whatever it asks for.
    r = request(world, "someone-new")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0 and r.json()["code"] == "rate_limited"


def test_contact_details_are_validated_and_unique(world: World) -> None:
    for phone, email, code in (("12345678901", None, "invalid_phone"), ("1380013800", None, "invalid_phone"),
                               (None, "not-an-email", "invalid_email"), (None, "a@b", "invalid_email")):
        r = set_contact(world, phone=phone, email=email)
        assert r.status_code == 422 and r.json()["code"] == code
    give_contact(world)
    assert world.client.get("/api/me/contact", headers=world["holder"].h).json() == \
        {"phone": PHONE, "email": EMAIL, "pending": []}
    r = set_contact(world, "holder2", phone=PHONE, email=None)
    assert r.status_code == 409 and r.json()["code"] == "contact_taken"
    assert set_contact(world, "employer").status_code == 403
    assert confirm(world, "phone", "123456", "employer").status_code == 403
    # Removing both takes effect at once.
    r = set_contact(world, phone=None, email=None)
    assert r.status_code == 200 and r.json() == {"phone": None, "email": None, "pending": []}

    # An admin sets them when creating a holder account; a staff account has none.
    org = world.orgs["employer"]
    body: dict[str, Any] = {"username": "wangwu", "displayName": "王五", "role": "holder",
                            "person": {"name": "王五", "idNumber": resident_id(seq=63)},
                            "phone": "139 0013 9000", "email": "Wang.Wu@Example.org"}
    r = world.client.post(f"/api/organizations/{org}/accounts", json=body, headers=world["bureau"].h)
    assert r.status_code == 201, r.text
    with world.sessions() as s:
        account = s.exec(select(Account).where(Account.username == "wangwu")).one()
    assert (account.phone, account.email) == ("13900139000", "wang.wu@example.org")
    staff = {"username": "clerk", "displayName": "职员", "role": "officer", "phone": "13700137000"}
    r = world.client.post(f"/api/organizations/{org}/accounts", json=staff, headers=world["bureau"].h)
    assert r.status_code == 422 and r.json()["field"] == "phone"


NEW_PHONE = "13900139000"
NEW_EMAIL = "zs@example.com"


def test_contact_change_takes_effect_only_after_confirmation(world: World) -> None:
    give_contact(world)
    r = set_contact(world, phone="139-0013-9000", email=EMAIL)
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["phone"], body["email"]) == (PHONE, EMAIL)  # not yet
    assert [(p["field"], p["destination"]) for p in body["pending"]] == [("phone", NEW_PHONE)]
    assert body["pending"][0]["expiresAt"]
    # A code went to the new phone; the old one was told, with the new number masked; nothing else.
    assert sorted(m.destination for m in sender(world).sent) == sorted([NEW_PHONE, PHONE])
    notice = sender(world).last_to(PHONE)
    assert notice is not None and "139****9000" in notice.message and NEW_PHONE not in notice.message
    assert not re.search(r"\b\d{6}\b", notice.message)
    code = last_code(world, NEW_PHONE)
    # Until it is confirmed, sign-in codes still go to the old phone only.
    request(world, NEW_PHONE)
    assert [m.destination for m in sender(world).sent].count(NEW_PHONE) == 1  # the confirmation code only
    request(world, PHONE)
    assert verify(world, PHONE, last_code(world, PHONE)).status_code == 200

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for bad in (wrong, "abc", ""):
        r = confirm(world, "phone", bad)
        assert r.status_code == 422 and r.json()["code"] == "invalid_code", r.text
    assert confirm(world, "email", code).json()["code"] == "invalid_code"  # nothing pending for the e-mail
    r = confirm(world, "phone", code)
    assert r.status_code == 200, r.text
    assert r.json() == {"phone": NEW_PHONE, "email": EMAIL, "pending": []}
    assert confirm(world, "phone", code).status_code == 422  # single use
    # Now the new phone signs in, and the old one is nobody's.
    sender(world).clear()
    request(world, NEW_PHONE)
    assert verify(world, NEW_PHONE, last_code(world, NEW_PHONE)).status_code == 200
    request(world, PHONE)
    assert sender(world).last_to(PHONE) is None
    with world.sessions() as s:
        actions = [e.action for e in s.exec(select(AuditEntry)).all()]
    assert actions.count("account.contact_change_requested") == 2 and actions.count("account.contact_changed") == 3


def test_a_pending_contact_change_expires_and_dies_after_five_wrong_codes(world: World, clock: Clock) -> None:
    r = set_contact(world, phone=None, email=NEW_EMAIL)
    assert r.status_code == 202 and r.json()["email"] is None
    assert [m.destination for m in sender(world).sent] == [NEW_EMAIL]  # no old address to tell
    code = last_code(world, NEW_EMAIL)
    clock.advance(minutes=11)
    world.relogin()
    assert confirm(world, "email", code).json()["code"] == "invalid_code"
    assert world.client.get("/api/me/contact", headers=world["holder"].h).json()["pending"] == []

    set_contact(world, phone=None, email=NEW_EMAIL)
    code = last_code(world, NEW_EMAIL)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert confirm(world, "email", wrong).status_code == 422
    assert confirm(world, "email", code).status_code == 422  # dead
    # A new request sends a new code that works.
    set_contact(world, phone=None, email=NEW_EMAIL)
    assert confirm(world, "email", last_code(world, NEW_EMAIL)).json()["email"] == NEW_EMAIL
    with world.sessions() as s:
        row = s.exec(select(ContactChange)).one()
    assert len(row.code_hmac) == 64 and row.used_at is not None


def test_removing_a_contact_takes_effect_at_once_and_tells_the_old_address(world: World) -> None:
    give_contact(world)
    r = set_contact(world, phone=PHONE, email=None)
    assert r.status_code == 200 and r.json() == {"phone": PHONE, "email": None, "pending": []}
    notice = sender(world).last_to(EMAIL)
    assert notice is not None and notice.channel == "email" and "removed" in notice.message


def test_contact_change_requests_are_rate_limited_and_an_address_taken_meanwhile_is_refused(world: World) -> None:
    statuses = [set_contact(world, phone=f"1390013900{i}", email=None).status_code for i in range(6)]
    assert statuses == [202] * 5 + [429]
    r = set_contact(world, phone=NEW_PHONE, email=None)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0 and r.json()["code"] == "rate_limited"

    # holder2 asks for a phone, holder takes it first: holder2's code no longer makes it theirs.
    assert set_contact(world, "holder2", phone=PHONE, email=None).status_code == 202
    code2 = last_code(world, PHONE)
    with world.sessions() as s:
        account = s.exec(select(Account).where(Account.username == "holder")).one()
        account.phone = PHONE  # as an admin creating the account would have set it
        s.add(account)
        s.commit()
    r = confirm(world, "phone", code2, "holder2")
    assert r.status_code == 409 and r.json()["code"] == "contact_taken"


def test_codes_are_stored_as_hmacs_and_no_id_number_is_sent_or_logged(world: World,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    give_contact(world)
    request(world, PHONE)
    code = last_code(world, PHONE)
    with world.sessions() as s:
        challenge = s.exec(select(OtpChallenge)).one()
    assert code not in challenge.code_hmac and len(challenge.code_hmac) == 64
    assert all(world.ids["holder"] not in m.message for m in sender(world).sent)
    verify(world, PHONE, code)
    assert world.ids["holder"] not in caplog.text and code not in caplog.text


def test_console_sender_writes_the_code_to_the_otp_logger_with_the_destination_masked(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="titlecred.otp")
    ConsoleSender().send(PHONE, "sms", "your code is 123456")
    assert "123456" in caplog.text and PHONE not in caplog.text and "138****8000" in caplog.text
    assert mask_destination("zhang.san@example.org") == "z***@example.org"


def test_the_sender_is_chosen_by_setting(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(make_sender("memory"), MemorySender) and isinstance(make_sender("console"), ConsoleSender)
    settings = Settings(home=tmp_path, database_url="sqlite://", base_url="http://x", passphrase_from_env="p")
    monkeypatch.setenv("TITLECRED_CODE_SENDER", "memory")
    assert load_registry_config(settings).code_sender == "memory"
    monkeypatch.setenv("TITLECRED_CODE_SENDER", "carrier-pigeon")
    with pytest.raises(AppError) as e:
        load_registry_config(settings)
    assert e.value.code == "invalid_setting"
