"""DID resolution: did:key offline, did:web URLs, and trusted DID documents / JWKS with key states."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keys.did import DidResolver, did_key_document, did_key_from_public, did_web_url
from keys.errors import (
    InvalidDidDocument,
    KeyNotAuthorized,
    KeyNotFound,
    UnresolvableDid,
    UnsupportedKeyType,
    WrongController,
)
from keys.jwk import public_jwk
from keys.material import SigningKey
from keys.multikey import multibase_b58_encode
from keys.state import KeyState, judge_signature_time

VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
VECTOR_VM = f"did:key:{VECTOR_PUBLIC}#{VECTOR_PUBLIC}"
DID = "did:web:hrss.example.gov.cn"
K1, K2, K3 = (SigningKey.generate() for _ in range(3))
COMPROMISE = "2025-06-01T12:00:00Z"
COMPROMISE_AT = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any attempt to open a connection or look up a name is recorded and refused."""
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise OSError("network access in a test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def document(*methods: dict[str, Any], assertion: list[Any] | None = None) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1",
                     "https://w3id.org/titlecred/v1"],
        "id": DID,
        "verificationMethod": list(methods),
        "assertionMethod": assertion if assertion is not None else [m["id"] for m in methods],
    }


def multikey(fragment: str, key: SigningKey, **extra: Any) -> dict[str, Any]:
    return {"id": f"{DID}#{fragment}", "type": "Multikey", "controller": DID,
            "publicKeyMultibase": key.public_key.multibase, **extra}


# ---------------------------------------------------------------- did:key


def test_did_key_document_equals_the_w3c_vector(vector_controller_document: dict[str, Any]) -> None:
    for given in (VECTOR_PUBLIC, f"did:key:{VECTOR_PUBLIC}", VECTOR_VM):
        assert did_key_document(given) == vector_controller_document


def test_did_key_document_refuses_other_keys_and_methods() -> None:
    with pytest.raises(UnsupportedKeyType):
        did_key_document(f"did:key:{VECTOR_SECRET}")
    with pytest.raises(UnsupportedKeyType):
        did_key_document("did:key:" + multibase_b58_encode(b"\xec\x01" + bytes(32)))
    with pytest.raises(UnresolvableDid):
        did_key_document(DID)
    with pytest.raises(KeyNotFound):
        did_key_document(f"did:key:{VECTOR_PUBLIC}#other")


def test_did_key_resolves_offline_for_assertions(no_network: list[str]) -> None:
    method = DidResolver().resolve_verification_method(VECTOR_VM, purpose="assertionMethod")
    assert method.vm_id == VECTOR_VM
    assert method.controller == f"did:key:{VECTOR_PUBLIC}"
    assert method.public_key.multibase == VECTOR_PUBLIC
    assert method.state is KeyState.ACTIVE and method.compromised_at is None
    assert {"assertionMethod", "authentication"} <= method.relationships
    assert method.source == "did:key"
    assert no_network == []


def test_did_key_of_a_public_key() -> None:
    assert did_key_from_public(SigningKey.from_secret_multibase(VECTOR_SECRET).public_key) == \
        f"did:key:{VECTOR_PUBLIC}"


def test_did_key_with_another_fragment_or_none_is_not_found() -> None:
    for vm in (f"did:key:{VECTOR_PUBLIC}#key-1", f"did:key:{VECTOR_PUBLIC}", "key-1", ""):
        with pytest.raises(KeyNotFound):
            DidResolver().resolve_verification_method(vm)


# ---------------------------------------------------------------- did:web URLs


@pytest.mark.parametrize("did, url", [
    ("did:web:example.com", "https://example.com/.well-known/did.json"),
    ("did:web:example.com:user:alice", "https://example.com/user/alice/did.json"),
    ("did:web:example.com%3A3000", "https://example.com:3000/.well-known/did.json"),
    ("did:web:example.com%3a3000:user:alice", "https://example.com:3000/user/alice/did.json"),
    ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
    ("did:web:hrss.example.gov.cn#key-1", "https://hrss.example.gov.cn/.well-known/did.json"),
])
def test_did_web_url_follows_the_did_web_spec(did: str, url: str) -> None:
    assert did_web_url(did) == url


