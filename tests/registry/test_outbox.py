"""The durable outbox to the provincial library: written with the change, delivered at least once,
filed exactly once (idempotency key), retried with backoff, surviving a killed deliverer."""

from __future__ import annotations

import base64
import io
import multiprocessing
import os
import signal
import time
from datetime import timedelta
from typing import Any

import ofdkit
import pytest
from registry.kit import PASSPHRASE, World, run_threads
from registry.library import LibraryServer
from sqlmodel import col, select

from printing.ofd.seal import SoftwareSm2Signer, read_parts, seal_ofd, verify_sealed
from titlecred.db.models_elicense import ElicenseOutbox
from titlecred.services.outbox import Deliverer, HttpTransport, backoff


def _rows(world: World) -> list[ElicenseOutbox]:
    with world.sessions() as s:
        return list(s.exec(select(ElicenseOutbox).order_by(ElicenseOutbox.id)).all())


def _deliverer(world: World, library: LibraryServer, name: str = "w1", **kw: Any) -> Deliverer:
    return Deliverer(world.sessions, world.registry, HttpTransport(library.url, timeout=10), name, **kw)


def _revoke(world: World, cert_id: int) -> None:
    r = world.client.post(f"/api/certificates/{cert_id}/revoke", json={"reason": "forgery"}, headers=world["bureau"].h)
    assert r.status_code == 200, r.text


def test_issuing_and_revoking_write_one_event_each_in_the_same_transaction(world: World) -> None:
    cert = world.issued("holder")
    rows = _rows(world)
    assert [(r.event, r.certificate_id) for r in rows] == [("issued", cert["id"])]
    full = world.client.get(f"/api/certificates/{cert['id']}", headers=world["holder"].h).json()["fullCredential"]
    assert rows[0].event_key == full["credentialSubject"]["eLicenseIdentifier"] + ":issued"
    _revoke(world, cert["id"])
    r = world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "forgery"},
                          headers=world["bureau"].h)
    assert r.status_code == 409  # refused: no second event either
    assert [r.event for r in _rows(world)] == ["issued", "revoked"]
    assert all(r.delivered_at is None and r.attempts == 0 for r in _rows(world))


def test_a_reissue_writes_a_reissued_event_for_the_new_license(world: World) -> None:
    old = world.issued("holder")
    r = world.client.post(f"/api/certificates/{old['id']}/reissue", json={"reason": "lost"},
                          headers=world["bureau"].h)
    assert r.status_code == 201, r.text
    new = r.json()
    rows = _rows(world)
    assert [(row.event, row.certificate_id) for row in rows] == [("issued", old["id"]), ("reissued", new["id"])]
    assert new["certificateNumber"] in rows[1].event_key and rows[0].event_key != rows[1].event_key
    with LibraryServer() as library:
        assert _deliverer(world, library).run_once() == 2
    reissued = library.licenses[rows[1].event_key]
    assert reissued["metadata"]["reissueOf"] == old["fullCredential"]["id"] and "ofd" in reissued


def test_events_are_delivered_with_the_ofd_and_metadata_once_per_key(world: World) -> None:
    first = world.issued("holder")
    _revoke(world, first["id"])
    with LibraryServer() as library:
        signer = SoftwareSm2Signer(SoftwareSm2Signer.generate_key(), world.registry.profile.name)
        deliverer = _deliverer(world, library, seal=lambda data: seal_ofd(data, signer))
        assert deliverer.run_once() == 2
        assert deliverer.run_once() == 0
    keys = [k for k, _ in library.requests]
    assert len(keys) == 2 == len(set(keys)) and keys == [r.event_key for r in _rows(world)]
    issued = library.licenses[keys[0]]
    assert issued["event"] == "issued" and issued["certificateNumber"] == first["certificateNumber"]
    assert issued["metadata"]["licenseNumber"] == first["certificateNumber"]
    assert issued["metadata"]["licenseIdentifier"] == issued["eLicenseIdentifier"]
    ofd = base64.b64decode(issued["ofd"])
    assert verify_sealed(read_parts(ofd)).ok
    with ofdkit.open(io.BytesIO(ofd)) as doc:
        assert first["certificateNumber"] in doc.pages[0].text()
    revoked = library.licenses[keys[1]]
    assert revoked["event"] == "revoked" and revoked["metadata"]["licenseState"] == "revoked" and "ofd" not in revoked
    assert all(r.delivered_at is not None for r in _rows(world))


