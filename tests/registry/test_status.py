"""Status lists: published, cacheable, random indexes, revocation and suspension seen by verifiers."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from registry.kit import Clock, World

from keys.did import DidResolver
from schemas import bitstring
from verifier.policy import Policy
from verifier.status import StaticStatusSource
from verifier.verify import verify_credential


def fetch_list(world: World, url: str) -> Any:
    path = url.removeprefix("http://testserver")
    r = world.client.get(path)
    assert r.status_code == 200, r.text
    return r


def offline_verdict(world: World, credential: dict[str, Any]) -> str:
    """How an independent verifier, given only the published DID document and lists, sees a credential."""
    did_doc = world.client.get("/.well-known/did.json").json()
    source = StaticStatusSource()
    for entry in credential["credentialStatus"]:
        source.add(fetch_list(world, entry["statusListCredential"]).json())
    policy = Policy(resolver=DidResolver([did_doc]), status=source, now=world.registry.now())
    return verify_credential(credential, policy).verdict


def test_status_lists_are_signed_large_and_cacheable(world: World) -> None:
    cert = world.issued()
    entries = cert["fullCredential"]["credentialStatus"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    assert cert["minimalCredential"]["credentialStatus"] == entries  # both forms share the entries
    r = fetch_list(world, entries[0]["statusListCredential"])
    lst = r.json()
    assert lst["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert lst["credentialSubject"]["statusPurpose"] == "revocation"
    assert len(bitstring.decode(lst["credentialSubject"]["encodedList"])) * 8 >= 131_072
    assert lst["validFrom"] < lst["validUntil"]
    assert r.headers["cache-control"].startswith("public, max-age=")
    etag = r.headers["etag"]
    again = world.client.get(entries[0]["statusListCredential"].removeprefix("http://testserver"),
                             headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    assert offline_verdict(world, cert["fullCredential"]) == "valid"
    assert world.client.get("/status/no-such-list").status_code == 404


def test_indexes_are_random_and_unique(world: World) -> None:
    indexes = []
    for i in range(6):
        app = world.application("holder", qualification="工程师", level="中级", specialty=f"专业{i}")
        cert = world.approve_all(app["id"], "employer", "supervisory", "bureau")["certificate"]
        indexes.append(int(cert["fullCredential"]["credentialStatus"][0]["statusListIndex"]))
    assert len(set(indexes)) == 6
    # Consecutive issues do not get neighbouring indexes (chance of this failing: ~1e-20).
    assert not any(abs(a - b) == 1 for a, b in itertools.pairwise(indexes))


def test_revocation_sets_the_bit_and_records_the_reason(world: World) -> None:
    cert = world.issued()
    entry = cert["fullCredential"]["credentialStatus"][0]
    path = entry["statusListCredential"].removeprefix("http://testserver")
    etag = world.client.get(path).headers["etag"]
    r = world.client.post(f"/api/certificates/{cert['id']}/revoke",
                          json={"reason": "renting_out", "detail": "挂证，经查证属实"}, headers=world["bureau"].h)
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    assert r.json()["revocation"]["reason"] == "renting_out"
    fresh = world.client.get(path, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != etag  # re-signed at once
    bits = bitstring.decode(fresh.json()["credentialSubject"]["encodedList"])
    assert bitstring.get_bit(bits, int(entry["statusListIndex"]))
    for form in ("fullCredential", "minimalCredential"):
        v = world.client.post("/credentials/verify", json={"verifiableCredential": cert[form]})
        assert v.status_code == 422 and v.json()["verified"] is False
        assert v.json()["results"]["verdict"] == "revoked"
        assert any("STATUS_VERIFICATION_ERROR" in p["type"] for p in v.json()["problemDetails"])
    assert offline_verdict(world, cert["fullCredential"]) == "revoked"
    credit = world.client.get("/api/revocations", headers=world["bureau"].h).json()
    assert credit[0]["certificateNumber"] == cert["certificateNumber"] and credit[0]["reasonName"] == "挂证/出租出借"
    assert world.ids["holder"] not in str(credit)
    again = world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "forgery"},
                              headers=world["bureau"].h)
    assert again.status_code == 409 and again.json()["code"] == "already_revoked"


def test_revocation_reason_must_be_one_of_the_credit_systems(world: World) -> None:
    cert = world.issued()
    r = world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "bored"},
                          headers=world["bureau"].h)
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"


def test_suspension_is_reversible(world: World) -> None:
    cert = world.issued()
    vc = {"verifiableCredential": cert["fullCredential"]}
    r = world.client.post(f"/api/certificates/{cert['id']}/suspend", json={"detail": "调查中"},
                          headers=world["bureau"].h)
    assert r.json()["state"] == "suspended"
    v = world.client.post("/credentials/verify", json=vc)
    assert v.status_code == 422 and v.json()["results"]["verdict"] == "suspended"
    assert offline_verdict(world, cert["fullCredential"]) == "suspended"
    r = world.client.post(f"/api/certificates/{cert['id']}/unsuspend", json={}, headers=world["bureau"].h)
    assert r.json()["state"] == "active"
    assert world.client.post("/credentials/verify", json=vc).status_code == 200
    r = world.client.post(f"/api/certificates/{cert['id']}/unsuspend", json={}, headers=world["bureau"].h)
    assert r.status_code == 409 and r.json()["code"] == "not_suspended"
    # A suspended certificate can still be revoked; a revoked one never returns.
    world.client.post(f"/api/certificates/{cert['id']}/suspend", json={}, headers=world["bureau"].h)
    world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "forgery"}, headers=world["bureau"].h)
    r = world.client.post(f"/api/certificates/{cert['id']}/unsuspend", json={}, headers=world["bureau"].h)
    assert r.status_code == 409


def test_a_stale_list_is_signed_again_when_fetched(world: World, clock: Clock) -> None:
    cert = world.issued()
    path = cert["fullCredential"]["credentialStatus"][1]["statusListCredential"].removeprefix("http://testserver")
    first = world.client.get(path).json()
    clock.advance(hours=4)  # past half of the 6 hours a list is valid
    second = world.client.get(path).json()
    assert second["validFrom"] > first["validFrom"] and second["validUntil"] > first["validUntil"]
    assert second["credentialSubject"]["encodedList"] == first["credentialSubject"]["encodedList"]
    clock.advance(hours=1)
    assert world.client.get(path).json() == second  # still fresh: served as stored


def test_verify_can_skip_status_only_when_asked(world: World) -> None:
    cert = world.issued()
    world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "forgery"}, headers=world["bureau"].h)
    body = {"verifiableCredential": cert["fullCredential"], "options": {"checks": ["proof"]}}
    r = world.client.post("/credentials/verify", json=body)
    assert r.status_code == 200  # proof only, as asked; the result says status was not checked
    assert any(c["name"] == "status" and c["outcome"] == "skipped" for c in r.json()["results"]["checks"])
    body["options"] = {"checks": ["proof", "credentialStatus"]}
    assert world.client.post("/credentials/verify", json=body).status_code == 422


def test_status_list_validity_follows_configuration(world: World) -> None:
    r = world.client.get("/status/revocation-1")
    lst = r.json()
    from titlecred.services.clock import parse_stamp

    span = parse_stamp(lst["validUntil"]) - parse_stamp(lst["validFrom"])
    assert span == timedelta(hours=6)
    assert lst["credentialSubject"]["ttl"] == 300_000
