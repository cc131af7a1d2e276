"""Publication: the did:web DID document and JWKS list every key with its state, and read back."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jwcrypto.jwk import JWKSet
from nacl.pwhash import argon2id

from keys.did import DidResolver
from keys.errors import UnresolvableDid, WrongController
from keys.jwk import public_jwk
from keys.material import PublicKey, SigningKey
from keys.publish import build_did_document, build_jwks, verification_method, write_published
from keys.state import KeyRecord, KeyState, judge_signature_time, retire, revoke
from keys.store import KeyStore

DID = "did:web:hrss.example.gov.cn"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
COMPROMISE = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
K1, K2, K3 = (SigningKey.generate() for _ in range(3))


def records() -> list[KeyRecord]:
    def new(fragment: str, key: SigningKey) -> KeyRecord:
        return KeyRecord(f"{DID}#{fragment}", DID, key.public_key.multibase, KeyState.ACTIVE, created_at=T0)

    one = revoke(new("key-1", K1), COMPROMISE, COMPROMISE + timedelta(days=1), "leaked")
    two = retire(new("key-2", K2), COMPROMISE)
    return [one, two, new("key-3", K3)]


def test_did_document_lists_every_key_with_its_state() -> None:
    assert build_did_document(DID, records()) == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1",
                     "https://w3id.org/titlecred/v1"],
        "id": DID,
        "verificationMethod": [
            {"id": f"{DID}#key-1", "type": "Multikey", "controller": DID,
             "publicKeyMultibase": K1.public_key.multibase, "keyState": "revoked",
             "revoked": "2025-06-01T12:00:00Z"},
            {"id": f"{DID}#key-2", "type": "Multikey", "controller": DID,
             "publicKeyMultibase": K2.public_key.multibase, "keyState": "retired"},
            {"id": f"{DID}#key-3", "type": "Multikey", "controller": DID,
             "publicKeyMultibase": K3.public_key.multibase, "keyState": "active"},
        ],
        "assertionMethod": [f"{DID}#key-2", f"{DID}#key-3"],
    }


def test_revoked_key_is_never_an_assertion_method_and_retired_stays() -> None:
    doc = build_did_document(DID, records())
    assert f"{DID}#key-1" not in doc["assertionMethod"]
    assert f"{DID}#key-2" in doc["assertionMethod"]


def test_only_revoked_methods_carry_revoked() -> None:
    assert [("revoked" in verification_method(r)) for r in records()] == [True, False, False]


def test_jwks_lists_every_key_with_its_state() -> None:
    jwks = build_jwks(DID, records())
    assert jwks == {"keys": [
        {**public_jwk(K1.public_key, f"{DID}#key-1"), "key_ops": [], "key_state": "revoked",
         "revoked": "2025-06-01T12:00:00Z"},
        {**public_jwk(K2.public_key, f"{DID}#key-2"), "use": "sig", "alg": "EdDSA", "key_state": "retired"},
        {**public_jwk(K3.public_key, f"{DID}#key-3"), "use": "sig", "alg": "EdDSA", "key_state": "active"},
    ]}
    assert not [k for k in jwks["keys"] if "d" in k]


def test_jwks_is_a_valid_jose_key_set() -> None:
    keyset = JWKSet.from_json(json.dumps(build_jwks(DID, records())))
    assert len(keyset["keys"]) == 3
    assert all(not k.has_private for k in keyset["keys"])


@pytest.mark.parametrize("build", [build_did_document, build_jwks])
def test_keys_of_another_controller_are_refused(build: Any) -> None:
    other = KeyRecord("did:web:other.example#key-1", "did:web:other.example", K1.public_key.multibase,
                      KeyState.ACTIVE)
    with pytest.raises(WrongController):
        build(DID, [other])
    with pytest.raises(UnresolvableDid):
        build("did:web:not a domain", [])


@pytest.mark.parametrize("source", ["did", "jwks", "both"])
def test_resolver_reads_back_state_and_compromise_time(source: str) -> None:
    docs = {"did": [build_did_document(DID, records())], "jwks": [build_jwks(DID, records())],
            "both": [build_did_document(DID, records()), build_jwks(DID, records())]}[source]
    resolver = DidResolver(docs)
    assert resolver.has_document_for(DID)
    for record, key in zip(records(), (K1, K2, K3), strict=True):
        method = resolver.resolve_verification_method(record.key_id)
        assert method.public_key == key.public_key
        assert method.controller == DID
        assert method.state is record.state
        assert method.compromised_at == record.compromised_at
        assert ("assertionMethod" in method.relationships) == (record.state is not KeyState.REVOKED)


def test_write_published_writes_both_files(tmp_path: Path) -> None:
    out = tmp_path / "site" / ".well-known"
    did_path, jwks_path = write_published(out, DID, records())
    assert (did_path, jwks_path) == (out / "did.json", out / "jwks.json")
    assert json.loads(did_path.read_text("utf-8")) == build_did_document(DID, records())
    assert json.loads(jwks_path.read_text("utf-8")) == build_jwks(DID, records())
    for p in (did_path, jwks_path):
        assert stat.S_IMODE(p.stat().st_mode) == 0o644  # public documents
    assert sorted(p.name for p in out.iterdir()) == ["did.json", "jwks.json"]


def test_keystore_to_published_documents_to_verification(tmp_path: Path) -> None:
    """The whole path: keys made and rotated and one revoked in a store, published, resolved, judged."""
    now = [datetime(2025, 1, 1, tzinfo=UTC)]
    store = KeyStore(tmp_path / "ks", "passphrase", opslimit=argon2id.OPSLIMIT_MIN,
                     memlimit=argon2id.MEMLIMIT_MIN, clock=lambda: now[0])
    store.generate(DID)
    old_signature = store.signer().sign(b"old credential")
    now[0] += timedelta(days=100)
    store.rotate()
    now[0] += timedelta(days=10)
    store.revoke(f"{DID}#key-1", now[0] - timedelta(days=5), "backup tape stolen")
    new_signature = store.signer().sign(b"new credential")

    did_path, jwks_path = write_published(tmp_path / "pub", DID, store.list())
    for path in (did_path, jwks_path):
        resolver = DidResolver([json.loads(path.read_text("utf-8"))])
        one = resolver.resolve_verification_method(f"{DID}#key-1")
        two = resolver.resolve_verification_method(f"{DID}#key-2", purpose="assertionMethod")
        assert one.public_key.verify(b"old credential", old_signature)
        assert one.state is KeyState.REVOKED
        assert judge_signature_time(one.record, datetime(2025, 1, 1, tzinfo=UTC)).needs_evidence
        assert two.public_key.verify(b"new credential", new_signature)
        assert judge_signature_time(two.record, now[0]).ok
        assert PublicKey.from_multibase(store.active().public_key_multibase) == two.public_key
