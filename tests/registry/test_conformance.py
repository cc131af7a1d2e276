"""What the W3C suites found (issue 14), one test per cause: repeats, inline contexts, refusals, VC 1.1,
issuer instances and cryptosuites, caller status entries, I-JSON, and the verify endpoints' verdicts."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from nacl.pwhash import argon2id
from registry.kit import DID, World, run_threads
from sqlmodel import func, select

from titlecred.db.models import AuditEntry, IssuedCredential
from titlecred.issuers import add_did_key
from titlecred.services.context import KeyProvider, Registry
from titlecred.settings import Settings

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


@pytest.fixture
def token(world: World) -> dict[str, str]:
    r = world.client.post("/api/tokens", json={"name": "suite"}, headers=world["bureau-officer"].h)
    assert r.status_code == 201
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def didkey(world: World, settings: Settings, registry: Registry) -> str:
    """A did:key issuer instance named `conformance` (as `titlecred issuers add conformance --did-key`)."""
    inst = add_did_key(settings, "conformance", opslimit=argon2id.OPSLIMIT_MIN, memlimit=argon2id.MEMLIMIT_MIN)
    registry.add_instance(inst.name, inst.profile, KeyProvider(inst.keystore))
    return inst.profile.did


def vc(**extra: Any) -> dict[str, Any]:
    return {"@context": [V2, EXAMPLES], "type": ["VerifiableCredential"], "issuer": DID,
            "credentialSubject": {"id": "did:example:holder", "name": "张三"}, **extra}


def issue(world: World, token: dict[str, str], credential: dict[str, Any], options: dict[str, Any] | None = None,
          path: str = "/credentials/issue", **headers: str) -> Any:
    body: dict[str, Any] = {"credential": credential}
    if options is not None:
        body["options"] = options
    return world.client.post(path, json=body, headers={**token, **headers})


def verify(world: World, credential: Any) -> Any:
    return world.client.post("/credentials/verify", json={"verifiableCredential": credential})


def count(world: World, model: Any) -> int:
    with world.sessions() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


# ------------------------------------------------------------------ 1. a repeat is never a 409


def test_the_same_request_twice_in_one_second_returns_the_same_credential(world: World, token: dict[str, str]) -> None:
    first = issue(world, token, vc(id="urn:uuid:2a4f1c9e-0000-4000-8000-000000000001"))
    again = issue(world, token, vc(id="urn:uuid:2a4f1c9e-0000-4000-8000-000000000001"))
    assert first.status_code == 201 and again.status_code == 201, again.text
    assert first.json() == again.json()
    assert count(world, IssuedCredential) == 1


def test_identical_requests_at_once_never_conflict(world: World, token: dict[str, str]) -> None:
    results = run_threads(6, lambda i: issue(world, token, vc()))
    assert [r.status_code for r in results] == [201] * 6, [r.text for r in results]
    assert len({json.dumps(r.json(), sort_keys=True) for r in results}) == 1
    assert count(world, IssuedCredential) == 1


def test_an_idempotency_key_returns_the_first_credential_even_at_once(world: World, token: dict[str, str]) -> None:
    audits = count(world, AuditEntry)
    results = run_threads(5, lambda i: issue(world, token, vc(), {"credentialStatus": {
        "type": "BitstringStatusListEntry"}}, **{"Idempotency-Key": "order-77"}))
    assert [r.status_code for r in results] == [201] * 5, [r.text for r in results]
    assert len({json.dumps(r.json(), sort_keys=True) for r in results}) == 1
    assert count(world, IssuedCredential) == 1 and count(world, AuditEntry) == audits + 1
    other = issue(world, token, vc(name="another"), **{"Idempotency-Key": "order-77"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    fresh = issue(world, token, vc(), {"credentialStatus": {"type": "BitstringStatusListEntry"}},
                  **{"Idempotency-Key": "order-78"})
    assert fresh.status_code == 201 and fresh.json() != results[0].json()  # a new key: a new credential


# ------------------------------------------------------------------ 2. inline contexts


def test_inline_contexts_are_issued_and_verified(world: World, token: dict[str, str]) -> None:
    ctx = [V2, {"@vocab": "https://example.org/vocab#", "alumniOf": "https://schema.org/alumniOf"}]
    r = issue(world, token, {**vc(), "@context": ctx, "credentialSubject": {"id": "did:example:1",
                                                                            "alumniOf": "示例大学"}})
    assert r.status_code == 201, r.text
    signed = r.json()["verifiableCredential"]
    assert verify(world, signed).status_code == 200
    changed = copy.deepcopy(signed)
    changed["@context"][1]["alumniOf"] = "https://example.org/other"  # the same words, another meaning
    assert verify(world, changed).json()["results"]["verdict"] == "tampered"


INLINE_REFUSED = [
    ({"@import": "https://www.w3.org/ns/credentials/v2"}, "unsupported_context"),
    ({"x": {"@id": "https://example.org/x", "@context": "https://evil.example/ctx"}}, "unknown_context"),
    ({"issuer": "https://example.org/not-the-issuer"}, "protected_term"),
    ({"VerifiableCredential": "https://example.org/#BadVerifiableCredential"}, "protected_term"),
    ({f"t{i}": f"https://example.org/{i}" for i in range(3000)}, "input_too_large"),
    ({"a": {"@context": {"b": {"@context": {"c": {"@context": {"d": {"@context": {"e": {"@context": {"f": {
        "@context": {"g": {"@context": {"h": "https://example.org/h"}}}}}}}}}}}}}}}, "input_too_large"),
]


def test_inline_contexts_outside_the_bounds_are_refused(world: World, token: dict[str, str]) -> None:
    for ctx, code in INLINE_REFUSED:
        r = issue(world, token, {**vc(), "@context": [V2, EXAMPLES, ctx]})
        assert r.status_code in (400, 413) and r.json()["code"] == code, (ctx, r.text)
    assert count(world, IssuedCredential) == 0


# ------------------------------------------------------------------ 3. the fast path falls back


def test_a_direction_and_a_language_issue_and_verify(world: World, token: dict[str, str]) -> None:
    for text in ("Alice", "Bob"):  # the second takes the template path, if any
        r = issue(world, token, {**vc(), "name": {"@value": text, "@language": "en", "@direction": "ltr"}})
        assert r.status_code == 201, r.text
        assert verify(world, r.json()["verifiableCredential"]).status_code == 200


# ------------------------------------------------------------------ 4. what must be refused

RR = "https://www.w3.org/ns/credentials/v2"
SRI = "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"


FORBIDDEN = [
    ({"credentialSchema": {"id": "https://example.org/schema.json"}}, "missing_type"),
    ({"refreshService": {"id": "https://example.org/refresh"}}, "missing_type"),
    ({"termsOfUse": {"id": "https://example.org/tou"}}, "missing_type"),
    ({"evidence": {"id": "https://example.org/evidence"}}, "missing_type"),
    ({"credentialStatus": {"id": "https://example.org/status#1"}}, "missing_type"),
    ({"relatedResource": [RR]}, "invalid_related_resource"),
    ({"relatedResource": [{"digestSRI": SRI}]}, "invalid_related_resource"),
    ({"relatedResource": [{"id": RR, "digestSRI": SRI}, {"id": RR, "digestSRI": SRI}]}, "invalid_related_resource"),
    ({"relatedResource": [{"id": RR}]}, "invalid_related_resource"),
    ({"relatedResource": [{"id": RR, "digestMultibase": "uM4RgWQc3RUDtjJCSgTJtTfvpZ7SPEg_LNO0ESlovQC0"}]},
     "digest_mismatch"),
    ({"relatedResource": [{"id": RR, "digestSRI": "sha384-" + "A" * 64}]}, "digest_mismatch"),
    ({"relatedResource": [{"id": RR, "digestSRI": "sha384-_rCVIV7fSXXTNIvpiq26jRDyj8JG8TDjij-tD0ewLk4JpnXEz6a5AeeY_1qQ"
                                                  "0d0P"}]}, "invalid_digest"),
    ({"id": "not a url"}, "invalid_id"),
    ({"id": ["urn:uuid:1", "urn:uuid:2"]}, "invalid_id"),
    ({"issuer": None}, "invalid_issuer"),
    ({"issuer": "not a url"}, "wrong_issuer"),
    ({"issuer": {"id": None}}, "wrong_issuer"),
    ({"credentialSubject": {"id": "not a url"}}, "invalid_subject"),
]


def test_what_the_data_model_forbids_is_refused(world: World, token: dict[str, str]) -> None:
    for extra, code in FORBIDDEN:
        r = issue(world, token, vc(**extra))
        assert r.status_code == 400 and r.json()["code"] == code, (extra, r.text)
    assert count(world, IssuedCredential) == 0


def test_related_resources_with_a_digest_of_what_we_hold_are_issued(world: World, token: dict[str, str]) -> None:
    import base64
    import hashlib

    from schemas.loader import context_bytes

    held = context_bytes(RR)
    ours = "sha384-" + base64.b64encode(hashlib.sha384(held).digest()).decode()
    multibase = "u" + base64.urlsafe_b64encode(b"\x12\x20" + hashlib.sha256(held).digest()).decode().rstrip("=")
    for rr in ({"id": RR, "digestSRI": ours}, {"id": RR, "digestMultibase": multibase},
               {"id": "https://example.org/not-held", "digestSRI": "sha256-" + "A" * 43 + "="}):
        r = issue(world, token, vc(relatedResource=[rr]))
        assert r.status_code == 201, r.text


# ------------------------------------------------------------------ 5. VC 1.1


def test_a_vc_1_1_credential_gets_the_data_integrity_context_and_verifies(world: World,
                                                                          token: dict[str, str]) -> None:
    cred = {"@context": [V1], "type": ["VerifiableCredential"], "issuer": DID,
            "credentialSubject": {"id": "did:example:holder"}}
    r = issue(world, token, cred)
    assert r.status_code == 201, r.text
    signed = r.json()["verifiableCredential"]
    assert signed["@context"] == [V1, "https://w3id.org/security/data-integrity/v2"]
    assert "issuanceDate" in signed
    assert verify(world, signed).status_code == 200


# ------------------------------------------------------------------ 6. issuer instances, cryptosuites


def test_a_did_key_instance_issues_at_its_endpoint_and_by_issuer(world: World, token: dict[str, str],
                                                                 didkey: str) -> None:
    own = issue(world, token, {k: v for k, v in vc().items() if k != "issuer"},
                path="/issuers/conformance/credentials/issue")
    assert own.status_code == 201, own.text
    signed = own.json()["verifiableCredential"]
    assert signed["issuer"] == didkey and signed["proof"]["verificationMethod"].startswith(didkey + "#z6Mk")
    assert verify(world, signed).status_code == 200
    by_issuer = issue(world, token, vc(issuer=didkey))
    assert by_issuer.status_code == 201
    assert by_issuer.json()["verifiableCredential"]["proof"]["verificationMethod"].startswith(didkey)
    wrong = issue(world, token, vc(), path="/issuers/conformance/credentials/issue")
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_issuer"
    assert issue(world, token, vc(), path="/issuers/nobody/credentials/issue").status_code == 404


def test_a_did_key_instance_keeps_status_lists_of_its_own(world: World, token: dict[str, str], didkey: str) -> None:
    r = issue(world, token, vc(issuer=didkey), {"credentialStatus": {"type": "BitstringStatusListEntry"}})
    assert r.status_code == 201, r.text
    signed = r.json()["verifiableCredential"]
    url = signed["credentialStatus"][0]["statusListCredential"]
    assert url.endswith("/status/conformancerevocation-1")
    lst = world.client.get(url.replace("http://testserver", ""))
    assert lst.status_code == 200 and lst.json()["issuer"] == didkey
    ok = world.client.post("/credentials/verify", json={"verifiableCredential": signed,
                                                        "options": {"checks": ["proof", "credentialStatus"]}})
    assert ok.status_code == 200, ok.text
    named = issue(world, token, vc(issuer=didkey, id="urn:uuid:7d1c6c26-0000-4000-8000-00000000aaaa"),
                  {"credentialStatus": {"type": "BitstringStatusListEntry"}}).json()["verifiableCredential"]
    assert world.client.post("/credentials/status", headers=token, json={
        "credentialId": named["id"], "credentialStatus": {"type": "BitstringStatusListEntry",
                                                          "statusPurpose": "revocation"},
        "status": True}).status_code == 200
    revoked = world.client.post("/credentials/verify", json={"verifiableCredential": named})
    assert revoked.status_code == 422 and revoked.json()["results"]["verdict"] == "revoked"


def test_eddsa_jcs_2022_when_options_ask(world: World, token: dict[str, str], didkey: str) -> None:
    r = issue(world, token, vc(issuer=didkey), {"cryptosuite": "eddsa-jcs-2022"})
    assert r.status_code == 201, r.text
    signed = r.json()["verifiableCredential"]
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022" and signed["proof"]["@context"] == signed["@context"]
    assert verify(world, signed).status_code == 200
    bad = issue(world, token, vc(), {"cryptosuite": "ecdsa-rdfc-2019"})
    assert bad.status_code == 400 and bad.json()["code"] == "unsupported_cryptosuite"


# ------------------------------------------------------------------ 7. caller-supplied credentialStatus


def test_a_callers_status_entry_is_signed_as_given(world: World, token: dict[str, str]) -> None:
    entry = {"id": "https://example.org/status/3#94567", "type": "BitstringStatusListEntry",
             "statusPurpose": "revocation", "statusListIndex": "94567",
             "statusListCredential": "https://example.org/status/3"}
    r = issue(world, token, vc(credentialStatus=entry))
    assert r.status_code == 201, r.text
    assert r.json()["verifiableCredential"]["credentialStatus"] == entry
    plain = issue(world, token, vc(name="no status asked"))
    assert "credentialStatus" not in plain.json()["verifiableCredential"]  # allocated only when asked


# ------------------------------------------------------------------ I-JSON


NOT_IJSON = [
    '{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/'
    'examples/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:1", "name": '
    '"\\ud800"}}}',
    '{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/'
    'examples/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:1", "age": '
    '9007199254740993}}}',
    '{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/'
    'examples/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:1", "age": '
    'NaN}}}',
]


def test_only_i_json_is_signed(world: World, token: dict[str, str]) -> None:
    for raw in NOT_IJSON:
        r = world.client.post("/credentials/issue", content=raw.encode(),
                              headers={**token, "Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] in ("not_ijson", "malformed_json", "invalid_unicode"), r.text
        assert "integer" in r.json()["detail"] or "surrogate" in r.json()["detail"] or "NaN" in r.json()["detail"]
    assert count(world, IssuedCredential) == 0


# ------------------------------------------------------------------ verdicts of the verify endpoints


def test_the_verify_endpoint_says_unreadable_unsupported_or_tampered_truly(world: World,
                                                                          token: dict[str, str]) -> None:
    signed = issue(world, token, vc()).json()["verifiableCredential"]
    not_json = world.client.post("/credentials/verify", content=b"{not json",
                                 headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["results"]["verdict"] == "unreadable"
    control = copy.deepcopy(signed)
    control["credentialSubject"]["name"] = "张\x01三"
    assert verify(world, control).json()["results"]["verdict"] == "unreadable"
    unknown = copy.deepcopy(signed)
    unknown["@context"] = [*unknown["@context"], "https://example.org/unknown-context"]
    r = verify(world, unknown)
    assert r.status_code == 400 and r.json()["results"]["verdict"] == "unsupported"
    suite = copy.deepcopy(signed)
    suite["proof"]["cryptosuite"] = "ecdsa-rdfc-2019"
    r = verify(world, suite)
    assert r.status_code == 400 and r.json()["results"]["verdict"] == "unsupported"
    forged = copy.deepcopy(signed)
    forged["credentialSubject"]["name"] = "李四"
    r = verify(world, forged)
    assert r.status_code == 422 and r.json()["results"]["verdict"] == "tampered"
    vp = {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": [unknown]}
    r = world.client.post("/presentations/verify", json={"verifiablePresentation": vp})
    assert r.status_code == 422 and r.json()["results"]["credentials"][0]["verdict"] == "unsupported"
