"""Verification: a policy in, every check with its reason out."""

from __future__ import annotations

import copy
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core_support import DID, make_bureau
from issuer.sign import IssuerKey, sign_document
from keys.did import DidResolver
from keys.material import SigningKey
from keys.state import KeyState
from schemas import bitstring
from verifier.policy import IssuanceEvidence, Policy
from verifier.status import StaticStatusSource
from verifier.verify import verify_credential

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def names(result: Any) -> dict[str, str]:
    return {c.name: c.outcome for c in result.checks}


@pytest.fixture(scope="module")
def bureau() -> Any:
    return make_bureau()


@pytest.fixture(scope="module")
def pair(bureau: Any) -> Any:
    return bureau.issue()


@pytest.mark.parametrize("form", ["full", "minimal"])
def test_issued_credentials_verify(bureau: Any, pair: Any, form: str) -> None:
    result = verify_credential(getattr(pair, form), bureau.policy(now=NOW))
    assert result.verified, result.to_json()
    assert result.verdict == "valid"
    assert names(result) == {"shape": "passed", "contexts": "passed", "schema": "passed", "proof": "passed",
                             "key": "passed", "issuer": "passed", "validity": "passed", "status": "skipped"}


def _leaves(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in _leaves(v, (*path, k))]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in _leaves(v, (*path, i))]
    return [path]


def _mutate(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, str):
        return value[:-1] + ("X" if value[-1:] != "X" else "Y") if value else "X"
    return value


def test_changing_any_single_value_fails_verification(bureau: Any, pair: Any) -> None:
    policy = bureau.policy(now=NOW)
    leaves = [p for p in _leaves(pair.full) if p[0] != "proof" or p[1] == "proofValue"]
    assert len(leaves) > 20
    for path in leaves:
        doc = copy.deepcopy(pair.full)
        node = doc
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = _mutate(node[path[-1]])
        result = verify_credential(doc, policy)
        assert not result.verified, f"changing {path} went unnoticed"


@pytest.mark.parametrize("field", ["name", "idNumber", "qualification", "level", "dateQualified",
                                   "certificateNumber", "reviewBody"])
def test_a_changed_fact_is_reported_against_the_proof(bureau: Any, pair: Any, field: str) -> None:
    doc = copy.deepcopy(pair.full)
    subject = doc["credentialSubject"]
    subject[field] = {"name": "张晓明", "idNumber": "11010519491231002X", "qualification": "正高级工程师",
                      "level": "正高级", "dateQualified": "2020-10-28", "certificateNumber": "B2024110100002",
                      "reviewBody": "另一个评审委员会"}[field]
    result = verify_credential(doc, bureau.policy(now=NOW))
    assert not result.verified
    proof = result.check("proof")
    if proof is not None and proof.outcome == "failed":
        assert "proof" in proof.reason
    else:  # a level changed without its letter is caught by the schema first; the proof still fails
        assert result.check("schema").outcome == "failed"
    assert result.verdict in ("tampered", "invalid")


def test_unknown_context_is_refused_without_network(bureau: Any, pair: Any) -> None:
    doc = copy.deepcopy(pair.full)
    doc["@context"] = [*doc["@context"], "https://evil.example/context.jsonld"]
    started = time.perf_counter()
    result = verify_credential(doc, bureau.policy(now=NOW))
    assert time.perf_counter() - started < 0.5
    assert not result.verified
    assert result.errors[0]["code"] == "unknown_context"
    assert "never fetches" in result.errors[0]["message"]


def test_an_inline_context_is_processed_and_one_that_changes_nothing_signed_keeps_the_proof(
        bureau: Any, pair: Any) -> None:
    # VC DM 2.0 allows inline contexts; one defining an unused term leaves the signed graph as it was
    # (the title credential's own JSON Schema still pins its contexts: that check is not ours here).
    doc = copy.deepcopy(pair.full)
    doc["@context"] = [*doc["@context"], {"foo": "https://example.org/foo"}]
    result = verify_credential(doc, bureau.policy(now=NOW))
    outcomes = {c.name: c.outcome for c in result.checks}
    assert outcomes["contexts"] == "passed" and outcomes["proof"] == "passed"


