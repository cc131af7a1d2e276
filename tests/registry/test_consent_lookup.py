"""The consent-gated lookup: answers only with the certificate number, the holder's ID number and the
holder's one-time consent code; one refusal for every wrong guess, in the same time; rate limits that
stop enumeration from one client and from many; the holder's log of every lookup."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from registry.kit import Clock, World, resident_id
from sqlmodel import select

from titlecred.db.models import AuditEntry, Certificate, ConsentCode, LookupLog, RateCounter
from titlecred.services import consent
from titlecred.services.config import Limit
from titlecred.services.errors import Forbidden

WRONG_NUMBER = "B1401022026999999"
# Timing: tries of each kind of wrong guess, and how far apart the kinds' fastest tries may be.
ROUNDS = 5
TOLERANCE = 0.025


def make_consent(w: World, cert_id: int, holder: str = "holder", **body: Any) -> dict[str, Any]:
    r = w.client.post("/api/consents", json={"certificateId": cert_id, **body}, headers=w[holder].h)
    assert r.status_code == 201, r.text
    return dict(r.json())


def ask(w: World, number: str, id_number: str, code: str, *, verifier: str | None = None,
        client: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"certificateNumber": number, "idNumber": id_number, "consentCode": code}
    if verifier is not None:
        body["verifier"] = verifier
    h = dict(headers or {})
    if client is not None:
        h["X-Forwarded-For"] = client
    return w.client.post("/api/lookup", json=body, headers=h)


def configure(w: World, **changes: Any) -> None:
    """Change the running registry's configuration (the app shares this Registry object)."""
    w.registry.config = dataclasses.replace(w.registry.config, **changes)


def issued_to_holder2(w: World) -> dict[str, Any]:
    """A certificate of holder 李四 (whose employer is employer2)."""
    app = w.application("holder2", namePinyin="Li Si")
    return dict(w.approve_all(app["id"], "employer2", "supervisory", "bureau")["certificate"])


def scene(w: World) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """A certificate of holder 张三, the holder's ID number, and a fresh consent code for it."""
    cert = w.issued("holder")
    return cert, w.ids["holder"], make_consent(w, cert["id"])


def test_lookup_with_all_three_answers_minimal_facts_and_status(world: World, clock: Clock) -> None:
    cert, id_number, code = scene(world)
    assert len(code["code"]) == 9 and code["code"][4] == "-" and code["state"] == "active"
    assert code["expiresAt"].startswith((clock.now + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
    # The number and the code as people type them: spaces, lower case, no dash.
    r = ask(world, " " + cert["certificateNumber"].lower() + " ", id_number.lower(),
            code["code"].replace("-", "").lower(), verifier="示例市建设执业资格注册中心")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["certificateNumber"] == cert["certificateNumber"] and body["status"] == "active"
    assert body["statusSince"] is None and body["checkedAt"]
    assert body["credential"] == cert["minimalCredential"]
    subject = body["credential"]["credentialSubject"]
    assert subject["name"] == "张三" and subject["idNumberMasked"].startswith("110")
    with world.sessions() as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.action == "certificate.looked_up")).all()
    assert [e.subject for e in entries] == [f"certificate:{cert['certificateNumber']}"]


def test_consent_code_is_single_use(world: World) -> None:
    cert, id_number, code = scene(world)
    assert ask(world, cert["certificateNumber"], id_number, code["code"]).status_code == 200
    again = ask(world, cert["certificateNumber"], id_number, code["code"])
    unknown = ask(world, WRONG_NUMBER, id_number, code["code"])
    assert again.status_code == 403 and again.json() == unknown.json()
    listed = world.client.get("/api/consents", headers=world["holder"].h).json()
    assert [c["state"] for c in listed] == ["used"] and listed[0]["usedAt"]


