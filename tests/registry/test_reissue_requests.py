"""Holders' reissue (补发) requests: the holder asks, the bureau approves (a new number, the old certificate
superseded) or declines with a reason; one open request per certificate; every decision one transaction."""

from __future__ import annotations

import json
from typing import Any

import httpx
from registry.kit import PASSPHRASE, World, count, run_threads, snapshot
from sqlmodel import select

from keys.store import KeyStore
from titlecred.db.models import Account, AuditEntry, Certificate, ReissueRequest
from titlecred.errors import AppError
from titlecred.services import audit, reissue_requests
from titlecred.services.auth import principal_for


def ask(w: World, cert_id: int, who: str = "holder", reason: str = "lost", detail: str | None = "证书文件遗失",
        ) -> httpx.Response:
    return w.client.post(f"/api/certificates/{cert_id}/reissue-requests", json={"reason": reason, "detail": detail},
                         headers=w[who].h)


def decide(w: World, request_id: int, decision: str, reason: str | None = None, who: str = "bureau-officer",
           ) -> httpx.Response:
    return w.client.post(f"/api/reissue-requests/{request_id}/decision",
                         json={"decision": decision, "reason": reason}, headers=w[who].h)


def principal(w: World, username: str) -> Any:
    with w.sessions() as s:
        return principal_for(s, s.exec(select(Account).where(Account.username == username)).one())


def test_holder_requests_reissue_and_bureau_approval_issues_new_number(world: World) -> None:
    old = world.issued()
    r = ask(world, old["id"])
    assert r.status_code == 201, r.text
    req = r.json()
    assert (req["state"], req["reason"], req["detail"], req["certificateNumber"]) == \
        ("pending", "lost", "证书文件遗失", old["certificateNumber"])
    assert req["newCertificateId"] is None and "*" in req["idNumberMasked"]
    assert world.ids["holder"] not in r.text
    # The holder sees their own; the bureau sees it among the pending ones.
    mine = world.client.get("/api/reissue-requests", headers=world["holder"].h).json()
    assert [x["id"] for x in mine] == [req["id"]]
    pending = world.client.get("/api/reissue-requests?state=pending", headers=world["bureau-officer"].h).json()
    assert [x["id"] for x in pending] == [req["id"]]
    assert world.client.get("/api/reissue-requests?state=approved", headers=world["bureau-officer"].h).json() == []

    r = decide(world, req["id"], "approve")
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["state"] == "approved" and done["decidedAt"] and done["newCertificateId"]
    assert done["newCertificateNumber"] != old["certificateNumber"]
    assert done["newCertificateNumber"].endswith("000002")  # the next number of the year
    new = world.client.get(f"/api/certificates/{done['newCertificateId']}", headers=world["holder"].h).json()
    assert new["reissueOfId"] == old["id"] and new["certificateNumber"] == done["newCertificateNumber"]
    assert new["fullCredential"]["reissueOf"] == old["fullCredential"]["id"]
    assert "补发" in new["fullCredential"]["credentialSubject"]["annotations"]
    assert world.client.post("/credentials/verify", json={"verifiableCredential": new["fullCredential"]}).status_code \
        == 200
    gone = world.client.post("/credentials/verify", json={"verifiableCredential": old["fullCredential"]})
    assert gone.status_code == 422 and gone.json()["results"]["verdict"] == "revoked"
    shown = world.client.get(f"/api/certificates/{old['id']}", headers=world["holder"].h).json()
    assert shown["state"] == "superseded" and shown["reissuedAsId"] == new["id"]
    assert "遗失" in shown["revocation"]["detail"]
    assert world.client.get(f"/api/reissue-requests/{req['id']}", headers=world["holder"].h).json() == done

    # Decided once: a second decision changes nothing.
    before = snapshot(world.sessions)
    again = decide(world, req["id"], "approve")
    assert again.status_code == 409 and again.json()["code"] == "not_pending"
    assert snapshot(world.sessions) == before
    # A superseded certificate is not asked for again.
    r = ask(world, old["id"])
    assert r.status_code == 409 and r.json()["code"] == "not_reissuable"

    # The audit trail: requested, reissued, approved — and no ID number in it.
    with world.sessions() as s:
        entries = s.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()  # type: ignore[arg-type]
        assert audit.verify_chain(s).ok
    actions = [e.action for e in entries]
    assert actions[-3:] == ["reissue.requested", "certificate.reissued", "reissue.approved"]
    assert all(world.ids["holder"] not in e.details_json for e in entries)
    approved = json.loads(entries[-1].details_json)
    assert approved["requestId"] == req["id"] and approved["newCertificateNumber"] == done["newCertificateNumber"]


