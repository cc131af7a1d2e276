"""Issuance: numbering without gaps under real concurrency, one transaction, idempotence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from registry.kit import DID, PASSPHRASE, World, resident_id, run_threads, snapshot
from sqlmodel import select

from keys.store import KeyStore
from titlecred.db.models import Account, Certificate, StatusEntry
from titlecred.services import applications, audit, issuance
from titlecred.services.auth import principal_for


def upload(world: World, n: int, start: int = 0) -> list[int]:
    rows = [{"name": f"并发{i}", "namePinyin": "Bing Fa", "gender": "女",
             "idNumber": resident_id(born="19800202", seq=200 + 2 * i), "reportingUnit": "示例市住房和城乡建设局",
             "qualification": "工程师", "series": "工程技术", "specialty": "结构工程", "level": "中级",
             "dateQualified": "2025-11-20"} for i in range(start, start + n)]
    r = world.client.post(f"/api/organizations/{world.orgs['committee']}/uploads", json=rows,
                          headers=world["committee"].h)
    assert r.status_code == 201, r.text
    return list(r.json()["applicationIds"])


def bureau_principal(world: World) -> Any:
    with world.sessions() as s:
        account = s.exec(select(Account).where(Account.username == "bureau-officer")).one()
        return principal_for(s, account)


def test_concurrent_final_approvals_get_unique_gapless_numbers(world: World) -> None:
    n = 10
    ids = upload(world, n)
    actor = bureau_principal(world)

    def approve(i: int) -> str:
        with world.sessions() as s:
            outcome = applications.review(s, world.registry, actor, ids[i], "approve")
            assert outcome.certificate is not None
            return outcome.certificate.certificate_number

    numbers = run_threads(n, approve)
    assert not [x for x in numbers if isinstance(x, Exception)], numbers
    assert len(set(numbers)) == n
    assert sorted(int(x[-6:]) for x in numbers) == list(range(1, n + 1))
    with world.sessions() as s:
        entries = s.exec(select(StatusEntry)).all()
        assert len({(e.list_id, e.index) for e in entries}) == len(entries) == 2 * n
        assert audit.verify_chain(s).ok


def test_concurrent_issuance_of_one_application_gives_one_certificate(world: World) -> None:
    [app_id] = upload(world, 1)
    r = world.review(app_id, "bureau", issue=False)
    assert r.json()["application"]["state"] == "approved"
    actor = bureau_principal(world)

    def issue(_: int) -> int:
        with world.sessions() as s:
            cert = issuance.issue_application(s, world.registry, actor, app_id)
            assert cert.id is not None
            return cert.id

    got = run_threads(6, issue)
    assert not [x for x in got if isinstance(x, Exception)], got
    assert len(set(got)) == 1
    with world.sessions() as s:
        assert len(s.exec(select(Certificate)).all()) == 1


def test_issuing_twice_over_http_returns_the_same_certificate(world: World) -> None:
    [app_id] = upload(world, 1)
    world.review(app_id, "bureau", issue=False)
    first = world.client.post(f"/api/applications/{app_id}/issue", headers=world["bureau"].h).json()
    before = snapshot(world.sessions)
    again = world.client.post(f"/api/applications/{app_id}/issue", headers=world["bureau"].h).json()
    assert again["id"] == first["id"] and again["certificateNumber"] == first["certificateNumber"]
    assert again["fullCredential"] == first["fullCredential"]
    assert snapshot(world.sessions) == before


def test_failed_issuance_after_numbering_leaves_the_database_as_it_was(world: World) -> None:
    [app_id] = upload(world, 1)
    store = KeyStore(world.registry.keys._store.path, PASSPHRASE)
    before = snapshot(world.sessions)
    # No active key: the number and the status indexes are taken, then signing fails.
    store.retire(store.active().key_id)
    r = world.review(app_id, "bureau")
    assert r.status_code == 409 and r.json()["code"] == "unknown_key", r.text
    assert snapshot(world.sessions) == before  # no number consumed, no index used, no audit entry
    store.rotate()
    cert = world.review(app_id, "bureau").json()["certificate"]
    assert cert["certificateNumber"].endswith("000001")
    assert cert["keyId"] == f"{DID}#key-2"


def test_issuing_an_unapproved_application_is_refused(world: World) -> None:
    app = world.application("holder")
    r = world.client.post(f"/api/applications/{app['id']}/issue", headers=world["bureau"].h)
    assert r.status_code == 409 and r.json()["code"] == "not_approved"


def test_the_year_in_the_number_is_chinas(world: World, clock: Any) -> None:
    # 2026-12-31 16:30 UTC is already 2027-01-01 00:30 in Beijing.
    clock.now = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    world.relogin()
    [app_id] = upload(world, 1)
    cert = world.review(app_id, "bureau").json()["certificate"]
    assert cert["certificateNumber"] == "C1401022027000001"
    clock.now = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    [app2] = upload(world, 1, start=1)
    assert world.review(app2, "bureau").json()["certificate"]["certificateNumber"] == "C1401022027000002"
