"""Batch issuance: every approved application issued exactly once in chunks, the per-row outcome
durable and readable afterwards (also when the run dies on a database fault), resumable after SIGKILL,
several worker processes sharing one run. Each ends with the invariants checked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from registry.invariants import check_invariants
from registry.kit import PASSPHRASE, World
from sqlalchemy import Engine, text
from sqlmodel import col, select

from schemas import elicense
from titlecred.db.models import Application, AuditEntry, Certificate, Person
from titlecred.db.models_elicense import ElicenseOutbox
from titlecred.services import applications, audit, batch, issuance, orgs, status
from titlecred.services.batch_seed import seed_approved
from titlecred.services.certify import sign_certificate
from titlecred.services.context import Registry
from titlecred.services.principal import BUREAU, Principal
from titlecred.settings import Settings

CLI = "from titlecred.cli import main; main()"


def _bureau(sessions: Any, registry: Registry) -> Principal:
    with sessions() as s:
        bureau, admin = orgs.bootstrap(s, registry, region_code="140102", admin_username="bureau-admin",
                                       admin_password="pw-0123456789")
        status.ensure_lists(s, registry)
    assert bureau.id is not None and admin.account.id is not None
    return Principal(admin.account.id, "bureau-admin", bureau.id, BUREAU, "admin")


def test_batch_issues_every_approved_application_once_in_chunks(sessions: Any, registry: Registry) -> None:
    actor = _bureau(sessions, registry)
    with sessions() as s:
        ids = seed_approved(s, registry, 40)
        run = batch.start_run(s, registry, actor)
        assert run.id is not None and run.total == 40
        progress = batch.work(s, registry, actor, run.id, chunk=7)
        assert progress.issued == 40 and progress.chunks == 6
        assert batch.counts(s, run.id) == {"issued": 40}
        assert batch.get_run(s, run.id).state == "done"
        items = batch.items(s, run.id)
        assert sorted(i.application_id for i in items) == sorted(ids)
        assert all(i.certificate_number and i.certificate_id for i in items)
        # The batch path states what a single issuance states: the e-license identifier of its number.
        cert = s.get(Certificate, items[0].certificate_id)
        assert cert is not None
        subject = json.loads(cert.full_json)["credentialSubject"]
        assert elicense.parse_identifier(subject["eLicenseIdentifier"]).serial == cert.certificate_number
        # ... and queues each license for the provincial library, once.
        events = s.exec(select(ElicenseOutbox.event_key)).all()
        assert len(events) == 40 and len(set(events)) == 40
        # A second run has nothing to issue; joining the finished one claims nothing.
        again = batch.start_run(s, registry, actor)
        assert again.total == 0 and again.state == "done"
    assert check_invariants(sessions)["certificates"] == 40


def test_a_batch_issued_pair_is_byte_for_byte_what_a_single_issuance_signs(sessions: Any, registry: Registry) -> None:
    """Every stored credential, rebuilt with the signing function of a single issuance from the certificate's
    own number, status indexes, time and credential ids, comes out the same bytes (Ed25519 is deterministic):
    nothing is signed, stored or recorded differently in bulk."""
    actor = _bureau(sessions, registry)
    with sessions() as s:
        ids = seed_approved(s, registry, 6)
        single = issuance.issue_application(s, registry, actor, ids[0])
        batch.run_all(s, registry, actor, chunk=4)
        certs = s.exec(select(Certificate).order_by(col(Certificate.seq))).all()
        assert [c.application_id for c in certs] == ids and certs[0].id == single.id
        key = registry.keys.active()
        details = {}
        for cert in certs:
            app, person = s.get(Application, cert.application_id), s.get(Person, cert.person_id)
            assert app is not None and person is not None and app.state == "issued"
            record = applications.to_record(applications.facts_of(app), person.id_number, cert.certificate_number)
            entries = [status.entry_json(registry, cert.revocation_list_id, "revocation", cert.revocation_index),
                       status.entry_json(registry, cert.suspension_list_id, "suspension", cert.suspension_index)]
            signed, pair = sign_certificate(registry, key, record, now=cert.issued_at, status=entries,
                                            full_id=cert.full_id, minimal_id=cert.minimal_id)
            assert cert.full_json == json.dumps(pair.full, ensure_ascii=False)
            assert cert.minimal_json == json.dumps(pair.minimal, ensure_ascii=False)
            assert cert.record_json == json.dumps(signed.as_dict(), ensure_ascii=False)
            assert (cert.full_hash, cert.minimal_hash) == (audit.credential_hash(pair.full),
                                                           audit.credential_hash(pair.minimal))
            subject = f"certificate:{cert.certificate_number}"
            entry = s.exec(select(AuditEntry).where(AuditEntry.subject == subject)).one()
            details[cert.id] = json.loads(entry.details_json)
            assert details[cert.id]["fullHash"] == cert.full_hash
            event = s.exec(select(ElicenseOutbox).where(ElicenseOutbox.certificate_id == cert.id)).one()
            assert event.event_key == f"{pair.full['credentialSubject']['eLicenseIdentifier']}:issued"
        # The audit entries of both paths record the same facts.
        assert {tuple(sorted(d)) for d in details.values()} == {tuple(sorted(details[single.id]))}
    check_invariants(sessions)


def test_a_row_that_cannot_be_signed_fails_alone_with_its_code(sessions: Any, registry: Registry) -> None:
    actor = _bureau(sessions, registry)
    with sessions() as s:
        ids = seed_approved(s, registry, 5)
        bad = s.get(Application, ids[2])
        assert bad is not None
        facts = json.loads(bad.facts_json)
        facts["level"] = "特级"
        bad.facts_json = json.dumps(facts, ensure_ascii=False)
        s.add(bad)
        s.commit()
        run = batch.run_all(s, registry, actor, chunk=10)
        assert run.id is not None
        failed = batch.items(s, run.id, state="failed")
        assert [(i.application_id, i.code) for i in failed] == [(ids[2], failed[0].code)] and failed[0].code
        assert batch.counts(s, run.id) == {"issued": 4, "failed": 1}
    check_invariants(sessions)


def _fault_trigger(engine: Engine, seq: int) -> None:
    """A real database fault: inserting the certificate of sequence `seq` fails (like a full disk)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text(f"CREATE TRIGGER fault BEFORE INSERT ON certificate WHEN NEW.seq = {seq} "
                              "BEGIN SELECT RAISE(ABORT, 'simulated disk fault'); END"))
        else:
            conn.execute(text("CREATE OR REPLACE FUNCTION fault() RETURNS trigger AS $$ BEGIN "
                              f"IF NEW.seq = {seq} THEN RAISE EXCEPTION 'simulated disk fault'; END IF; "
                              "RETURN NEW; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER fault BEFORE INSERT ON certificate FOR EACH ROW "
                              "EXECUTE FUNCTION fault()"))


