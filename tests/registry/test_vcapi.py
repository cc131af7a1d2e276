"""The W3C VC API endpoints, the issuer's published keys, and the OpenAPI description."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from registry.kit import DID, World

from keys.did import did_key_from_public
from keys.material import SigningKey
from proofs.dataintegrity import ProofOptions, add_proof
from schemas.loader import default_loader
from titlecred.services.clock import stamp


@pytest.fixture
def api_token(world: World) -> dict[str, str]:
    r = world.client.post("/api/tokens", json={"name": "interop client"}, headers=world["bureau-officer"].h)
    assert r.status_code == 201
    token = r.json()["token"]
    listed = world.client.get("/api/tokens", headers=world["bureau-officer"].h).json()
    assert token not in str(listed)  # shown once, never listed
    return {"Authorization": f"Bearer {token}"}


def credential(**extra: Any) -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
            "id": "urn:uuid:7d1c6c26-4c6f-4a52-9a8f-2a8a2e3f9b10", "type": ["VerifiableCredential"],
            "issuer": DID, "credentialSubject": {"id": "did:example:holder", "name": "张三"}, **extra}


def test_issue_signs_as_the_bureau_and_the_result_verifies(world: World, api_token: dict[str, str]) -> None:
    r = world.client.post("/credentials/issue", json={"credential": credential(), "options": {
        "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}}, headers=api_token)
    assert r.status_code == 201, r.text
    vc = r.json()["verifiableCredential"]
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022" and vc["proof"]["verificationMethod"] == f"{DID}#key-1"
    assert world.client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200
    tampered = copy.deepcopy(vc)
    tampered["credentialSubject"]["name"] = "李四"
    bad = world.client.post("/credentials/verify", json={"verifiableCredential": tampered})
    assert bad.status_code == 422 and bad.json()["verified"] is False
    assert bad.headers["content-type"] == "application/problem+json"
    assert any("PROOF_VERIFICATION_ERROR" in p["type"] for p in bad.json()["problemDetails"])


def test_issue_injects_the_context_and_adds_status_on_request(world: World, api_token: dict[str, str]) -> None:
    vc_in = credential()
    del vc_in["@context"]
    r = world.client.post("/credentials/issue", json={
        "credential": {**vc_in, "credentialSubject": {"id": "did:example:holder"}},
        "options": {"credentialStatus": {"type": "BitstringStatusListEntry"}}}, headers=api_token)
    assert r.status_code == 201, r.text
    vc = r.json()["verifiableCredential"]
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert [e["statusPurpose"] for e in vc["credentialStatus"]] == ["revocation", "suspension"]
    assert world.client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200


@pytest.mark.parametrize("body,code", [
    ({"credential": credential(issuer="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")}, "wrong_issuer"),
    ({"credential": credential(type=["Nope"])}, "invalid_type"),
    ({"credential": credential(credentialSubject={})}, "invalid_subject"),
    ({"credential": credential(validFrom="yesterday")}, "invalid_date"),
    ({"credential": credential(**{"@context": ["https://example.com/ctx"]})}, "invalid_context"),
    ({"credential": credential(**{"@context": ["https://www.w3.org/ns/credentials/v2", "https://example.com/ctx"]})},
     "unknown_context"),
    ({"credential": credential(shoeSize=42)}, "undefined_term"),
    ({"credential": "not an object"}, "malformed_credential"),
    ({"options": {}}, "missing_field"),
    ({"credential": credential(), "extra": 1}, "unknown_field"),
])
def test_issue_refuses_invalid_input_with_400(world: World, api_token: dict[str, str], body: dict[str, Any],
                                              code: str) -> None:
    if code == "undefined_term":
        body["credential"]["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    r = world.client.post("/credentials/issue", json=body, headers=api_token)
    assert r.status_code == 400 and r.json()["code"] == code, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_issue_needs_a_bureau_token(world: World) -> None:
    assert world.client.post("/credentials/issue", json={"credential": credential()}).status_code == 401
    r = world.client.post("/credentials/issue", json={"credential": credential()}, headers=world["employer"].h)
    assert r.status_code == 403


def test_verify_refuses_unreadable_requests_with_400(world: World) -> None:
    c = world.client
    r = c.post("/credentials/verify", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["verified"] is False and r.json()["code"] == "malformed_json"
    r = c.post("/credentials/verify", content=b'{"verifiableCredential": {}, "verifiableCredential": {}}',
               headers={"Content-Type": "application/json"})
    assert r.status_code == 400  # duplicate keys hide a second value
    r = c.post("/credentials/verify", json={"verifiableCredential": "x"})
    assert r.status_code == 400
    deep: Any = {}
    cur = deep
    for _ in range(40):
        cur["a"] = {}
        cur = cur["a"]
    r = c.post("/credentials/verify", json={"verifiableCredential": deep})
    assert r.status_code in (400, 413, 422) and r.json()["verified"] is False
    r = c.post("/credentials/verify", content=b"[" * 2_000_000, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "request_too_large"


def test_verify_accepts_a_did_key_credential_as_the_interop_suites_send(world: World) -> None:
    key = SigningKey.from_seed(bytes(range(32)))
    did = did_key_from_public(key.public_key)
    vc = credential(issuer=did)
    opts = ProofOptions(verification_method=f"{did}#{key.public_key.multibase}", created=stamp(world.registry.now()))
    signed = add_proof(vc, opts, key.sign, default_loader())
    body = {"verifiableCredential": signed, "options": {"checks": ["proof"]}}
    r = world.client.post("/credentials/verify", json=body)
    assert r.status_code == 200, r.text
    del signed["proof"]["proofPurpose"]
    assert world.client.post("/credentials/verify", json={"verifiableCredential": signed}).status_code == 422


def presentation(world: World, vcs: list[dict[str, Any]], challenge: str | None, domain: str | None) -> dict[str, Any]:
    key = SigningKey.from_seed(bytes(range(1, 33)))
    did = did_key_from_public(key.public_key)
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "holder": did,
          "verifiableCredential": vcs}
    if challenge is None:
        return vp
    opts = ProofOptions(verification_method=f"{did}#{key.public_key.multibase}", created=stamp(world.registry.now()),
                        proof_purpose="authentication", challenge=challenge, domain=domain)
    return add_proof(vp, opts, key.sign, default_loader())


def test_presentations_signed_and_unsigned(world: World) -> None:
    cert = world.issued()
    c = world.client
    unsigned = presentation(world, [cert["minimalCredential"]], None, None)
    r = c.post("/presentations/verify", json={"verifiablePresentation": unsigned})
    assert r.status_code == 200 and r.json()["verified"] is True, r.text
    assert c.post("/presentations/verify", json={"presentation": unsigned}).status_code == 200
    signed = presentation(world, [cert["minimalCredential"]], "uAbCdEf0123456789abcdefg", "example.org")
    body = {"verifiablePresentation": signed, "options": {"challenge": "uAbCdEf0123456789abcdefg",
                                                          "domain": "example.org"}}
    r = c.post("/presentations/verify", json=body)
    assert r.status_code == 200, r.text
    body["options"]["challenge"] = "uSomethingElse"
    r = c.post("/presentations/verify", json=body)
    assert r.status_code == 422 and r.json()["verified"] is False
    # An unsigned presentation cannot answer a challenge.
    r = c.post("/presentations/verify", json={"verifiablePresentation": unsigned, "options": {"challenge": "u1"}})
    assert r.status_code == 422
    # A revoked credential inside makes the presentation fail.
    c.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "tampering"}, headers=world["bureau"].h)
    r = c.post("/presentations/verify", json={"verifiablePresentation": unsigned})
    assert r.status_code == 422
    assert c.post("/presentations/verify", json={"verifiablePresentation": {"type": "x"}}).status_code == 422
    assert c.post("/presentations/verify", json={}).status_code == 400


def test_vcalm_status_updates_and_publish(world: World, api_token: dict[str, str]) -> None:
    r = world.client.post("/credentials/issue", json={
        "credential": credential(), "options": {"credentialStatus": {"type": "BitstringStatusListEntry"}}},
        headers=api_token)
    vc = r.json()["verifiableCredential"]
    body: dict[str, Any] = {"credentialId": vc["id"], "credentialStatus": {"type": "BitstringStatusListEntry",
                                                                          "statusPurpose": "suspension"}}
    verify = {"verifiableCredential": vc}
    assert world.client.post("/credentials/status", json=body, headers=world["employer"].h).status_code == 403
    assert world.client.post("/credentials/status", json=body, headers=api_token).json()["state"] == "suspended"
    assert world.client.post("/credentials/verify", json=verify).json()["results"]["verdict"] == "suspended"
    r = world.client.post("/credentials/status", json={**body, "status": False}, headers=api_token)
    assert r.json()["state"] == "active"
    assert world.client.post("/credentials/verify", json=verify).status_code == 200
    body["credentialStatus"]["statusPurpose"] = "revocation"
    assert world.client.post("/credentials/status", json=body, headers=api_token).json()["state"] == "revoked"
    assert world.client.post("/credentials/verify", json=verify).json()["results"]["verdict"] == "revoked"
    r = world.client.post("/credentials/status", json={**body, "status": False}, headers=api_token)
    assert r.status_code == 409 and r.json()["code"] == "revocation_final"
    url = vc["credentialStatus"][0]["statusListCredential"].removeprefix("http://testserver")
    assert world.client.post(f"{url}/publish", json={}, headers=api_token).status_code == 204
    assert world.client.post(f"{url}/publish", json={}, headers=world["holder"].h).status_code == 403
    # A certificate's credential goes through the certificate's own revocation (and the credit feed).
    cert = world.issued()
    body["credentialId"] = cert["minimalCredential"]["id"]
    assert world.client.post("/credentials/status", json=body, headers=api_token).json()["state"] == "revoked"
    shown = world.client.get(f"/api/certificates/{cert['id']}", headers=world["bureau"].h).json()
    assert shown["state"] == "revoked" and shown["revocation"]["reason"] == "other"
    body["credentialId"] = "urn:uuid:00000000-0000-0000-0000-000000000000"
    assert world.client.post("/credentials/status", json=body, headers=api_token).status_code == 404


def test_did_document_and_jwks_are_published(world: World) -> None:
    doc = world.client.get("/.well-known/did.json")
    assert doc.status_code == 200 and doc.json()["id"] == DID
    assert doc.json()["assertionMethod"] == [f"{DID}#key-1"]
    for path in ("/.well-known/jwks.json", "/jwks.json"):
        jwks = world.client.get(path).json()
        assert jwks["keys"][0]["kid"] == f"{DID}#key-1" and "d" not in jwks["keys"][0]


def test_openapi_describes_every_route(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    routes = {(m, r.path) for r in world.client.app.routes if hasattr(r, "methods")  # type: ignore[attr-defined]
              for m in r.methods if m != "HEAD" and r.path not in ("/openapi.json", "/docs", "/docs/oauth2-redirect",
                                                                   "/redoc")}
    assert routes <= documented
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), (method, path)
            assert "200" in op["responses"] or "201" in op["responses"] or "204" in op["responses"], (method, path)
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
