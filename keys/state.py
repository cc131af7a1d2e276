"""The life of an issuer key, and what that life means for the signatures it made.

    ACTIVE ──retire──▶ RETIRED ──revoke──▶ REVOKED
       └──────────────revoke─────────────────┘

- ACTIVE: the one key that signs new credentials.
- RETIRED: signs no more; what it signed still verifies.
- REVOKED: compromised at `compromised_at`. A proof's `created` is written by the signer, so whoever
  stole the key can backdate it: a `created` before the compromise is not trusted on its own, it needs
  independent evidence of the issuance time (e.g. a hash-chained issuance log checkpoint published
  before the compromise). A `created` at or after the compromise fails outright.

Nothing returns to ACTIVE: a new key is made instead (keys.store). A revoked key may be revoked again
only to move its compromise time earlier, never later (that would re-validate signatures).

Everything here is pure: no I/O, no clock except where a caller passes the time. It must never treat
a signer-written time as proof of anything about a revoked key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from keys.errors import InvalidTime, KeyMaterialError, KeyStateError, WrongController


class KeyState(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"
    REVOKED = "revoked"


# The only moves a key can make; re-revoking is allowed to move the compromise time earlier.
_ALLOWED: frozenset[tuple[KeyState, KeyState]] = frozenset({
    (KeyState.ACTIVE, KeyState.RETIRED),
    (KeyState.ACTIVE, KeyState.REVOKED),
    (KeyState.RETIRED, KeyState.REVOKED),
    (KeyState.REVOKED, KeyState.REVOKED),
})


_UTC_STAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def format_utc(dt: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`, the one form of every time this project writes."""
    return to_utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(value: str) -> datetime:
    """Parse `YYYY-MM-DDTHH:MM:SSZ` (exactly that form) into an aware UTC datetime; InvalidTime otherwise."""
    if not isinstance(value, str) or not _UTC_STAMP.fullmatch(value):
        raise InvalidTime(f"{value!r} is not a time of the form YYYY-MM-DDTHH:MM:SSZ")
    try:
        parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as e:
        raise InvalidTime(f"{value!r} is not a valid time") from e
    return parsed.replace(tzinfo=UTC)


