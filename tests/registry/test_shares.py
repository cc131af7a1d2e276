"""Purpose-bound shares (加注) over HTTP: the purpose and the period signed into the share, at most 3
active, the link opened and logged, withdrawn or expired shares stop verifying, a PDF copy with the
signed share attached."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from registry.kit import Clock, World

from titlecred.services.clock import stamp

PURPOSE = "仅用于示例公司2026年招聘审核"


def make(w: World, cert: dict[str, Any], clock: Clock, days: int = 7, purpose: str = PURPOSE,
         who: str = "holder") -> Any:
    return w.client.post(f"/api/certificates/{cert['id']}/shares",
                         json={"purpose": purpose, "validUntil": stamp(clock.now + timedelta(days=days))},
                         headers=w[who].h)


def token_path(share: dict[str, Any]) -> str:
    return share["link"].removeprefix("http://testserver")


def verify(w: World, credential: dict[str, Any]) -> dict[str, Any]:
    return dict(w.client.post("/credentials/verify", json={"verifiableCredential": credential}).json())


def test_share_signs_purpose_and_period_and_logs_each_opening(world: World, clock: Clock) -> None:
    cert = world.issued()
    r = make(world, cert, clock)
    assert r.status_code == 201, r.text
    share = r.json()
    assert share["state"] == "active" and share["purpose"] == PURPOSE
    cred = world.client.get(token_path(share) + "/credential.json").json()
    assert cred["type"] == ["VerifiableCredential", "TitleShareCredential"]
    assert cred["sharePurpose"] == PURPOSE and cred["validUntil"] == share["validUntil"]
    assert "idNumber" not in cred["credentialSubject"] and cred["credentialSubject"]["idNumberMasked"]
    assert verify(world, cred)["verified"] is True
    page = world.client.get(token_path(share))
    assert page.status_code == 200 and PURPOSE in page.text and 'data-verdict="valid"' in page.text
    listed = world.client.get("/api/shares", headers=world["holder"].h).json()
    assert len(listed) == 1 and len(listed[0]["opens"]) == 2
    assert all(o["outcome"] == "valid" for o in listed[0]["opens"])


def test_the_purpose_cannot_be_changed(world: World, clock: Clock) -> None:
    share = make(world, world.issued(), clock).json()
    cred = world.client.get(token_path(share) + "/credential.json").json()
    cred["sharePurpose"] = "任何用途"
    assert verify(world, cred)["verified"] is False
    cred = world.client.get(token_path(share) + "/credential.json").json()
    cred["validUntil"] = "2099-01-01T00:00:00Z"
    assert verify(world, cred)["verified"] is False


def test_at_most_three_active_shares(world: World, clock: Clock) -> None:
    cert = world.issued()
    made = [make(world, cert, clock).json() for _ in range(3)]
    r = make(world, cert, clock)
    assert r.status_code == 409 and r.json()["code"] == "too_many_shares"
    w = world.client.post(f"/api/shares/{made[0]['id']}/withdraw", headers=world["holder"].h)
    assert w.status_code == 200 and w.json()["state"] == "withdrawn"
    assert make(world, cert, clock).status_code == 201


def test_withdrawn_share_stops_verifying(world: World, clock: Clock) -> None:
    share = make(world, world.issued(), clock).json()
    cred = world.client.get(token_path(share) + "/credential.json").json()
    world.client.post(f"/api/shares/{share['id']}/withdraw", headers=world["holder"].h)
    result = verify(world, cred)
    assert result["verified"] is False
    assert 'data-verdict="withdrawn"' in world.client.get(token_path(share)).text
    again = world.client.post(f"/api/shares/{share['id']}/withdraw", headers=world["holder"].h)
    assert again.status_code == 409


def test_expired_share_stops_verifying_and_no_longer_counts(world: World, clock: Clock) -> None:
    cert = world.issued()
    share = make(world, cert, clock, days=1).json()
    for _ in range(2):
        assert make(world, cert, clock).status_code == 201
    clock.advance(days=2)
    world.relogin()
    cred = world.client.get(token_path(share) + "/credential.json").json()
    result = verify(world, cred)
    assert result["verified"] is False and "expired" in json.dumps(result)
    assert 'data-verdict="expired"' in world.client.get(token_path(share)).text
    assert make(world, cert, clock).status_code == 201  # the expired one does not count


def test_revoking_the_certificate_stops_its_shares(world: World, clock: Clock) -> None:
    cert = world.issued()
    share = make(world, cert, clock).json()
    world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "forgery"}, headers=world["bureau"].h)
    cred = world.client.get(token_path(share) + "/credential.json").json()
    assert verify(world, cred)["verified"] is False


def test_bad_requests_and_other_peoples_shares(world: World, clock: Clock) -> None:
    cert = world.issued()
    assert make(world, cert, clock, purpose="").json()["code"] == "invalid_purpose"
    assert make(world, cert, clock, days=200).json()["code"] == "invalid_period"
    assert make(world, cert, clock, who="holder2").status_code in (403, 404)
    share = make(world, cert, clock).json()
    assert world.client.post(f"/api/shares/{share['id']}/withdraw", headers=world["holder2"].h).status_code == 404
    assert world.client.get(f"/api/shares/{share['id']}/pdf", headers=world["holder2"].h).status_code == 404
    assert world.client.get("/s/" + "0" * 48).status_code == 404
    assert world.client.get("/s/short/credential.json").status_code == 404


def test_pdf_copy_carries_the_signed_share(world: World, clock: Clock) -> None:
    from printing.extract import pdf_attachment, pdf_text

    share = make(world, world.issued(), clock).json()
    r = world.client.get(f"/api/shares/{share['id']}/pdf", headers=world["holder"].h)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    cred = json.loads(pdf_attachment(r.content))
    assert PURPOSE in pdf_text(r.content).replace("\n", "")
    assert cred["sharePurpose"] == PURPOSE and verify(world, cred)["verified"] is True


def test_concurrent_shares_never_pass_the_limit(world: World, clock: Clock) -> None:
    from registry.kit import run_threads

    cert = world.issued()
    results = run_threads(5, lambda i: make(world, cert, clock, purpose=f"用途{i}").status_code)
    assert sorted(results) == [201, 201, 201, 409, 409], results