def test_one_open_request_per_certificate(world: World) -> None:
    cert = world.issued()
    first = ask(world, cert["id"]).json()
    before = snapshot(world.sessions)
    r = ask(world, cert["id"], reason="damaged")
    assert r.status_code == 409 and r.json()["code"] == "reissue_request_open"
    assert snapshot(world.sessions) == before
    # Once decided, the holder may ask again.
    assert decide(world, first["id"], "decline", "请先说明遗失经过").status_code == 200
    assert ask(world, cert["id"], reason="damaged", detail=None).status_code == 201


def test_concurrent_requests_leave_one_open_and_concurrent_approvals_one_reissue(world: World) -> None:
    cert = world.issued()
    holder = principal(world, "holder")

    def request(_: int) -> int:
        with world.sessions() as s:
            row = reissue_requests.request_reissue(s, world.registry, holder, cert["id"], "lost")
            assert row.id is not None
            return row.id

    got = run_threads(6, request)
    made = [x for x in got if isinstance(x, int)]
    assert len(made) == 1, got
    assert all(isinstance(x, AppError) and x.code == "reissue_request_open" for x in got if x not in made), got

    officer = principal(world, "bureau-officer")

    def approve(_: int) -> int | None:
        with world.sessions() as s:
            return reissue_requests.decide(s, world.registry, officer, made[0], "approve").new_certificate_id

    outcomes = run_threads(4, approve)
    new_ids = [x for x in outcomes if isinstance(x, int)]
    assert len(new_ids) == 1, outcomes
    assert all(isinstance(x, AppError) and x.code == "not_pending" for x in outcomes if x not in new_ids), outcomes
    assert count(world.sessions, Certificate) == 2
    with world.sessions() as s:
        assert audit.verify_chain(s).ok


def test_declined_request_keeps_certificate_valid(world: World) -> None:
    cert = world.issued()
    req = ask(world, cert["id"], reason="damaged", detail="手机损坏，文件丢失").json()
    before = snapshot(world.sessions)
    r = decide(world, req["id"], "decline")
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    assert snapshot(world.sessions) == before
    r = decide(world, req["id"], "decline", "完整凭证仍可从持证人页面重新下载，无需补发")
    assert r.status_code == 200, r.text
    declined = r.json()
    assert declined["state"] == "declined" and declined["newCertificateId"] is None
    assert declined["decisionReason"] == "完整凭证仍可从持证人页面重新下载，无需补发"
    # The holder reads the reason; the certificate is as it was, and still verifies.
    seen = world.client.get(f"/api/reissue-requests/{req['id']}", headers=world["holder"].h).json()
    assert seen["decisionReason"] == declined["decisionReason"]
    shown = world.client.get(f"/api/certificates/{cert['id']}", headers=world["holder"].h).json()
    assert shown["state"] == "active" and shown["reissuedAsId"] is None
    assert world.client.post("/credentials/verify",
                             json={"verifiableCredential": cert["fullCredential"]}).status_code == 200
    assert count(world.sessions, Certificate) == 1
    assert world.client.get("/api/reissue-requests?state=declined", headers=world["bureau"].h).json()[0]["id"] \
        == req["id"]