def to_utc(dt: datetime) -> datetime:
    """The same instant in UTC, to the second. A naive datetime is refused: its zone is a guess."""
    if not isinstance(dt, datetime):
        raise InvalidTime("a datetime is required")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise InvalidTime("a timezone-aware datetime is required (naive times are ambiguous)")
    # Truncating moves a compromise time earlier, never later: the safe direction.
    return dt.astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class KeyRecord:
    """What is known about one key, public facts only (the keystore keeps the encrypted seed apart).

    `key_id` is the full verification-method id, e.g. "did:web:hrss.example.gov.cn#key-1", and lies
    under `controller`. Times are aware UTC to the second. `created_at` and `retired_at` may be unknown
    (None) for a key learnt from a published document; a revoked key always has `compromised_at`.
    """

    key_id: str
    controller: str
    public_key_multibase: str
    state: KeyState
    created_at: datetime | None = None
    retired_at: datetime | None = None
    revoked_at: datetime | None = None
    compromised_at: datetime | None = None
    revocation_reason: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.controller, str) or not self.controller.startswith("did:"):
            raise KeyMaterialError(f"a key's controller must be a DID, not {self.controller!r}")
        if not isinstance(self.key_id, str) or not self.key_id.startswith(self.controller + "#") \
                or len(self.key_id) == len(self.controller) + 1:
            raise WrongController(f"key id {self.key_id!r} is not a fragment of its controller "
                                  f"{self.controller}")
        object.__setattr__(self, "state", KeyState(self.state))
        for name in ("created_at", "retired_at", "revoked_at", "compromised_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_utc(value))
        if self.state is KeyState.REVOKED:
            if self.compromised_at is None:
                raise KeyStateError(f"revoked key {self.key_id} has no compromise time")
        elif self.compromised_at is not None or self.revoked_at is not None:
            raise KeyStateError(f"key {self.key_id} is {self.state.value} but carries revocation times")
        if self.state is KeyState.ACTIVE and self.retired_at is not None:
            raise KeyStateError(f"active key {self.key_id} carries a retirement time")

    @property
    def fragment(self) -> str:
        """The part after '#', e.g. "key-1"."""
        return self.key_id[len(self.controller) + 1:]


@dataclass(frozen=True)
class KeyJudgement:
    """Whether a key's state lets a signature made at a given (claimed) time count."""

    ok: bool
    reason: str
    needs_evidence: bool = False


def may_sign(record: KeyRecord) -> bool:
    """Only the active key signs."""
    return record.state is KeyState.ACTIVE


def judge_signature_time(record: KeyRecord, created: datetime) -> KeyJudgement:
    """Judge a signature by `record`'s state, given the proof's claimed `created` time.

    `created` must be timezone-aware (InvalidTime, a ValueError, otherwise).
    """
    created = to_utc(created)
    if record.state is KeyState.ACTIVE:
        return KeyJudgement(True, f"key {record.key_id} is active")
    if record.state is KeyState.RETIRED:
        return KeyJudgement(True, f"key {record.key_id} is retired: it signs no more, and what it signed "
                                  "still verifies")
    compromised = record.compromised_at
    assert compromised is not None  # KeyRecord guarantees it for a revoked key
    if created >= compromised:
        return KeyJudgement(
            False,
            f"key {record.key_id} was revoked as compromised at {format_utc(compromised)}, and this proof "
            f"was created at {format_utc(created)}, not before the compromise",
        )
    return KeyJudgement(
        False,
        f"key {record.key_id} was revoked as compromised at {format_utc(compromised)}; the proof says it was "
        f"created at {format_utc(created)}, but that time is written by the signer and a thief can backdate "
        "it, so the credential needs independent evidence of its issuance time (e.g. an issuance log "
        "checkpoint published before the compromise)",
        needs_evidence=True,
    )


def check_transition(record: KeyRecord, target: KeyState) -> None:
    """Raise KeyStateError unless `record` may move to `target`."""
    if target is KeyState.ACTIVE:
        raise KeyStateError(f"key {record.key_id} cannot become active again; make a new key instead")
    if (record.state, target) not in _ALLOWED:
        raise KeyStateError(f"key {record.key_id} is {record.state.value} and cannot become {target.value}")


def retire(record: KeyRecord, at: datetime) -> KeyRecord:
    """ACTIVE → RETIRED at `at`."""
    if record.state is KeyState.RETIRED:
        raise KeyStateError(f"key {record.key_id} is already retired")
    check_transition(record, KeyState.RETIRED)
    return replace(record, state=KeyState.RETIRED, retired_at=to_utc(at))


def revoke(record: KeyRecord, compromised_at: datetime, at: datetime, reason: str) -> KeyRecord:
    """ACTIVE or RETIRED → REVOKED, compromised since `compromised_at`, recorded at `at`.

    A revoked key may be revoked again only with an earlier (or equal) compromise time. The compromise
    cannot be later than the revocation: whoever revokes knows the key is compromised by now.
    """
    compromised_at, at = to_utc(compromised_at), to_utc(at)
    if not isinstance(reason, str) or not reason.strip():
        raise KeyStateError("a revocation needs a reason")
    if compromised_at > at:
        raise KeyStateError(f"the compromise time {format_utc(compromised_at)} is after the revocation "
                            f"time {format_utc(at)}")
    check_transition(record, KeyState.REVOKED)
    if record.state is KeyState.REVOKED:
        assert record.compromised_at is not None
        if compromised_at > record.compromised_at:
            raise KeyStateError(
                f"key {record.key_id} is already revoked as compromised at "
                f"{format_utc(record.compromised_at)}; the compromise time can only move earlier"
            )
        return replace(record, compromised_at=compromised_at, revocation_reason=reason.strip())
    return replace(record, state=KeyState.REVOKED, revoked_at=at, compromised_at=compromised_at,
                   revocation_reason=reason.strip())
