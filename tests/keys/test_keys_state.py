"""Key life states, and what a key's state means for a signature's (claimed) time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from keys.errors import InvalidTime, KeyStateError, WrongController
from keys.state import (
    KeyJudgement,
    KeyRecord,
    KeyState,
    check_transition,
    format_utc,
    judge_signature_time,
    may_sign,
    parse_utc,
    retire,
    revoke,
)

DID = "did:web:hrss.example.gov.cn"
PUB = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
COMPROMISE = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
NOW = datetime(2025, 6, 2, tzinfo=UTC)


def active() -> KeyRecord:
    return KeyRecord(f"{DID}#key-1", DID, PUB, KeyState.ACTIVE, created_at=T0)


def revoked() -> KeyRecord:
    return revoke(active(), COMPROMISE, NOW, "private key leaked")


def test_only_the_active_key_may_sign() -> None:
    assert may_sign(active())
    assert not may_sign(retire(active(), NOW))
    assert not may_sign(revoked())


def test_active_and_retired_keys_verify_whenever_signed() -> None:
    for record in (active(), retire(active(), NOW)):
        judgement = judge_signature_time(record, NOW + timedelta(days=400))
        assert judgement == KeyJudgement(True, judgement.reason, False)


def test_retired_key_still_verifies_what_it_signed() -> None:
    judgement = judge_signature_time(retire(active(), NOW), T0 + timedelta(days=3))
    assert judgement.ok and "retired" in judgement.reason


def test_revoked_key_fails_at_and_after_compromise_without_evidence_route() -> None:
    for created in (COMPROMISE, COMPROMISE + timedelta(seconds=1), NOW):
        judgement = judge_signature_time(revoked(), created)
        assert not judgement.ok
        assert not judgement.needs_evidence
        assert "compromised at 2025-06-01T12:00:00Z" in judgement.reason


def test_revoked_key_before_compromise_is_not_trusted_on_its_own_claimed_time() -> None:
    judgement = judge_signature_time(revoked(), COMPROMISE - timedelta(seconds=1))
    assert not judgement.ok
    assert judgement.needs_evidence
    assert "backdate" in judgement.reason and "evidence" in judgement.reason
    assert "issuance" in judgement.reason


def test_judging_accepts_other_time_zones() -> None:
    beijing = timezone(timedelta(hours=8))
    # 20:00 in Beijing is exactly the compromise instant in UTC.
    assert not judge_signature_time(revoked(), datetime(2025, 6, 1, 20, 0, 0, tzinfo=beijing)).needs_evidence
    assert judge_signature_time(revoked(), datetime(2025, 6, 1, 19, 59, 59, tzinfo=beijing)).needs_evidence


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidTime, match="timezone") as e:
        judge_signature_time(active(), datetime(2025, 1, 1))
    assert e.value.code == "invalid_date" and isinstance(e.value, ValueError)
    with pytest.raises(InvalidTime):
        revoke(active(), datetime(2025, 1, 1), NOW, "naive")
    with pytest.raises(ValueError):
        KeyRecord(f"{DID}#key-1", DID, PUB, KeyState.ACTIVE, created_at=datetime(2025, 1, 1))


def test_retire_then_revoke() -> None:
    retired = retire(active(), NOW)
    assert retired.state is KeyState.RETIRED and retired.retired_at == NOW
    again = revoke(retired, COMPROMISE, NOW, "leak")
    assert again.state is KeyState.REVOKED and again.retired_at == NOW
    assert again.compromised_at == COMPROMISE and again.revoked_at == NOW
    assert again.revocation_reason == "leak"


def test_revoked_key_cannot_be_reactivated_or_retired() -> None:
    with pytest.raises(KeyStateError) as e:
        check_transition(revoked(), KeyState.ACTIVE)
    assert e.value.code == "key_state"
    with pytest.raises(KeyStateError):
        retire(revoked(), NOW)


def test_no_key_becomes_active_again() -> None:
    with pytest.raises(KeyStateError):
        check_transition(retire(active(), NOW), KeyState.ACTIVE)


def test_retiring_twice_is_refused() -> None:
    with pytest.raises(KeyStateError, match="already retired"):
        retire(retire(active(), NOW), NOW)


def test_revoking_again_may_only_move_the_compromise_earlier() -> None:
    earlier = revoke(revoked(), COMPROMISE - timedelta(days=10), NOW, "worse than thought")
    assert earlier.compromised_at == COMPROMISE - timedelta(days=10)
    assert earlier.revoked_at == NOW
    with pytest.raises(KeyStateError, match="earlier"):
        revoke(revoked(), COMPROMISE + timedelta(seconds=1), NOW, "oops")


def test_compromise_cannot_be_after_the_revocation() -> None:
    with pytest.raises(KeyStateError, match="after the revocation"):
        revoke(active(), NOW + timedelta(seconds=1), NOW, "future")


def test_revocation_needs_a_reason() -> None:
    with pytest.raises(KeyStateError, match="reason"):
        revoke(active(), COMPROMISE, NOW, "  ")


def test_records_keep_their_invariants() -> None:
    with pytest.raises(KeyStateError):
        KeyRecord(f"{DID}#key-1", DID, PUB, KeyState.REVOKED)  # revoked without a compromise time
    with pytest.raises(KeyStateError):
        KeyRecord(f"{DID}#key-1", DID, PUB, KeyState.ACTIVE, compromised_at=COMPROMISE)
    with pytest.raises(WrongController):
        KeyRecord("did:web:other.example#key-1", DID, PUB, KeyState.ACTIVE)
    with pytest.raises(WrongController):
        KeyRecord(f"{DID}#", DID, PUB, KeyState.ACTIVE)


def test_record_times_are_utc_to_the_second() -> None:
    beijing = timezone(timedelta(hours=8))
    record = KeyRecord(f"{DID}#key-1", DID, PUB, KeyState.ACTIVE,
                       created_at=datetime(2025, 1, 1, 8, 0, 0, 999_999, tzinfo=beijing))
    assert record.created_at == datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert record.created_at is not None and record.created_at.tzinfo == UTC
    assert record.fragment == "key-1"


def test_utc_stamps_have_one_form() -> None:
    assert format_utc(COMPROMISE) == "2025-06-01T12:00:00Z"
    assert parse_utc("2025-06-01T12:00:00Z") == COMPROMISE
    for bad in ("2025-06-01T12:00:00+00:00", "2025-6-1T12:00:00Z", "2025-06-01T12:00:00.5Z", "2025-06-01",
                "2025-13-01T12:00:00Z"):
        with pytest.raises(InvalidTime):
            parse_utc(bad)


def test_state_values_are_the_published_words() -> None:
    assert [s.value for s in KeyState] == ["active", "retired", "revoked"]
