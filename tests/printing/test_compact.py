"""The compact signed form (TC1): lossless, small, and every alteration detected and explained."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import cbor2
import pytest
from certkit import BASE_URL, LONG_REVIEW_BODY, NOW, Bureau, id_number
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.compact import CompactFormError, compact_from_full, compact_from_minimal
from proofs import compact
from verifier.compact import decode_qr, verify_compact


def _unsigned(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "proof"}


STATUS = [
    {"id": f"https://hrss.example.gov.cn/status/{p}-1#{i}", "type": "BitstringStatusListEntry", "statusPurpose": p,
     "statusListIndex": str(i), "statusListCredential": f"https://hrss.example.gov.cn/status/{p}-1"}
    for p, i in (("revocation", 123456), ("suspension", 98765))
]


@pytest.mark.parametrize("name", ["senior_b", "senior_a", "intermediate", "assistant", "clerk", "rare_name",
                                  "long_review_body", "reissue", "self_review", "pinyin_fallback"])
def test_the_qr_rebuilds_exactly_the_minimal_credential(samples: dict, name: str) -> None:
    cert = samples[name]
    _, rebuilt = decode_qr(cert.qr_text)
    assert rebuilt == _unsigned(cert.pair.minimal)


def test_status_entries_round_trip_compactly(bureau: Bureau) -> None:
    pair = bureau.issue(status=STATUS)
    text = compact_from_minimal(pair.minimal, bureau.issuer_key, BASE_URL, now=NOW)
    parsed, rebuilt = decode_qr(text)
    assert rebuilt == _unsigned(pair.minimal)
    assert parsed.claims[8] == [[0, "/status/revocation-1", 123456, 0], [1, "/status/suspension-1", 98765, 0]]


def test_made_from_the_full_credential_the_qr_carries_the_masked_id_only(bureau: Bureau) -> None:
    pair = bureau.issue()
    text = compact_from_full(pair.full, bureau.issuer_key, BASE_URL, now=NOW)
    assert pair.full["credentialSubject"]["idNumber"] not in json.dumps(decode_qr(text)[1])
    rebuilt = decode_qr(text)[1]
    assert rebuilt["credentialSubject"]["idNumberMasked"] == "110***********0418"
    assert rebuilt == {k: v for k, v in _unsigned(pair.minimal).items() if k != "id"}


def test_a_full_id_number_is_never_made_compact(bureau: Bureau) -> None:
    pair = bureau.issue()
    with pytest.raises(CompactFormError) as caught:
        compact_from_minimal(pair.full, bureau.issuer_key, BASE_URL)
    assert caught.value.code == "not_compactable"


def test_an_unknown_field_is_refused_rather_than_dropped(bureau: Bureau) -> None:
    pair = bureau.issue()
    doc = _unsigned(pair.minimal)
    doc["credentialSubject"] = {**doc["credentialSubject"], "photo": "data:..."}
    with pytest.raises(compact.CompactError, match="photo"):
        compact.claims_from_credential(doc, bureau.vm)


def test_the_key_must_belong_to_the_issuer(bureau: Bureau) -> None:
    pair = bureau.issue()
    with pytest.raises(compact.CompactError):
        compact.claims_from_credential(pair.minimal, "did:web:other.example#key-1")


def test_the_qr_text_is_a_link_to_the_verification_page_with_the_payload_in_the_fragment(samples: dict) -> None:
    text = samples["senior_b"].qr_text
    assert text.startswith(f"{BASE_URL}/v#TC1:")
    payload = text.split("#", 1)[1]
    assert set(payload) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ$*+-./:")  # QR alphanumeric, URL-safe


@pytest.mark.parametrize(("name", "most"), [("senior_b", 14), ("long_review_body", 20), ("self_review", 15)])
def test_qr_versions_stay_printable(samples: dict, name: str, most: int) -> None:
    assert compact.qr_version_for(samples[name].qr_text) <= most


def test_the_longest_real_record_with_status_fits_version_20(bureau: Bureau) -> None:
    long_issuer = Bureau(key=bureau.key, name="中国石油天然气集团有限公司人力资源部（职称评审专用）")
    pair = long_issuer.issue(
        name="阿卜杜热合曼·买买提明·艾则孜", namePinyin="Abudureheman Maimaitiming Aizezi",
        idNumber=id_number("65010219800101001"), qualification="正高级工程师", level="正高级",
        reportingUnit="中国石油天然气股份有限公司长庆油田分公司第三采油厂党委组织部（人力资源科）",
        specialty="石油天然气地面工程建设与安全管理", reviewBody=LONG_REVIEW_BODY, reviewChannel="自主评审",
        certificateNumber="A20241101000000001", annotations=["自主评审"],
        scopeOfUse="仅限在民营企业范围内使用（非公有制经济组织）",
        reissueOf="urn:uuid:3f2b0c9e-5d4a-4c2b-9e8f-1a2b3c4d5e6f", status=STATUS)
    text = compact_from_minimal(pair.minimal, bureau.issuer_key, "https://zhicheng.hrss.shanxi.gov.cn", now=NOW)
    assert compact.qr_version_for(text) <= 20


def test_a_record_too_long_for_a_printable_qr_code_is_refused(bureau: Bureau) -> None:
    import random

    rng = random.Random(7)  # incompressible text: random ideographs

    def text(n: int) -> str:
        return "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(n))

    pair = bureau.issue(reviewBody=text(200), reportingUnit=text(200), specialty=text(100))
    with pytest.raises(CompactFormError) as caught:
        compact_from_minimal(pair.minimal, bureau.issuer_key, BASE_URL)
    assert caught.value.code == "qr_too_large"


def test_verifies_offline_against_the_published_key(samples: dict, policy) -> None:
    result = verify_compact(samples["senior_b"].qr_text, policy)
    assert result.verified, result.to_json()
    assert [c.name for c in result.checks] == ["shape", "proof", "key", "issuer", "validity", "status"]
    assert result.credential["credentialSubject"]["name"] == "李晓明"
    assert any("compare" in w for w in result.warnings)


@pytest.fixture(scope="module")
def qr_and_policy(samples: dict, policy) -> tuple:
    # One small argument for hypothesis (it prints its arguments when a case fails).
    return samples["senior_b"].qr_text, policy


def _flip(text: str, position: int) -> str:
    alphabet = compact.B43_ALPHABET
    char = text[position]
    return text[:position] + alphabet[(alphabet.index(char) + 1) % len(alphabet)] + text[position + 1:]


@settings(max_examples=60, deadline=None)
@given(position=st.integers(min_value=0, max_value=10_000))
def test_any_changed_character_of_the_payload_is_detected(qr_and_policy: tuple, position: int) -> None:
    text, policy = qr_and_policy
    start = text.index("TC1:") + 4
    altered = _flip(text, start + position % (len(text) - start))
    result = verify_compact(altered, policy)
    assert not result.verified
    # An altered kid names a key nobody published: to the reader that is an unknown issuer; a text that
    # no longer decodes cannot be read (nothing was checked, so nothing is called forged).
    assert result.verdict in ("tampered", "unknown_issuer", "unreadable", "unsupported")
    failed = next(c for c in result.checks if not c.ok)
    assert failed.reason  # explained


def test_changed_facts_re_encoded_without_the_key_fail_the_proof(samples: dict, policy) -> None:
    parsed, _ = decode_qr(samples["senior_b"].qr_text)
    claims = dict(parsed.claims)
    claims[9] = {**claims[9], 9: 1}  # 副高级 → 正高级
    payload = cbor2.dumps(claims, canonical=True)
    forged = cbor2.dumps(cbor2.CBORTag(18, [parsed.protected, {}, payload, parsed.signature]))
    text = compact.make_qr_text(BASE_URL, forged)
    result = verify_compact(text, policy)
    assert result.verdict == "tampered"
    proof = result.check("proof")
    assert proof is not None and not proof.ok and "does not match its content" in proof.reason
    assert result.credential["credentialSubject"]["level"] == "正高级"  # what the forger claims, shown as failed


def test_a_qr_signed_by_another_key_is_not_the_issuers(samples: dict, policy) -> None:
    stranger = Bureau()
    pair = stranger.issue()
    text = compact_from_minimal(pair.minimal, stranger.issuer_key, BASE_URL, now=NOW)
    result = verify_compact(text, policy)
    assert not result.verified
    assert result.check("proof").outcome == "failed"


def test_not_a_titlecred_qr_is_unusable_input(policy) -> None:
    result = verify_compact("https://example.com/some/page", policy)
    assert result.errors and result.errors[0]["code"] == "not_titlecred_qr"


def test_the_payload_alone_verifies_too(samples: dict, policy) -> None:
    payload = samples["senior_b"].qr_text.split("#", 1)[1]
    assert verify_compact(payload, policy).verified


def test_non_canonical_cbor_is_refused(samples: dict) -> None:
    parsed, _ = decode_qr(samples["senior_b"].qr_text)
    # The same claims with the map written in non-canonical key order.
    items = sorted(parsed.claims.items(), reverse=True)
    body = bytes([0xA0 + len(items)]) + b"".join(cbor2.dumps(k) + cbor2.dumps(v, canonical=True) for k, v in items)
    cose = cbor2.dumps(cbor2.CBORTag(18, [parsed.protected, {}, body, parsed.signature]))
    with pytest.raises(compact.CompactError, match="canonical"):
        compact.decode_cose(cose)


def test_cbor_tags_inside_the_payload_are_refused(samples: dict) -> None:
    parsed, _ = decode_qr(samples["senior_b"].qr_text)
    body = cbor2.dumps({**parsed.claims, 5: cbor2.CBORTag(1, 1730428200)}, canonical=True)
    cose = cbor2.dumps(cbor2.CBORTag(18, [parsed.protected, {}, body, parsed.signature]))
    with pytest.raises(compact.CompactError):
        compact.decode_cose(cose)


def test_a_decompression_bomb_is_bounded() -> None:
    import zlib

    bomb = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, compact.ZDICT)
    data = bomb.compress(b"\x00" * 1_000_000) + bomb.flush()
    with pytest.raises(compact.CompactError) as caught:
        compact.read_qr_text("TC1:" + compact.b43encode(data))
    assert caught.value.code == "input_too_large"


@given(st.binary(max_size=300))
def test_base43_round_trips(data: bytes) -> None:
    assert compact.b43decode(compact.b43encode(data)) == data


def test_base43_refuses_what_it_never_produces() -> None:
    with pytest.raises(compact.CompactError):
        compact.b43decode("::::")  # 3 characters above 65535, then a stray one
    with pytest.raises(compact.CompactError):
        compact.b43decode("ab")  # lowercase is not in the alphabet


def test_key_state_is_judged_at_the_signing_time(bureau: Bureau) -> None:
    from dataclasses import replace as dc_replace

    from keys.did import DidResolver
    from keys.state import KeyRecord, KeyState
    from verifier.policy import Policy

    pair = bureau.issue()
    text = compact_from_minimal(pair.minimal, bureau.issuer_key, BASE_URL, now=datetime(2025, 1, 1, tzinfo=UTC))
    rec = KeyRecord(bureau.vm, bureau.did, bureau.key.public_key.multibase, KeyState.REVOKED,
                    revoked_at=datetime(2024, 12, 2, tzinfo=UTC), compromised_at=datetime(2024, 12, 1, tzinfo=UTC),
                    revocation_reason="leaked")
    from keys.publish import build_did_document

    policy = Policy(resolver=DidResolver([build_did_document(bureau.did, [rec])]))
    result = verify_compact(text, policy)
    assert not result.verified
    assert result.check("key").outcome == "failed"
    del dc_replace


def test_a_revoked_certificates_qr_says_revoked(bureau: Bureau) -> None:
    from certkit import status_entries, status_list

    from verifier.status import StaticStatusSource

    pair = bureau.issue(status=status_entries(4321))
    text = compact_from_minimal(pair.minimal, bureau.issuer_key, BASE_URL, now=NOW)
    fine = StaticStatusSource({lst["id"]: lst for lst in (status_list(bureau, "revocation"),
                                                    status_list(bureau, "suspension"))})
    assert verify_compact(text, bureau.policy(status=fine)).verified
    revoked = StaticStatusSource({lst["id"]: lst for lst in (status_list(bureau, "revocation", (4321,)),
                                                       status_list(bureau, "suspension"))})
    result = verify_compact(text, bureau.policy(status=revoked))
    assert result.verdict == "revoked" and result.status == "revoked"
    unknown = verify_compact(text, bureau.policy())
    assert unknown.verdict == "status_unknown"  # no list offline: an outage, never a forgery



def test_name_in_cjk_extension_h_round_trips_through_the_qr_code(bureau: Bureau) -> None:
    # Extension H (Unicode 15) is newer than Python 3.11's Unicode database; browsers accept it, so
    # the Python side must too, or the two verifiers would disagree about one certificate.
    pair = bureau.issue(name="王\U00031350", namePrintedAsPinyin=True)
    text = compact_from_minimal(pair.minimal, bureau.issuer_key, BASE_URL, now=NOW)
    _, rebuilt = decode_qr(text)
    assert rebuilt == _unsigned(pair.minimal)
    assert rebuilt["credentialSubject"]["name"] == "王\U00031350"


def test_bytes_after_the_cose_item_are_refused(bureau: Bureau) -> None:
    pair = bureau.issue()
    cose = compact.read_qr_text(compact_from_minimal(pair.minimal, bureau.issuer_key, BASE_URL, now=NOW))
    compact.decode_cose(cose)
    with pytest.raises(compact.CompactError) as e:
        compact.decode_cose(cose + b"\x00")
    assert e.value.code == "malformed_compact"
