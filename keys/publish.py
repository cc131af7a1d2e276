"""Publication of the issuer's public keys: its did:web DID document and a JWKS, with each key's state.

Every key is published, whatever its state, so that verifiers can tell "revoked" from "unknown":
- DID document: each key is a Multikey verification method with `keyState` (titlecred/v1 context) and,
  when revoked, `revoked` (multikey/v1 context) = its compromise time. `assertionMethod` lists the
  active and retired keys, never a revoked one: other verifiers (Digital Bazaar's) accept a proof only
  while its key is listed there, so retired keys stay to keep old credentials verifying, and a
  compromised key leaves.
- JWKS: `{kty, crv, x, kid: <full VM id>, use: "sig", alg: "EdDSA", key_state}`; a revoked key gets
  `revoked` and, instead of `use`/`alg`, `key_ops: []` (RFC 7517: no operation permitted), so that a
  plain JOSE library that ignores `key_state` is at least told not to verify with it.

keys.did.DidResolver reads both back. This module publishes public keys only and must never emit any
private parameter (there is none in a KeyRecord to emit).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from keys.did import DID_V1, MULTIKEY_V1, did_web_url
from keys.errors import WrongController
from keys.jwk import public_jwk
from keys.material import PublicKey
from keys.state import KeyRecord, KeyState, format_utc
from keys.store import atomic_write

TITLECRED_V1 = "https://w3id.org/titlecred/v1"
DID_DOCUMENT_CONTEXT = [DID_V1, MULTIKEY_V1, TITLECRED_V1]


def _checked(did: str, records: Iterable[KeyRecord]) -> list[KeyRecord]:
    did_web_url(did)  # a well-formed did:web, or UnresolvableDid
    out = list(records)
    for record in out:
        if record.controller != did:
            raise WrongController(f"key {record.key_id} belongs to {record.controller}, not {did}")
        PublicKey.from_multibase(record.public_key_multibase)  # publish only what decodes
    return out


def verification_method(record: KeyRecord) -> dict[str, Any]:
    """The Multikey verification method of one key, with its state."""
    vm: dict[str, Any] = {
        "id": record.key_id,
        "type": "Multikey",
        "controller": record.controller,
        "publicKeyMultibase": record.public_key_multibase,
        "keyState": record.state.value,
    }
    if record.state is KeyState.REVOKED:
        assert record.compromised_at is not None
        vm["revoked"] = format_utc(record.compromised_at)
    return vm


def build_did_document(did: str, records: Iterable[KeyRecord]) -> dict[str, Any]:
    """The did:web DID document of `did` listing every key of `records` (all must belong to `did`)."""
    keys = _checked(did, records)
    return {
        "@context": list(DID_DOCUMENT_CONTEXT),
        "id": did,
        "verificationMethod": [verification_method(r) for r in keys],
        "assertionMethod": [r.key_id for r in keys if r.state is not KeyState.REVOKED],
    }


def build_jwks(did: str, records: Iterable[KeyRecord]) -> dict[str, Any]:
    """The JWKS of every key of `records` (all must belong to `did`), with states."""
    entries = []
    for record in _checked(did, records):
        public = PublicKey.from_multibase(record.public_key_multibase)
        entry: dict[str, Any] = public_jwk(public, record.key_id)
        if record.state is KeyState.REVOKED:
            assert record.compromised_at is not None
            entry["key_ops"] = []
            entry["key_state"] = record.state.value
            entry["revoked"] = format_utc(record.compromised_at)
        else:
            entry["use"] = "sig"
            entry["alg"] = "EdDSA"
            entry["key_state"] = record.state.value
        entries.append(entry)
    return {"keys": entries}


def _dump(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_published(directory: Path, did: str, records: Iterable[KeyRecord]) -> tuple[Path, Path]:
    """Write `did.json` and `jwks.json` (mode 0644, atomically) into `directory`; return their paths."""
    keys = list(records)
    did_doc, jwks = build_did_document(did, keys), build_jwks(did, keys)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    did_path, jwks_path = directory / "did.json", directory / "jwks.json"
    atomic_write(did_path, _dump(did_doc), mode=0o644)
    atomic_write(jwks_path, _dump(jwks), mode=0o644)
    return did_path, jwks_path