def _wrong_guesses(w: World, clock: Clock) -> dict[str, tuple[str, str, str, str | None]]:
    """Every kind of wrong input: (number, ID number, code, verifier) for each."""
    cert, id_number, good = scene(w)
    number = cert["certificateNumber"]
    used = make_consent(w, cert["id"])
    assert ask(w, number, id_number, used["code"]).status_code == 200
    expired = make_consent(w, cert["id"], validMinutes=5)
    clock.advance(minutes=6)
    bound = make_consent(w, cert["id"], verifier="示例市建设执业资格注册中心")
    revoked = make_consent(w, cert["id"])
    w.client.delete(f"/api/consents/{revoked['id']}", headers=w["holder"].h)
    other = issued_to_holder2(w)
    for_other = make_consent(w, other["id"], holder="holder2")
    code = good["code"]
    return {
        "unknown number": (WRONG_NUMBER, id_number, code, None),
        "empty number": ("", id_number, code, None),
        "wrong ID number": (number, resident_id(seq=99), code, None),
        "another holder's ID number": (number, w.ids["holder2"], code, None),
        "malformed ID number": (number, "11010519850312004", code, None),
        "ID number of letters": (number, "not an id number at all", code, None),
        "wrong code": (number, id_number, "ABCD-EFGH", None),
        "malformed code": (number, id_number, "%%%", None),
        "used code": (number, id_number, used["code"], None),
        "expired code": (number, id_number, expired["code"], None),
        "revoked code": (number, id_number, revoked["code"], None),
        "code of another certificate": (number, id_number, for_other["code"], None),
        "bound code, other verifier": (number, id_number, bound["code"], "某某公司"),
        "bound code, no verifier": (number, id_number, bound["code"], None),
    }


def unlimited(w: World) -> None:
    """Limits out of the way (tests of what refusals look like), clients told apart by X-Forwarded-For."""
    configure(w, trust_forwarded_for=True, lookup_per_client=Limit(10_000, timedelta(hours=1)),
              lookup_per_certificate=Limit(10_000, timedelta(days=1)))


def test_wrong_guesses_get_identical_answers_whatever_was_wrong(world: World, clock: Clock) -> None:
    guesses = _wrong_guesses(world, clock)
    unlimited(world)
    answers = {kind: ask(world, *g[:3], verifier=g[3], client=f"198.51.100.{i}")
               for i, (kind, g) in enumerate(guesses.items())}
    bodies = {kind: (r.status_code, r.headers["content-type"], r.content) for kind, r in answers.items()}
    assert len(set(bodies.values())) == 1, bodies
    status, media_type, content = next(iter(bodies.values()))
    assert status == 403 and media_type == "application/problem+json"
    assert json.loads(content)["code"] == "lookup_refused"


def test_refusals_take_the_same_time_whatever_was_wrong(world: World, clock: Clock) -> None:
    every = _wrong_guesses(world, clock)
    kinds = ("unknown number", "malformed ID number", "wrong ID number", "wrong code", "used code", "expired code",
             "bound code, other verifier")
    unlimited(world)
    floor = world.registry.config.lookup_floor.total_seconds()
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for round_ in range(ROUNDS):
        for i, kind in enumerate(kinds):
            number, id_number, code, verifier = every[kind]
            started = time.perf_counter()
            r = ask(world, number, id_number, code, verifier=verifier, client=f"192.0.2.{i * ROUNDS + round_}")
            times[kind].append(time.perf_counter() - started)
            assert r.status_code == 403
    # Every refusal took at least the floor, and the same time within a small tolerance, whether the
    # certificate exists (a log row is written) or not, whether the ID number could be read or not.
    # Each kind's fastest try is its own cost: a busy machine only ever adds to a measurement.
    assert min(min(t) for t in times.values()) >= floor
    fastest = {kind: min(t) for kind, t in times.items()}
    assert max(fastest.values()) - min(fastest.values()) < TOLERANCE, times


def test_the_service_pads_success_and_refusal_to_the_floor_for_pages(world: World) -> None:
    cert, id_number, code = scene(world)
    floor = world.registry.config.lookup_floor.total_seconds()
    with world.sessions() as s:
        started = time.perf_counter()
        answer = consent.lookup(s, world.registry, certificate_number=cert["certificateNumber"], id_number=id_number,
                                consent_code=code["code"], verifier=None, client="203.0.113.1")
        ok_time = time.perf_counter() - started
        started = time.perf_counter()
        with pytest.raises(consent.LookupRefused):
            consent.lookup(s, world.registry, certificate_number=WRONG_NUMBER, id_number="x", consent_code="y",
                           verifier=None, client="203.0.113.1")
        refused_time = time.perf_counter() - started
    assert answer.status == "active" and ok_time >= floor and refused_time >= floor


