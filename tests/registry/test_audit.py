"""The audit trail: hash-chained, complete, free of ID numbers, checked by `titlecred audit verify`, and the
independent evidence of issuance time that lets a later-compromised key's certificates keep verifying."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from registry.kit import DID, PASSPHRASE, Clock, World
from sqlalchemy import text
from typer.testing import CliRunner

import titlecred.cli_registry  # noqa: F401  (registers the registry's commands)
from issuer.sign import IssuerKey, sign_document
from keys.store import KeyStore
from titlecred.cli import app as cli
from titlecred.db.models import AuditEntry
from titlecred.services import audit
from titlecred.services.clock import stamp


def lifecycle(world: World) -> dict[str, Any]:
    """A little of everything: review steps, issuance, revocation, suspension, reissue, a conversion."""
    a = world.application("holder")
    world.review(a["id"], "employer", "return", reason="请补充材料")
    world.client.post(f"/api/applications/{a['id']}/resubmit", json={}, headers=world["holder"].h)
    cert = world.approve_all(a["id"], "employer", "supervisory", "bureau")["certificate"]
    b = world.application("holder2", qualification="工程师", level="中级")
    cert2 = world.approve_all(b["id"], "employer2", "supervisory", "bureau")["certificate"]
    h = world["bureau"].h
    world.client.post(f"/api/certificates/{cert2['id']}/suspend", json={}, headers=h)
    world.client.post(f"/api/certificates/{cert2['id']}/revoke", json={"reason": "forgery"}, headers=h)
    world.client.post(f"/api/certificates/{cert['id']}/reissue", json={"reason": "damaged"}, headers=h)
    return cert


def test_every_change_is_in_the_chain_and_no_entry_holds_an_id_number(world: World) -> None:
    lifecycle(world)
    r = world.client.get("/api/audit?limit=500", headers=world["bureau"].h)
    entries = r.json()
    actions = [e["action"] for e in entries]
    for action in ("application.submitted", "application.returned", "application.resubmitted", "application.approved",
                   "certificate.issued", "certificate.suspended", "certificate.revoked", "certificate.reissued"):
        assert action in actions, action
    dump = json.dumps(entries, ensure_ascii=False)
    for id_number in world.ids.values():
        assert id_number not in dump
    prev = audit.GENESIS
    for e in entries:
        assert e["prevHash"] == prev
        prev = e["hash"]
    cp = world.client.get("/audit/checkpoint").json()
    assert cp["seq"] == entries[-1]["seq"] and cp["hash"] == entries[-1]["hash"] and cp["publishedAt"]
    with world.sessions() as s:
        report = audit.verify_chain(s)
    assert report.ok and report.entries == len(entries)


def test_a_failed_review_step_writes_no_entry(world: World) -> None:
    a = world.application("holder")
    before = world.client.get("/audit/checkpoint").json()
    assert world.review(a["id"], "bureau").status_code == 403
    assert world.review(a["id"], "employer", "reject").status_code == 422  # no reason
    assert world.client.get("/audit/checkpoint").json()["seq"] == before["seq"]


@pytest.fixture
def cli_env(world: World, settings: Any, db_url: tuple[str, str | None]) -> dict[str, str]:
    url, schema = db_url
    if schema:
        url += f"?options=-csearch_path%3D{schema}"
    return {"TITLECRED_HOME": str(settings.home), "TITLECRED_DATABASE_URL": url,
            "TITLECRED_KEY_PASSPHRASE": PASSPHRASE}


def test_audit_verify_names_the_first_broken_entry(world: World, cli_env: dict[str, str]) -> None:
    lifecycle(world)
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"], env=cli_env)
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    with world.sessions() as s:
        entry = s.get(AuditEntry, 3)
        assert entry is not None
        details = json.loads(entry.details_json)
        details["stage"] = "forged"
        s.execute(text("UPDATE auditentry SET details_json = :d WHERE seq = 3"), {"d": json.dumps(details)})
        s.commit()
    broken = runner.invoke(cli, ["audit", "verify", "--json"], env=cli_env)
    assert broken.exit_code == 1
    assert json.loads(broken.output)["brokenSeq"] == 3
    human = runner.invoke(cli, ["audit", "verify"], env=cli_env)
    assert human.exit_code == 1 and "#3" in human.output


def test_audit_verify_notices_removed_entries(world: World, cli_env: dict[str, str]) -> None:
    lifecycle(world)
    with world.sessions() as s:
        last = s.execute(text("SELECT max(seq) FROM auditentry")).scalar_one()
        s.execute(text("DELETE FROM credentialhash WHERE audit_seq = :n"), {"n": last})
        s.execute(text("DELETE FROM auditentry WHERE seq = :n"), {"n": last})
        s.commit()
    r = CliRunner().invoke(cli, ["audit", "verify", "--json"], env=cli_env)
    assert r.exit_code == 1 and "head" in json.loads(r.output)["reason"]


def test_a_compromised_key_still_verifies_what_the_log_proves_was_issued_before(world: World, clock: Clock,
                                                                                 settings: Any) -> None:
    clock.advance(hours=-3)  # issue "three hours ago", so that the compromise can lie in the past
    t0 = clock.now
    cert = world.issued()
    store = KeyStore(settings.keys_dir, PASSPHRASE)
    thief = store.signer()  # what a thief of the key could use later
    cp = world.client.get("/audit/checkpoint").json()  # published: the world now knows this head
    assert cp["publishedAt"] == stamp(t0)
    clock.advance(hours=1)
    # The thief signs a credential of their own, backdated before the compromise.
    forged = copy.deepcopy(cert["fullCredential"])
    del forged["proof"]
    forged["credentialSubject"]["qualification"] = "正高级工程师"
    forged = sign_document(forged, IssuerKey(f"{DID}#key-1", thief.sign), created=stamp(t0))
    store.revoke(f"{DID}#key-1", t0 + timedelta(minutes=30), "key leaked")
    store.rotate()
    good = world.client.post("/credentials/verify", json={"verifiableCredential": cert["fullCredential"]})
    assert good.status_code == 200, good.text
    key_check = next(c for c in good.json()["results"]["checks"] if c["name"] == "key")
    assert "issuance log entry" in key_check["reason"] and f"#{cp['seq']}" in key_check["reason"]
    bad = world.client.post("/credentials/verify", json={"verifiableCredential": forged})
    assert bad.status_code == 422  # no issuance entry holds its hash
    # Had the compromise been before the checkpoint was published, the log proves nothing.
    store.revoke(f"{DID}#key-1", t0 - timedelta(minutes=10), "key leaked earlier than thought")
    late = world.client.post("/credentials/verify", json={"verifiableCredential": cert["fullCredential"]})
    assert late.status_code == 422