@pytest.mark.parametrize("ctx,code", [
    ({"@import": "https://www.w3.org/ns/credentials/v2"}, "unsupported_context"),
    ({"x": {"@id": "https://example.org/x", "@context": "https://evil.example/remote"}}, "unknown_context"),
    ({"credentialSubject": "https://example.org/subject"}, "protected_term"),
])
def test_an_inline_context_outside_the_bounds_is_unsupported(bureau: Any, pair: Any, ctx: Any, code: str) -> None:
    doc = copy.deepcopy(pair.full)
    doc["@context"] = [*doc["@context"], ctx]
    result = verify_credential(doc, bureau.policy(now=NOW))
    check = result.check("contexts")
    assert check is not None and check.code == code
    assert result.verdict == "unsupported" and not result.verified


def test_unknown_issuer_is_not_trusted(pair: Any) -> None:
    stranger = make_bureau()
    result = verify_credential(pair.full, stranger.policy(now=NOW))
    assert not result.verified
    assert result.verdict in ("unknown_issuer", "tampered")


def test_no_trust_material_means_nothing_verifies(pair: Any) -> None:
    result = verify_credential(pair.full, Policy(resolver=DidResolver([]), now=NOW))
    assert not result.verified
    assert result.check("key").outcome == "failed"
    assert result.verdict == "unknown_issuer"


def test_did_key_issuer_needs_explicit_trust() -> None:
    from keys.did import did_key_document

    key = SigningKey.generate()
    mb = key.public_key.multibase
    did = f"did:key:{mb}"
    bureau = make_bureau(key)
    doc = {k: v for k, v in bureau.issue().full.items() if k != "proof"}
    doc["issuer"] = {"id": did, "name": "测试"}
    signed = sign_document(doc, IssuerKey(f"{did}#{mb}", key.sign), created="2026-11-01T08:00:00Z")
    resolver = DidResolver([did_key_document(did)])
    untrusted = verify_credential(signed, Policy(resolver=DidResolver([]), now=NOW))
    assert not untrusted.verified and untrusted.check("issuer").code == "untrusted_issuer"
    trusted = verify_credential(signed, Policy(resolver=resolver, trusted_issuers=frozenset([did]), now=NOW))
    assert trusted.verified, trusted.to_json()


def test_issuer_must_control_the_signing_key(bureau: Any) -> None:
    other = make_bureau()
    doc = {k: v for k, v in bureau.issue().full.items() if k != "proof"}
    doc["issuer"] = {"id": "did:web:other.example.gov.cn", "name": "别的局"}
    signed = sign_document(doc, bureau.issuer_key, created="2026-11-01T08:00:00Z")
    policy = Policy(resolver=DidResolver([bureau.did_document()]),
                    trusted_issuers=frozenset(["did:web:other.example.gov.cn"]), now=NOW)
    result = verify_credential(signed, policy)
    assert not result.verified
    assert result.check("issuer").code == "issuer_mismatch"
    del other


def test_retired_key_still_verifies_old_certificates(bureau: Any, pair: Any) -> None:
    retired = replace(bureau.record, state=KeyState.RETIRED, retired_at=datetime(2026, 11, 10, tzinfo=UTC))
    result = verify_credential(pair.full, bureau.policy(now=NOW, records=[retired]))
    assert result.verified, result.to_json()
    assert "retired" in result.check("key").reason


def _revoked(bureau: Any, compromised: datetime) -> Any:
    return replace(bureau.record, state=KeyState.REVOKED, revoked_at=NOW, compromised_at=compromised,
                   revocation_reason="leaked")


def test_revoked_key_fails_what_it_signed_after_the_compromise(bureau: Any, pair: Any) -> None:
    rec = _revoked(bureau, datetime(2026, 10, 1, tzinfo=UTC))
    result = verify_credential(pair.full, bureau.policy(now=NOW, records=[rec]))
    assert not result.verified
    assert result.check("key").code == "key_revoked"


def test_revoked_key_before_compromise_needs_independent_evidence(bureau: Any, pair: Any) -> None:
    rec = _revoked(bureau, datetime(2026, 11, 15, tzinfo=UTC))
    # created says 2026-11-01, before the compromise, but the signer wrote that date itself.
    plain = verify_credential(pair.full, bureau.policy(now=NOW, records=[rec]))
    assert not plain.verified
    assert "evidence" in plain.check("key").reason

    def evidence(doc: dict[str, Any]) -> IssuanceEvidence | None:
        return IssuanceEvidence(datetime(2026, 11, 2, tzinfo=UTC), "audit log checkpoint #42 of 2026-11-02")

    backed = verify_credential(pair.full, bureau.policy(now=NOW, records=[rec], evidence=evidence))
    assert backed.verified, backed.to_json()
    assert "checkpoint #42" in backed.check("key").reason