def _drop_fault(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER fault" + ("" if engine.dialect.name == "sqlite" else " ON certificate")))


def test_issuance_run_stopped_by_a_database_fault_keeps_its_report(world: World, engine: Engine) -> None:
    """Issue 13, item 6: what a run committed before the fault is reported afterwards, and the re-run
    issues the rest; nothing is reported twice or lost."""
    with world.sessions() as s:
        ids = seed_approved(s, world.registry, 400)
    _fault_trigger(engine, 300)  # chunks of 250: the first commits, the second fails
    try:
        r = world.client.post("/api/issuance/run", json={}, headers=world["bureau"].h)
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "batch_interrupted"
        runs = world.client.get("/api/issuance/runs", headers=world["bureau"].h).json()
        first = runs[0]
        assert str(first["id"]) in r.json()["detail"]
        assert first["counts"] == {"issued": 250, "pending": 150} and first["state"] == "running"
        page = world.client.get(f"/api/issuance/runs/{first['id']}/items?state=issued&limit=500",
                                headers=world["bureau"].h).json()
        assert len(page) == 250 and all(i["certificateNumber"] for i in page)
    finally:
        _drop_fault(engine)
    r = world.client.post("/api/issuance/run", json={}, headers=world["bureau"].h)
    assert r.status_code == 200, r.text
    second = r.json()
    assert len(second["issued"]) == 150 and second["failed"] == []
    old = world.client.get(f"/api/issuance/runs/{first['id']}", headers=world["bureau"].h).json()
    assert old["counts"] == {"issued": 250, "superseded": 150} and old["state"] == "done"
    reported = {i["applicationId"] for i in page} | {i["applicationId"] for i in second["issued"]}
    assert reported == set(ids)
    assert check_invariants(world.sessions)["certificates"] == 400


def _cli_env(settings: Settings, db_url: tuple[str, str | None]) -> dict[str, str]:
    url, schema = db_url
    if schema:
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    return {**os.environ, "TITLECRED_HOME": str(settings.home), "TITLECRED_DATABASE_URL": url,
            "TITLECRED_KEY_PASSPHRASE": PASSPHRASE, "TITLECRED_BASE_URL": settings.base_url}


def test_sigkill_during_a_batch_then_resume_issues_each_exactly_once(
        sessions: Any, registry: Registry, settings: Settings, db_url: tuple[str, str | None], tmp_path: Path) -> None:
    actor = _bureau(sessions, registry)
    with sessions() as s:
        seed_approved(s, registry, 800)
    env = _cli_env(settings, db_url)
    kills = 0
    for delay in (1.2, 0.9):
        proc = subprocess.Popen([sys.executable, "-c", CLI, "batch", "issue", "--chunk", "25", "--quiet"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        check_invariants(sessions)  # whatever committed is whole, also right after a kill
    done = subprocess.run([sys.executable, "-c", CLI, "batch", "issue", "--json", "--chunk", "100"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["counts"] == {"issued": 800}, summary
    assert kills >= 1
    assert check_invariants(sessions)["certificates"] == 800
    _ = actor


def test_two_worker_processes_share_one_run(sessions: Any, registry: Registry, settings: Settings,
                                            db_url: tuple[str, str | None], backend: str) -> None:
    actor = _bureau(sessions, registry)
    with sessions() as s:
        seed_approved(s, registry, 400)
        run = batch.start_run(s, registry, actor)
    env = _cli_env(settings, db_url)
    procs = [subprocess.Popen([sys.executable, "-c", CLI, "batch", "issue", "--run", str(run.id), "--chunk", "20",
                               "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    with sessions() as s:
        assert run.id is not None
        workers = {i.worker for i in batch.items(s, run.id, limit=1000)}
        assert batch.counts(s, run.id) == {"issued": 400}
    if backend == "postgresql":  # SKIP LOCKED: both claim chunks side by side (SQLite takes turns)
        assert len(workers) == 2, workers
    assert check_invariants(sessions)["certificates"] == 400


@pytest.mark.parametrize("as_json", [True])
def test_batch_items_cli_lists_the_outcome(sessions: Any, registry: Registry, settings: Settings,
                                           db_url: tuple[str, str | None], as_json: bool) -> None:
    actor = _bureau(sessions, registry)
    with sessions() as s:
        seed_approved(s, registry, 3)
        run = batch.run_all(s, registry, actor)
    env = _cli_env(settings, db_url)
    out = subprocess.run([sys.executable, "-c", CLI, "batch", "items", str(run.id), "--json"], env=env,
                         capture_output=True, text=True, timeout=60)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["state"] for r in rows] == ["issued"] * 3 and all(r["certificateNumber"] for r in rows)
    show = subprocess.run([sys.executable, "-c", CLI, "batch", "show", str(run.id), "--json"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert json.loads(show.stdout)["counts"] == {"issued": 3}


def test_a_batch_racing_single_issuances_of_the_same_applications_issues_each_once(
        sessions: Any, registry: Registry) -> None:
    from registry.kit import run_threads

    from titlecred.services import issuance

    actor = _bureau(sessions, registry)
    with sessions() as s:
        ids = seed_approved(s, registry, 120)

    def work(i: int) -> Any:
        with sessions() as s:
            if i == 0:
                return batch.run_all(s, registry, actor, chunk=15)
            return [issuance.issue_application(s, registry, actor, a).certificate_number for a in ids[i::5]]

    results = run_threads(5, work)
    assert not [r for r in results if isinstance(r, BaseException)], results
    with sessions() as s:
        run = batch.recent_runs(s, 1)[0]
        assert run.id is not None
        items = batch.items(s, run.id, limit=500)
        # Each item reports the one certificate of its application, whoever issued it.
        assert {i.state for i in items} == {"issued"}
    assert check_invariants(sessions)["certificates"] == 120