def test_enumeration_is_rate_limited_per_client_and_per_certificate(world: World, clock: Clock) -> None:
    cert = world.issued("holder")
    number, id_number = cert["certificateNumber"], world.ids["holder"]
    code = make_consent(world, cert["id"], validMinutes=3 * 24 * 60)
    configure(world, trust_forwarded_for=True)
    prefix, seq = number[:-6], int(number[-6:])
    # One client walks through certificate numbers (the real one among them) with guessed codes.
    walk = [ask(world, f"{prefix}{n:06d}", id_number, f"AAAA-{n % 10000:04d}", client="203.0.113.9")
            for n in [seq, *range(seq + 100, seq + 111)]]
    assert [r.status_code for r in walk] == [403] * 10 + [429] * 2
    assert len({r.content for r in walk[:10]}) == 1
    limited = walk[10]
    assert limited.json()["code"] == "rate_limited" and int(limited.headers["Retry-After"]) > 0
    assert limited.json()["retryAfter"] == int(limited.headers["Retry-After"])
    # Limited before any work: even the right number, ID and code get no answer from this client now.
    assert ask(world, number, id_number, code["code"], client="203.0.113.9").status_code == 429

    # Many clients against one certificate: stopped by the per-certificate limit (5 a day); the same
    # happens to a number that does not exist, so the limit does not reveal existence either.
    other = issued_to_holder2(world)
    for target in (other["certificateNumber"], WRONG_NUMBER):
        tries = [ask(world, target, world.ids["holder2"], f"BBBB-{i:04d}", client=f"198.51.100.{i}")
                 for i in range(1, 8)]
        assert [r.status_code for r in tries] == [403] * 5 + [429] * 2, target
        assert len({r.content for r in tries[:5]}) == 1
        assert {r.json()["code"] for r in tries[5:]} == {"rate_limited"}
    real = ask(world, other["certificateNumber"], world.ids["holder2"], "CCCC-0001", client="198.51.100.50")
    fake = ask(world, WRONG_NUMBER, world.ids["holder2"], "CCCC-0001", client="198.51.100.51")
    assert real.status_code == fake.status_code == 429
    assert {k: v for k, v in real.json().items() if k not in ("detail", "retryAfter")} == \
        {k: v for k, v in fake.json().items() if k not in ("detail", "retryAfter")}

    # The holder's own code still works once the windows have passed (the attacks never touched it).
    clock.advance(days=2)
    assert ask(world, number, id_number, code["code"], client="203.0.113.9").status_code == 200
    with world.sessions() as s:
        keys = list(s.exec(select(RateCounter.key)).all())
    assert keys and not any("203.0.113" in k or "198.51.100" in k or number in k for k in keys)


def test_successful_lookups_do_not_count_against_the_limits(world: World) -> None:
    cert = world.issued("holder")
    for _ in range(7):  # more than the per-certificate limit
        code = make_consent(world, cert["id"])
        assert ask(world, cert["certificateNumber"], world.ids["holder"], code["code"]).status_code == 200


def test_bound_code_refuses_other_verifier(world: World) -> None:
    cert, id_number, _ = scene(world)
    number = cert["certificateNumber"]
    bound = make_consent(world, cert["id"], verifier="示例市建设执业资格注册中心")
    assert bound["verifier"] == "示例市建设执业资格注册中心"
    assert ask(world, number, id_number, bound["code"], verifier="别的单位").status_code == 403
    assert ask(world, number, id_number, bound["code"]).status_code == 403
    # Named the same, give or take spaces: answered.
    assert ask(world, number, id_number, bound["code"], verifier=" 示例市建设执业资格注册中心 ").status_code == 200

    # An API client of an organization is named by its organization, whatever its body says.
    employer2 = world.client.get(f"/api/organizations/{world.orgs['employer2']}",
                                 headers=world["employer2"].h).json()["name"]
    for_org = make_consent(world, cert["id"], verifier=employer2)
    assert ask(world, number, id_number, for_org["code"], verifier="someone else",
               headers=world["employer"].h).status_code == 403
    r = ask(world, number, id_number, for_org["code"], verifier="someone else", headers=world["employer2"].h)
    assert r.status_code == 200
    log = world.client.get("/api/lookups", headers=world["holder"].h).json()
    assert log[0]["verifier"] == employer2 and log[0]["outcome"] == "answered"