def test_not_yet_valid_and_expired(bureau: Any, pair: Any) -> None:
    early = verify_credential(pair.full, bureau.policy(now=datetime(2026, 10, 1, tzinfo=UTC)))
    assert early.verdict == "not_yet_valid"
    doc = {k: v for k, v in pair.full.items() if k != "proof"}
    doc["validUntil"] = "2026-11-10T00:00:00Z"
    signed = sign_document(doc, bureau.issuer_key, created="2026-11-01T08:00:00Z")
    late = verify_credential(signed, bureau.policy(now=NOW))
    assert late.verdict == "expired"
    assert late.check("proof").outcome == "passed"


def _status_list(bureau: Any, url: str, purpose: str, set_index: int | None) -> dict[str, Any]:
    bits = bitstring.empty()
    if set_index is not None:
        bitstring.set_bit(bits, set_index, True)
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": DID,
        "validFrom": "2026-11-19T00:00:00Z",
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                              "encodedList": bitstring.encode(bits)},
    }
    return sign_document(doc, bureau.issuer_key, created="2026-11-19T00:00:00Z")


def _with_status(bureau: Any) -> Any:
    from core_support import record
    from issuer.record import parse_record
    from issuer.sign import issue_pair

    status = [
        {"id": "https://hrss.example.gov.cn/status/1#4321", "type": "BitstringStatusListEntry",
         "statusPurpose": "revocation", "statusListIndex": "4321",
         "statusListCredential": "https://hrss.example.gov.cn/status/1"},
        {"id": "https://hrss.example.gov.cn/status/2#777", "type": "BitstringStatusListEntry",
         "statusPurpose": "suspension", "statusListIndex": "777",
         "statusListCredential": "https://hrss.example.gov.cn/status/2"},
    ]
    return issue_pair(parse_record(record()), bureau.profile, bureau.issuer_key,
                      now=datetime(2026, 11, 1, 8, tzinfo=UTC), status=status)


@pytest.mark.parametrize(("revoked", "suspended", "verdict"), [
    (None, None, "valid"), (4321, None, "revoked"), (None, 777, "suspended"), (4322, 778, "valid")])
def test_status_list_decides_revoked_and_suspended(bureau: Any, revoked: Any, suspended: Any,
                                                   verdict: str) -> None:
    pair = _with_status(bureau)
    source = StaticStatusSource({
        "https://hrss.example.gov.cn/status/1": _status_list(bureau, "https://hrss.example.gov.cn/status/1",
                                                             "revocation", revoked),
        "https://hrss.example.gov.cn/status/2": _status_list(bureau, "https://hrss.example.gov.cn/status/2",
                                                             "suspension", suspended),
    }, as_of=NOW)
    for form in (pair.full, pair.minimal):
        result = verify_credential(form, bureau.policy(now=NOW, status=source))
        assert result.verdict == verdict, result.to_json()
        assert result.status == verdict


def test_revoked_certificate_fails_status_check(bureau: Any) -> None:
    pair = _with_status(bureau)
    source = StaticStatusSource({
        "https://hrss.example.gov.cn/status/1": _status_list(bureau, "https://hrss.example.gov.cn/status/1",
                                                             "revocation", 4321),
        "https://hrss.example.gov.cn/status/2": _status_list(bureau, "https://hrss.example.gov.cn/status/2",
                                                             "suspension", None),
    }, as_of=NOW)
    result = verify_credential(pair.full, bureau.policy(now=NOW, status=source))
    assert not result.verified
    assert result.check("proof").outcome == "passed"
    assert result.check("status").code == "revoked"
    assert "revoked" in result.check("status").reason


def test_unreachable_status_is_could_not_check_not_forgery(bureau: Any) -> None:
    pair = _with_status(bureau)
    result = verify_credential(pair.full, bureau.policy(now=NOW, status=StaticStatusSource(as_of=NOW)))
    assert not result.verified
    assert result.check("status").outcome == "indeterminate"
    assert result.verdict == "status_unknown"
    assert result.status == "unknown" and result.status_as_of == "2026-11-20T00:00:00Z"
    assert "could not check" in result.check("status").reason