@pytest.mark.parametrize("did", [
    "did:key:z6Mk", "did:web:", "did:web:exa mple.com", "did:web:example.com:..:etc",
    "did:web:example.com::a", "did:web:192.168.0.1", "did:web:example.com%3A99999",
    "did:web:example.com/path", "did:web:-bad.com", "did:web:example.com%2Fevil",
])
def test_malformed_did_web_is_unresolvable(did: str) -> None:
    with pytest.raises(UnresolvableDid) as e:
        did_web_url(did)
    assert e.value.code == "unresolvable_did"


# ---------------------------------------------------------------- offline did:web


def test_offline_resolver_refuses_an_unknown_did_web_without_network(no_network: list[str]) -> None:
    resolver = DidResolver([document(multikey("key-1", K1))])
    with pytest.raises(UnresolvableDid, match="online resolution is off"):
        resolver.resolve_verification_method("did:web:unknown.example.com#key-1")
    with pytest.raises(UnresolvableDid, match="online resolution is off"):
        DidResolver().resolve_verification_method(f"{DID}#key-1")
    assert no_network == []


def test_other_did_methods_are_unresolvable(no_network: list[str]) -> None:
    with pytest.raises(UnresolvableDid, match="only did:key and did:web"):
        DidResolver(online=True).resolve_verification_method("did:example:123#key-1")
    assert no_network == []


def test_trusted_document_beats_online_resolution(no_network: list[str]) -> None:
    resolver = DidResolver([document(multikey("key-1", K1))], online=True)
    assert resolver.resolve_verification_method(f"{DID}#key-1").public_key == K1.public_key
    with pytest.raises(KeyNotFound):  # the DID is known: a missing key is not fetched elsewhere
        resolver.resolve_verification_method(f"{DID}#key-9")
    assert no_network == []


# ---------------------------------------------------------------- trusted DID documents


def test_states_and_relationships_from_a_did_document() -> None:
    doc = document(
        multikey("key-1", K1, keyState="revoked", revoked=COMPROMISE),
        multikey("key-2", K2, keyState="retired"),
        multikey("key-3", K3, keyState="active"),
        assertion=[f"{DID}#key-2", "#key-3"],
    )
    resolver = DidResolver([doc])
    assert resolver.has_document_for(DID) and not resolver.has_document_for("did:web:other.example")
    one, two, three = (resolver.resolve_verification_method(f"{DID}#key-{i}") for i in (1, 2, 3))
    assert one.state is KeyState.REVOKED and one.compromised_at == COMPROMISE_AT
    assert one.relationships == frozenset()
    assert two.state is KeyState.RETIRED and two.relationships == {"assertionMethod"}
    assert three.state is KeyState.ACTIVE and three.relationships == {"assertionMethod"}
    assert three.controller == DID and three.record.key_id == f"{DID}#key-3"
    message = b"credential"
    assert three.public_key.verify(message, K3.sign(message))
    assert not three.public_key.verify(message, K2.sign(message))


def test_purpose_requires_the_relationship() -> None:
    resolver = DidResolver([document(multikey("key-1", K1), assertion=[])])
    assert resolver.resolve_verification_method(f"{DID}#key-1").relationships == frozenset()
    with pytest.raises(KeyNotAuthorized) as e:
        resolver.resolve_verification_method(f"{DID}#key-1", purpose="assertionMethod")
    assert e.value.code == "key_not_authorized"


def test_revoked_key_is_never_an_assertion_method_even_if_listed() -> None:
    doc = document(multikey("key-1", K1, keyState="revoked", revoked=COMPROMISE))
    assert doc["assertionMethod"] == [f"{DID}#key-1"]
    method = DidResolver([doc]).resolve_verification_method(f"{DID}#key-1")
    assert method.state is KeyState.REVOKED and "assertionMethod" not in method.relationships