def test_a_refused_delivery_is_retried_with_backoff(world: World) -> None:
    world.issued("holder")
    with LibraryServer(fail_first=2) as library:
        deliverer = _deliverer(world, library)
        assert deliverer.run_once() == 0
        row = _rows(world)[0]
        assert row.attempts == 1 and row.delivered_at is None and "503" in (row.last_error or "")
        assert row.next_attempt_at == world.registry.now() + backoff(1)
        assert deliverer.run_once() == 0  # not due yet: nothing is sent
        assert len(library.requests) == 1
        world.registry.clock.advance(seconds=5)  # type: ignore[attr-defined]
        assert deliverer.run_once() == 0
        assert _rows(world)[0].attempts == 2
        world.registry.clock.advance(seconds=10)  # type: ignore[attr-defined]
        assert deliverer.run_once() == 1
    assert len(library.licenses) == 1 and len(library.requests) == 3
    assert backoff(30) == timedelta(hours=1)


def test_concurrent_deliverers_share_the_rows_without_sending_one_twice(world: World) -> None:
    for _ in range(2):
        cert = world.issued("holder")
        _revoke(world, cert["id"])
    with LibraryServer() as library:
        deliverers = [_deliverer(world, library, f"w{i}", batch=1) for i in range(3)]

        def work(i: int) -> int:
            total = 0
            while (n := deliverers[i].run_once()) > 0:
                total += n
            return total

        results = run_threads(3, work)
    assert sum(results) == 4
    keys = [k for k, _ in library.requests]
    assert sorted(keys) == sorted(r.event_key for r in _rows(world)) and len(set(keys)) == 4


def _deliver_forever(url: str, schema: str | None, settings: Any, config: Any, endpoint: str) -> None:
    """A deliverer process: its own engine and registry, real time, short leases, one row at a time."""
    from titlecred.api.app import build_registry
    from titlecred.db.engine import make_engine, session_factory

    engine = make_engine(url, search_path=schema)
    deliverer = Deliverer(session_factory(engine), build_registry(settings, config), HttpTransport(endpoint),
                          f"child-{os.getpid()}", lease=timedelta(seconds=1), batch=1)
    while True:
        if deliverer.run_once() == 0:
            time.sleep(0.1)


def _start(world: World, settings: Any, db: tuple[str, str | None], library: LibraryServer) -> Any:
    # A forked process starts with everything imported (a fresh interpreter takes seconds here), and is
    # killed for real (SIGKILL): no cleanup, no chance to finish its bookkeeping.
    process = multiprocessing.get_context("fork").Process(
        target=_deliver_forever, args=(db[0], db[1], settings, world.registry.config, library.url), daemon=True)
    process.start()
    return process


def test_a_deliverer_killed_mid_run_loses_nothing_and_files_nothing_twice(world: World, settings: Any,
                                                                          db_url: tuple[str, str | None]) -> None:
    cert = world.issued("holder")
    _revoke(world, cert["id"])
    events = {r.event_key for r in _rows(world)}
    # The library files each event, then holds its answer: the kill lands after filing, before bookkeeping.
    with LibraryServer(hold=1.0) as library:
        first = _start(world, settings, db_url, library)
        try:
            assert library.wait_for(1), "the deliverer sent nothing"
            os.kill(first.pid, signal.SIGKILL)
            first.join(10)
        finally:
            if first.is_alive():
                first.kill()
        filed_before_restart = set(library.licenses)
        assert filed_before_restart and filed_before_restart < events
        library.hold = 0.0
        second = _start(world, settings, db_url, library)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with world.sessions() as s:
                    left = s.exec(select(ElicenseOutbox).where(col(ElicenseOutbox.delivered_at).is_(None))).all()
                if not left:
                    break
                time.sleep(0.2)
        finally:
            second.kill()
            second.join(10)
    assert set(library.licenses) == events  # nothing lost
    keys = [k for k, _ in library.requests]
    assert len(keys) > len(events)  # the killed deliverer's event was sent again...
    assert len(library.licenses) == len(events)  # ...with its key, so it was filed once
    assert all(r.delivered_at is not None for r in _rows(world))


def test_the_deliver_command_runs_once_against_the_endpoint(world: World, settings: Any, monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from titlecred.cli import app

    world.issued("holder")
    monkeypatch.setenv("TITLECRED_HOME", str(settings.home))
    monkeypatch.setenv("TITLECRED_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TITLECRED_KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("TITLECRED_LOOKUP_SECRET", "test lookup secret, 32 bytes...")
    if settings.database_url.startswith("postgresql"):
        pytest.skip("the CLI opens its own engine; the PostgreSQL test schema is set per engine")
    with LibraryServer() as library:
        result = CliRunner().invoke(app, ["elicense", "deliver", "--once", "--no-seal", "--endpoint", library.url])
    assert result.exit_code == 0, result.output
    assert "delivered 1 license event(s)" in result.output and len(library.licenses) == 1
    result = CliRunner().invoke(app, ["elicense", "deliver", "--once"])
    assert result.exit_code == 2 and "no_endpoint" in result.output