def test_forged_status_list_does_not_count(bureau: Any) -> None:
    pair = _with_status(bureau)
    forger = make_bureau()
    source = StaticStatusSource({
        "https://hrss.example.gov.cn/status/1": _status_list(forger, "https://hrss.example.gov.cn/status/1",
                                                             "revocation", None),
        "https://hrss.example.gov.cn/status/2": _status_list(forger, "https://hrss.example.gov.cn/status/2",
                                                             "suspension", None),
    }, as_of=NOW)
    result = verify_credential(pair.full, bureau.policy(now=NOW, status=source))
    assert not result.verified
    assert result.check("status").outcome == "indeterminate"


def test_unsafe_skip_status_says_so(bureau: Any) -> None:
    pair = _with_status(bureau)
    result = verify_credential(pair.full, bureau.policy(now=NOW, unsafe_skip_status=True))
    assert result.verified
    assert result.warnings and "not checked" in result.warnings[0]


@pytest.mark.parametrize(("change", "code"), [
    ({"cryptosuite": "eddsa-2099"}, "unknown_cryptosuite"),
    ({"type": "Ed25519Signature2020"}, "unsupported_proof_type"),
    ({"proofValue": "z3yNdbsVV"}, "malformed_proof"),
    ({"proofValue": "not-multibase"}, "malformed_proof"),
    ({"created": "yesterday"}, "malformed_proof"),
    ({"proofPurpose": "authentication"}, "proof_purpose"),
    ({"verificationMethod": "did:web:hrss.example.gov.cn#key-9"}, "unknown_key"),
])
def test_malformed_proofs_fail_with_a_stable_code(bureau: Any, pair: Any, change: dict[str, str],
                                                  code: str) -> None:
    doc = copy.deepcopy(pair.full)
    doc["proof"].update(change)
    result = verify_credential(doc, bureau.policy(now=NOW))
    assert not result.verified
    assert result.check("proof").code == code, result.to_json()


@pytest.mark.parametrize(("doc", "code"), [
    ("not an object", "malformed_credential"),
    ({"a": [[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]}, "input_too_large"),
    ({"a": ["x"] * 5000}, "input_too_large"),
    ({"a": "\u0007"}, "control_character"),
])
def test_hostile_documents_are_refused_fast(bureau: Any, doc: Any, code: str) -> None:
    started = time.perf_counter()
    result = verify_credential(doc, bureau.policy(now=NOW))
    assert time.perf_counter() - started < 0.1
    assert result.errors[0]["code"] == code


def test_many_blank_nodes_are_refused_before_canonicalization(bureau: Any, pair: Any) -> None:
    doc = copy.deepcopy(pair.full)
    doc["credentialSubject"]["annotations"] = ["x"]
    doc["evidence"] = [{"description": str(i)} for i in range(60)]
    started = time.perf_counter()
    result = verify_credential(doc, bureau.policy(now=NOW))
    assert time.perf_counter() - started < 0.5
    assert not result.verified
    assert result.check("proof").code == "input_too_large"


def test_status_list_time_can_be_stale(bureau: Any) -> None:
    pair = _with_status(bureau)
    source = StaticStatusSource({
        "https://hrss.example.gov.cn/status/1": _status_list(bureau, "https://hrss.example.gov.cn/status/1",
                                                             "revocation", None),
        "https://hrss.example.gov.cn/status/2": _status_list(bureau, "https://hrss.example.gov.cn/status/2",
                                                             "suspension", None),
    }, as_of=NOW - timedelta(days=3))
    result = verify_credential(pair.full, bureau.policy(now=NOW, status=source, status_max_age=timedelta(days=1)))
    assert result.check("status").code == "status_stale"
    assert result.verdict == "status_unknown"


def test_a_published_key_of_the_wrong_length_fails_with_a_stable_code(bureau: Any, pair: Any) -> None:
    from keys.multikey import multibase_b58_encode

    doc = bureau.did_document()
    doc["verificationMethod"][0]["publicKeyMultibase"] = multibase_b58_encode(b"\xed\x01" + b"\x01" * 31)
    result = verify_credential(pair.full, Policy(resolver=DidResolver([doc]), now=NOW))
    assert not result.verified
    assert result.check("proof").code == "invalid_key_length", result.to_json()


def test_missing_context_is_named(bureau: Any, pair: Any) -> None:
    doc = copy.deepcopy(pair.full)
    del doc["@context"]
    result = verify_credential(doc, bureau.policy(now=NOW))
    assert result.errors[0]["code"] == "missing_context"