def test_revoked_time_wins_over_a_contradicting_key_state() -> None:
    doc = document(multikey("key-1", K1, keyState="active", revoked="2025-06-01T20:00:00+08:00"))
    method = DidResolver([doc]).resolve_verification_method(f"{DID}#key-1")
    assert method.state is KeyState.REVOKED and method.compromised_at == COMPROMISE_AT


def test_revoked_state_without_time_counts_as_compromised_since_ever() -> None:
    doc = document(multikey("key-1", K1, keyState="revoked"))
    method = DidResolver([doc]).resolve_verification_method(f"{DID}#key-1")
    judgement = judge_signature_time(method.record, datetime(2000, 1, 1, tzinfo=UTC))
    assert not judgement.ok and not judgement.needs_evidence


@pytest.mark.parametrize("extra", [{"revoked": "yesterday"}, {"revoked": "2025-06-01T12:00:00"},
                                   {"keyState": "suspended"}])
def test_unreadable_state_is_an_error_never_active(extra: dict[str, Any]) -> None:
    with pytest.raises(InvalidDidDocument):
        DidResolver([document(multikey("key-1", K1, **extra))])


def test_judging_a_resolved_revoked_key() -> None:
    doc = document(multikey("key-1", K1, keyState="revoked", revoked=COMPROMISE))
    record = DidResolver([doc]).resolve_verification_method(f"{DID}#key-1").record
    assert judge_signature_time(record, COMPROMISE_AT - timedelta(days=1)).needs_evidence
    assert not judge_signature_time(record, COMPROMISE_AT).needs_evidence


def test_relative_ids_and_embedded_methods() -> None:
    doc = {
        "id": DID,
        "verificationMethod": [{"id": "#key-1", "type": "Multikey", "controller": DID,
                                "publicKeyMultibase": K1.public_key.multibase}],
        "assertionMethod": ["#key-1", {"id": "#key-2", "type": "Multikey", "controller": DID,
                                       "publicKeyMultibase": K2.public_key.multibase}],
        "authentication": ["#key-1"],
    }
    resolver = DidResolver([doc])
    assert resolver.resolve_verification_method(f"{DID}#key-1").relationships == \
        {"assertionMethod", "authentication"}
    assert resolver.resolve_verification_method(f"{DID}#key-2", "assertionMethod").public_key == K2.public_key


def test_json_web_key_methods_are_understood() -> None:
    vm = {"id": f"{DID}#jwk-1", "type": "JsonWebKey", "controller": DID,
          "publicKeyJwk": public_jwk(K1.public_key)}
    method = DidResolver([document(vm)]).resolve_verification_method(f"{DID}#jwk-1", "assertionMethod")
    assert method.public_key == K1.public_key


def test_unsupported_method_fails_alone() -> None:
    odd = {"id": f"{DID}#rsa", "type": "RsaVerificationKey2018", "controller": DID, "publicKeyPem": "..."}
    resolver = DidResolver([document(odd, multikey("key-1", K1))])
    with pytest.raises(UnsupportedKeyType):
        resolver.resolve_verification_method(f"{DID}#rsa")
    assert resolver.resolve_verification_method(f"{DID}#key-1").public_key == K1.public_key


def test_a_document_cannot_speak_for_another_did(no_network: list[str]) -> None:
    other = {"id": "did:web:evil.example#key-1", "type": "Multikey", "controller": "did:web:evil.example",
             "publicKeyMultibase": K1.public_key.multibase}
    foreign_controller = multikey("key-2", K2, controller="did:web:evil.example")
    resolver = DidResolver([document(other, foreign_controller)])
    with pytest.raises(WrongController):
        resolver.resolve_verification_method(f"{DID}#key-2")
    with pytest.raises(UnresolvableDid):
        resolver.resolve_verification_method("did:web:evil.example#key-1")
    assert not resolver.has_document_for("did:web:evil.example")
    # Nor can it spoil that DID's own document.
    theirs = {"id": "did:web:evil.example", "verificationMethod": [{**other, "publicKeyMultibase":
                                                                     K3.public_key.multibase}]}
    both = DidResolver([document(other), theirs])
    assert both.resolve_verification_method("did:web:evil.example#key-1").public_key == K3.public_key
    assert no_network == []


