"""Hostile inputs an attacker would send, built in the tests (no binary fixtures)."""

from __future__ import annotations

from typing import Any

from keys.did import did_key_from_public
from keys.material import SigningKey
from keys.multikey import multibase_b58_encode

_SIGNER = SigningKey.generate()
DID_KEY = did_key_from_public(_SIGNER.public_key)


def poison_credential(nodes: int = 10) -> dict[str, Any]:
    """A credential whose blank nodes form a clique (the shape of the W3C rdf-canon poison graph).

    Its proof names a key that resolves offline (any did:key), so the verifier must canonicalize it
    before it can find the signature wrong: RDFC-1.0 without a work limit runs for hours on it.
    """
    knows = "https://example.org/vocab#knows"
    subjects = [{"id": f"_:n{i}", knows: [{"id": f"_:n{j}"} for j in range(nodes) if j != i]} for i in range(nodes)]
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": DID_KEY,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": subjects,
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-01-01T00:00:00Z",
            "verificationMethod": f"{DID_KEY}#{DID_KEY.removeprefix('did:key:')}",
            "proofPurpose": "assertionMethod",
            "proofValue": multibase_b58_encode(_SIGNER.sign(b"not this document")),
        },
    }


def valid_credential() -> dict[str, Any]:
    """A small credential correctly signed by a did:key issuer (verifies wherever any issuer is trusted)."""
    from issuer.sign import IssuerKey, sign_document

    doc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
           "issuer": DID_KEY, "validFrom": "2026-01-01T00:00:00Z",
           "credentialSubject": {"id": "did:example:holder", "name": "张三"}}
    key = IssuerKey(f"{DID_KEY}#{DID_KEY.removeprefix('did:key:')}", _SIGNER.sign)
    return sign_document(doc, key, created="2026-01-01T00:00:00Z")
