"""Our credentials in an independent implementation, and theirs in ours.

Digital Bazaar's vc.js (tests/interop, strict default mode: safe-mode canonicalization, the issuer
must control the key, the key must be an assertionMethod of its DID document) verifies what we
issue, and our verifier accepts what vc.js signs. Skips, saying why, only where Node.js is absent.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from core_support import DID, make_bureau
from interop import vcjs
from keys.material import SigningKey
from keys.multikey import encode_secret_multikey
from schemas.loader import bundled_contexts
from verifier.verify import verify_credential

NOW = "2026-11-20T00:00:00Z"

pytestmark = pytest.mark.skipif(not vcjs.node_available(), reason=f"Node.js not found: {vcjs.node_missing_reason()}")

SEED = bytes(range(32))


@pytest.fixture(scope="module")
def bureau() -> Any:
    return make_bureau(SigningKey.from_seed(SEED))


def _documents(bureau: Any) -> dict[str, Any]:
    return {**bundled_contexts(), DID: bureau.did_document()}


def test_vcjs_verifies_our_full_and_minimal_credentials(bureau: Any) -> None:
    pair = bureau.issue(annotations=["自主评审"], scopeOfUse="仅限非公有制经济组织内有效", name="王𠀾𪚥")
    docs = _documents(bureau)
    answers = vcjs.vcjs_batch([{"op": "verify", "credential": c, "documents": docs, "now": NOW}
                               for c in (pair.full, pair.minimal)])
    for answer in answers:
        assert answer["verified"] is True, answer.get("error")


def test_vcjs_rejects_our_credential_when_one_fact_changes(bureau: Any) -> None:
    pair = bureau.issue()
    forged = copy.deepcopy(pair.full)
    forged["credentialSubject"]["level"] = "正高级"
    answer = vcjs.vcjs_verify(forged, _documents(bureau), now=NOW)
    assert answer["verified"] is False


def test_vcjs_rejects_a_revoked_key_removed_from_assertion_method(bureau: Any) -> None:
    from dataclasses import replace

    from keys.state import KeyState

    pair = bureau.issue()
    revoked = replace(bureau.record, state=KeyState.REVOKED, revoked_at=datetime(2026, 11, 2, tzinfo=UTC),
                      compromised_at=datetime(2026, 10, 1, tzinfo=UTC), revocation_reason="leaked")
    docs = {**bundled_contexts(), DID: bureau.did_document([revoked])}
    assert vcjs.vcjs_verify(pair.full, docs, now=NOW)["verified"] is False


def test_our_verifier_accepts_what_vcjs_signs(bureau: Any) -> None:
    pair = bureau.issue()
    unsigned = {k: v for k, v in pair.full.items() if k != "proof"}
    answer = vcjs.vcjs_sign(unsigned, encode_secret_multikey(SEED), bureau.key.public_key.multibase,
                            bureau.record.key_id, DID, "2026-11-01T08:00:00Z", _documents(bureau))
    assert answer.get("signed"), answer.get("error")
    theirs = answer["signed"]
    result = verify_credential(theirs, bureau.policy(now=datetime(2026, 11, 20, tzinfo=UTC)))
    assert result.verified, result.to_json()
    # Same key, same document, same created: the same proof, byte for byte (Ed25519 is deterministic).
    from issuer.sign import sign_document

    ours = sign_document(unsigned, bureau.issuer_key, created="2026-11-01T08:00:00Z")
    assert ours == theirs


def test_control_characters_are_escaped_as_rdfc_prescribes(bureau: Any) -> None:
    """Canonical N-Quads escape \\b, \\f and other controls; pyld alone does not. Both sides must agree."""
    from issuer.sign import sign_document

    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:1d6b9b1e-3c55-4d4e-9a54-0c2b8e7a1f00",
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "validFrom": "2026-11-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:1", "name": "tab\there\nnew\rline \"quoted\" back\\slash"},
    }
    signed = sign_document(doc, bureau.issuer_key, created="2026-11-01T08:00:00Z")
    assert vcjs.vcjs_verify(signed, _documents(bureau), now=NOW)["verified"] is True


def test_vcjs_verifies_what_a_did_key_instance_signs_with_inline_contexts_and_vc_1_1() -> None:
    """What the VC API now accepts (issue 14) verifies in vc.js too: an inline context, a VC 1.1 credential
    with the Data Integrity context added, keyword values (@language, @direction), a did:key issuer."""
    from issuer.sign import IssuerKey, sign_document
    from keys.did import did_key_document, did_key_from_public

    key = SigningKey.from_seed(bytes(range(1, 33)))
    did = did_key_from_public(key.public_key)
    signer = IssuerKey(f"{did}#{did.removeprefix('did:key:')}", key.sign)
    inline = {"@context": ["https://www.w3.org/ns/credentials/v2",
                           {"@vocab": "https://example.org/vocab#", "alumniOf": "https://schema.org/alumniOf"}],
              "type": ["VerifiableCredential"], "issuer": did, "validFrom": "2026-01-01T00:00:00Z",
              "name": {"@value": "校友证明", "@language": "zh", "@direction": "ltr"},
              "credentialSubject": {"id": "did:example:1", "alumniOf": "示例大学"}}
    v11 = {"@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/security/data-integrity/v2"],
           "type": ["VerifiableCredential"], "issuer": did, "issuanceDate": "2026-01-01T00:00:00Z",
           "credentialSubject": {"id": "did:example:1"}}
    # A base direction is signed as an i18n datatype (rdfDirection "i18n-datatype", language lowercased),
    # as vc.js's cryptosuite canonizes it; without it the direction would be unsigned.
    directed = {**v11, "@context": ["https://www.w3.org/ns/credentials/v2"], "issuanceDate": None,
                "name": {"@value": "証明", "@language": "zh-Hant-TW", "@direction": "rtl"},
                "description": {"@value": "plain", "@direction": "ltr"}}
    del directed["issuanceDate"]
    docs = {**bundled_contexts(), did: did_key_document(did)}
    for doc in (v11, inline, directed):
        signed = sign_document(doc, signer, created="2026-01-01T00:00:00Z")
        answer = vcjs.vcjs_verify(signed, docs, now=NOW)
        assert answer["verified"] is True, (answer.get("error"), signed)