def test_holder_sees_every_lookup_of_their_certificates(world: World) -> None:
    cert, id_number, code = scene(world)
    number = cert["certificateNumber"]
    ask(world, number, resident_id(seq=77), code["code"], verifier="某猎头公司")
    ask(world, WRONG_NUMBER, id_number, code["code"], verifier="不存在的证书")
    ask(world, number, id_number, code["code"], verifier="示例市建设执业资格注册中心")
    log = world.client.get("/api/lookups", headers=world["holder"].h).json()
    assert [(e["outcome"], e["verifier"], e["certificateNumber"]) for e in log] == [
        ("answered", "示例市建设执业资格注册中心", number), ("refused", "某猎头公司", number)]
    assert world.client.get("/api/lookups", headers=world["holder2"].h).json() == []
    assert world.client.get("/api/lookups", headers=world["employer"].h).status_code == 403
    # The log keeps no client address and no ID number.
    assert {c.name for c in LookupLog.__table__.columns} == {  # type: ignore[attr-defined]
        "id", "certificate_id", "at", "outcome", "verifier", "org_id", "consent_code_id"}
    with world.sessions() as s:
        rows = s.exec(select(LookupLog)).all()
    assert id_number not in repr(rows) and "testclient" not in repr(rows)


def test_lookup_answer_never_contains_full_id_number(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cert, id_number, code = scene(world)
    number = cert["certificateNumber"]
    responses = [ask(world, number, id_number, "ZZZZ-ZZZZ"), ask(world, number, id_number + "0", code["code"]),
                 ask(world, number, id_number, code["code"])]
    assert responses[-1].status_code == 200
    for r in responses:
        assert id_number not in r.text and code["code"] not in r.text
    assert id_number not in caplog.text and code["code"] not in caplog.text
    with world.sessions() as s:
        audit_text = repr(s.exec(select(AuditEntry)).all())
        stored = s.exec(select(ConsentCode)).one()
    assert id_number not in audit_text and code["code"] not in audit_text
    assert code["code"] not in stored.code_hmac and code["code"].replace("-", "") not in stored.code_hmac
    assert "code" not in world.client.get("/api/consents", headers=world["holder"].h).json()[0]


def test_revoked_certificate_lookup_reports_revoked(world: World) -> None:
    cert, id_number, code = scene(world)
    number = cert["certificateNumber"]
    r = world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "renting_out"},
                          headers=world["bureau"].h)
    assert r.status_code == 200, r.text
    body = ask(world, number, id_number, code["code"]).json()
    assert body["status"] == "revoked" and body["statusSince"]
    # No new consent for a certificate that is no longer current.
    r = world.client.post("/api/consents", json={"certificateId": cert["id"]}, headers=world["holder"].h)
    assert r.status_code == 409 and r.json()["code"] == "certificate_not_current"


def test_suspended_and_superseded_certificates_report_their_status(world: World) -> None:
    cert, id_number, code = scene(world)
    number, h = cert["certificateNumber"], world["bureau"].h
    assert world.client.post(f"/api/certificates/{cert['id']}/suspend", json={}, headers=h).status_code == 200
    assert ask(world, number, id_number, code["code"]).json()["status"] == "suspended"
    # A suspended certificate may still be looked up (to learn that it is suspended).
    again = make_consent(world, cert["id"])
    assert world.client.post(f"/api/certificates/{cert['id']}/unsuspend", json={}, headers=h).status_code == 200
    r = world.client.post(f"/api/certificates/{cert['id']}/reissue", json={"reason": "lost"}, headers=h)
    assert r.status_code == 201, r.text
    body = ask(world, number, id_number, again["code"]).json()
    assert body["status"] == "superseded" and body["statusSince"]


def test_expired_credential_reports_expired(world: World, clock: Clock) -> None:
    cert, id_number, code = scene(world)
    with world.sessions() as s:
        row = s.get(Certificate, cert["id"])
        assert row is not None
        minimal = json.loads(row.minimal_json)
        minimal["validUntil"] = clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        row.minimal_json = json.dumps(minimal)
        s.add(row)
        s.commit()
    clock.advance(minutes=1)
    body = ask(world, cert["certificateNumber"], id_number, code["code"]).json()
    assert body["status"] == "expired"


def test_consent_codes_are_the_holders_own_bounded_and_revocable(world: World, clock: Clock) -> None:
    cert = world.issued("holder")
    for who in ("holder2", "bureau", "employer"):
        r = world.client.post("/api/consents", json={"certificateId": cert["id"]}, headers=world[who].h)
        assert r.status_code == 403, who
    for minutes in (4, 7 * 24 * 60 + 1):
        r = world.client.post("/api/consents", json={"certificateId": cert["id"], "validMinutes": minutes},
                              headers=world["holder"].h)
        assert r.status_code == 422 and r.json()["code"] == "invalid_validity"
    r = world.client.post("/api/consents", json={"certificateId": cert["id"], "verifier": "a\x00b"},
                          headers=world["holder"].h)
    assert r.status_code == 422
    week = make_consent(world, cert["id"], validMinutes=7 * 24 * 60)
    code = make_consent(world, cert["id"])
    assert world.client.delete(f"/api/consents/{code['id']}", headers=world["holder2"].h).status_code == 404
    r = world.client.delete(f"/api/consents/{code['id']}", headers=world["holder"].h)
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    assert ask(world, cert["certificateNumber"], world.ids["holder"], code["code"]).status_code == 403
    clock.advance(days=8)
    world.relogin()
    states = {c["id"]: c["state"] for c in world.client.get("/api/consents", headers=world["holder"].h).json()}
    assert states == {week["id"]: "expired", code["id"]: "revoked"}
    assert world.client.get("/api/consents", headers=world["holder2"].h).json() == []