def test_only_the_holder_may_request_and_only_the_bureau_may_decide(world: World) -> None:
    cert = world.issued()
    before = snapshot(world.sessions)
    for who in ("holder2", "employer", "bureau", "bureau-officer", "supervisory"):
        r = ask(world, cert["id"], who=who)
        assert r.status_code == 403, (who, r.text)
    assert snapshot(world.sessions) == before
    req = ask(world, cert["id"]).json()
    before = snapshot(world.sessions)
    for who in ("holder", "holder2", "employer", "supervisory", "district"):
        for decision, reason in (("approve", None), ("decline", "不予补发")):
            r = decide(world, req["id"], decision, reason, who=who)
            assert r.status_code == 403, (who, decision, r.text)
    # Reading: the holder and the bureau; nobody else.
    for who in ("holder2", "employer"):
        assert world.client.get(f"/api/reissue-requests/{req['id']}", headers=world[who].h).status_code == 403
    assert world.client.get("/api/reissue-requests", headers=world["employer"].h).status_code == 403
    assert world.client.get("/api/reissue-requests", headers=world["holder2"].h).json() == []
    assert world.client.get("/api/reissue-requests/999999", headers=world["bureau"].h).status_code == 404
    assert ask(world, 999999).status_code == 404
    assert world.client.get("/api/reissue-requests?state=maybe", headers=world["bureau"].h).json()["code"] \
        == "invalid_state"
    assert snapshot(world.sessions) == before


def test_requests_are_checked_and_only_live_certificates_are_reissued(world: World) -> None:
    cert = world.issued()
    for body in ({"reason": "stolen"}, {"reason": "lost", "detail": "x" * 1001}, {"reason": "lost", "extra": 1}):
        r = world.client.post(f"/api/certificates/{cert['id']}/reissue-requests", json=body,
                              headers=world["holder"].h)
        assert r.status_code == 422, body
    holder = principal(world, "holder")
    with world.sessions() as s:
        try:
            reissue_requests.request_reissue(s, world.registry, holder, cert["id"], "stolen")
            raise AssertionError("an unknown reason was accepted")
        except AppError as e:
            assert e.code == "invalid_reason"
    # A revoked certificate is not reissued.
    r = world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "forgery"},
                          headers=world["bureau"].h)
    assert r.status_code == 200
    r = ask(world, cert["id"])
    assert r.status_code == 409 and r.json()["code"] == "not_reissuable"
    assert count(world.sessions, ReissueRequest) == 0


def test_failed_decision_leaves_database_unchanged(world: World) -> None:
    cert = world.issued()
    req = ask(world, cert["id"]).json()
    store = KeyStore(world.registry.keys._store.path, PASSPHRASE)
    before = snapshot(world.sessions)
    # No active key: the request is marked approved, a number and status indexes are taken, the old
    # certificate's revocation bit is set — then signing fails, and all of it rolls back.
    store.retire(store.active().key_id)
    r = decide(world, req["id"], "approve")
    assert r.status_code == 409 and r.json()["code"] == "unknown_key", r.text
    assert snapshot(world.sessions) == before
    assert world.client.get(f"/api/reissue-requests/{req['id']}", headers=world["holder"].h).json()["state"] \
        == "pending"
    store.rotate()
    done = decide(world, req["id"], "approve").json()
    assert done["state"] == "approved" and done["newCertificateNumber"].endswith("000002")  # no number was lost

    # A suspended certificate may be asked for, but the bureau lifts the suspension before reissuing:
    # the approval fails whole, and the request waits.
    other = world.issued()
    r = world.client.post(f"/api/certificates/{other['id']}/suspend", json={"detail": "核查中"},
                          headers=world["bureau"].h)
    assert r.status_code == 200
    req2 = ask(world, other["id"], reason="damaged").json()
    before = snapshot(world.sessions)
    r = decide(world, req2["id"], "approve")
    assert r.status_code == 409 and r.json()["code"] == "not_active"
    assert snapshot(world.sessions) == before
    world.client.post(f"/api/certificates/{other['id']}/unsuspend", json={}, headers=world["bureau"].h)
    assert decide(world, req2["id"], "approve").json()["state"] == "approved"


def test_a_request_for_a_certificate_the_bureau_already_reissued_links_that_reissue(world: World) -> None:
    cert = world.issued()
    req = ask(world, cert["id"]).json()
    direct = world.client.post(f"/api/certificates/{cert['id']}/reissue", json={"reason": "lost"},
                               headers=world["bureau"].h).json()
    done = decide(world, req["id"], "approve").json()
    assert done["state"] == "approved" and done["newCertificateId"] == direct["id"]
    assert count(world.sessions, Certificate) == 2
