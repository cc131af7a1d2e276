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