def test_service_refuses_non_holders(world: World) -> None:
    cert = world.issued("holder")
    with world.sessions() as s, pytest.raises(Forbidden):
        consent.create_code(s, world.registry, world.boss(), cert["id"])


def test_codes_are_read_back_in_any_case_with_or_without_the_dash() -> None:
    code = consent.new_code()
    assert len(code) == 9 and code[4] == "-" and all(ch in consent.ALPHABET for ch in code.replace("-", ""))
    raw = code.replace("-", "")
    assert consent.normalize_code(code.lower()) == raw and consent.normalize_code(f" {raw} ") == raw
    assert consent.normalize_code("0OIL-1234") == "00111234"  # look-alikes read as Crockford says
    assert consent.normalize_code("ABCD-EFGU") is None and consent.normalize_code("ABC") is None
    assert consent.normalize_code(None) is None and consent.normalize_code("A" * 40) is None


def test_a_code_answers_once_even_to_concurrent_lookups(world: World) -> None:
    cert, id_number, code = scene(world)
    unlimited(world)  # six at once would pass the per-certificate limit (5) before the answer gives back
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def attempt(i: int) -> None:
        start.wait()
        with world.sessions() as s:
            try:
                consent.lookup(s, world.registry, certificate_number=cert["certificateNumber"], id_number=id_number,
                               consent_code=code["code"], verifier=None, client=f"203.0.113.{i}", padded=False)
                result = "answered"
            except consent.LookupRefused:
                result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["answered"] + ["refused"] * 5
    with world.sessions() as s:
        assert [e.outcome for e in s.exec(select(LookupLog)).all()].count("answered") == 1


def test_strangers_failures_cannot_lock_the_holder_out(world: World) -> None:
    """The lockout attack: anyone who knows a number (it is printed) spends its budget; the holder's
    next consent code still answers, from any verifier."""
    cert = world.issued("holder")
    number, id_number = cert["certificateNumber"], world.ids["holder"]
    configure(world, trust_forwarded_for=True)
    first = make_consent(world, cert["id"])
    attack = [ask(world, number, id_number, f"DDDD-{i:04d}", client=f"192.0.2.{i}") for i in range(1, 8)]
    assert [r.status_code for r in attack] == [403] * 5 + [429] * 2
    # The code the attack ran against is spent for today, as any code guessed at five times is...
    assert ask(world, number, id_number, first["code"], client="192.0.2.100").status_code == 429
    # ...but a fresh code from the holder has its own budget: the real lookup answers.
    fresh = make_consent(world, cert["id"])
    r = ask(world, number, id_number, fresh["code"], client="192.0.2.101")
    assert r.status_code == 200, r.text
    # And the attack resumed against the holder's next code is bounded again at five guesses.
    again = make_consent(world, cert["id"])
    tries = [ask(world, number, id_number, f"EEEE-{i:04d}", client=f"192.0.2.{i + 20}") for i in range(1, 8)]
    assert [t.status_code for t in tries] == [403] * 5 + [429] * 2
    assert ask(world, number, id_number, again["code"], client="192.0.2.102").status_code == 429


def test_enumeration_stays_bounded_per_live_code(world: World) -> None:
    """Guessing a live code (40 bits) gets five tries per code per window, from any number of clients;
    with no live code the number shares one budget with every number that does not exist."""
    cert = world.issued("holder")
    number, id_number = cert["certificateNumber"], world.ids["holder"]
    configure(world, trust_forwarded_for=True)
    make_consent(world, cert["id"])
    guesses = [ask(world, number, id_number, f"FFFF-{i:04d}", client=f"198.18.0.{i}") for i in range(1, 10)]
    assert [g.status_code for g in guesses] == [403] * 5 + [429] * 4
    assert len({g.content for g in guesses[:5]}) == 1