def test_unknown_key_of_a_known_did_is_not_found() -> None:
    with pytest.raises(KeyNotFound) as e:
        DidResolver([document(multikey("key-1", K1))]).resolve_verification_method(f"{DID}#key-2")
    assert e.value.code == "unknown_key"


@pytest.mark.parametrize("doc", [
    {"verificationMethod": []}, {"id": "example.com"}, {"id": DID, "verificationMethod": {}},
    {"id": DID, "assertionMethod": [42]}, {"id": DID, "verificationMethod": [{"type": "Multikey"}]},
])
def test_malformed_trusted_documents_are_refused(doc: dict[str, Any]) -> None:
    with pytest.raises(InvalidDidDocument) as e:
        DidResolver([doc])
    assert e.value.code == "invalid_did_document"


# ---------------------------------------------------------------- trusted JWKS


def jwk_entry(fragment: str, key: SigningKey, **extra: Any) -> dict[str, Any]:
    return {**public_jwk(key.public_key, f"{DID}#{fragment}"), **extra}


def test_states_from_a_jwks() -> None:
    jwks = {"keys": [
        jwk_entry("key-1", K1, key_ops=[], key_state="revoked", revoked=COMPROMISE),
        jwk_entry("key-2", K2, use="sig", alg="EdDSA", key_state="retired"),
        jwk_entry("key-3", K3, use="sig", alg="EdDSA", key_state="active"),
    ]}
    resolver = DidResolver([jwks])
    assert resolver.has_document_for(DID) and resolver.trusted_dids == {DID}
    one, two, three = (resolver.resolve_verification_method(f"{DID}#key-{i}") for i in (1, 2, 3))
    assert (one.state, one.compromised_at) == (KeyState.REVOKED, COMPROMISE_AT)
    assert one.relationships == frozenset()
    assert (two.state, two.relationships) == (KeyState.RETIRED, {"assertionMethod"})
    assert (three.state, three.relationships) == (KeyState.ACTIVE, {"assertionMethod"})
    assert three.source == "JWKS"


def test_jwks_key_not_for_signing_is_no_assertion_method() -> None:
    jwks = {"keys": [jwk_entry("enc", K1, use="enc"), jwk_entry("ops", K2, key_ops=["encrypt"])]}
    resolver = DidResolver([jwks])
    assert resolver.resolve_verification_method(f"{DID}#enc").relationships == frozenset()
    assert resolver.resolve_verification_method(f"{DID}#ops").relationships == frozenset()


def test_jwks_kid_must_be_a_verification_method_id() -> None:
    for kid in (None, "key-1", DID, f"{DID}#"):
        with pytest.raises(InvalidDidDocument):
            DidResolver([{"keys": [{**public_jwk(K1.public_key), "kid": kid}]}])


def test_private_jwk_in_a_jwks_is_refused() -> None:
    from jwcrypto.jwk import JWK

    private = JWK.generate(kty="OKP", crv="Ed25519").export_private(as_dict=True)
    resolver = DidResolver([{"keys": [{**private, "kid": f"{DID}#key-1"}]}])
    with pytest.raises(UnsupportedKeyType, match="private"):
        resolver.resolve_verification_method(f"{DID}#key-1")


def test_document_and_jwks_merge_to_the_most_severe_state() -> None:
    doc = document(multikey("key-1", K1, keyState="retired"))
    jwks = {"keys": [jwk_entry("key-1", K1, key_state="revoked", revoked=COMPROMISE)]}
    method = DidResolver([doc, jwks]).resolve_verification_method(f"{DID}#key-1")
    assert method.state is KeyState.REVOKED and method.compromised_at == COMPROMISE_AT
    assert method.relationships == frozenset()
    assert method.source == "DID document + JWKS"


def test_conflicting_public_keys_are_refused() -> None:
    doc = document(multikey("key-1", K1))
    jwks = {"keys": [jwk_entry("key-1", K2)]}
    with pytest.raises(InvalidDidDocument, match="different public keys"):
        DidResolver([doc, jwks])
