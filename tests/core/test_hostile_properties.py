"""Property-based attacks (hypothesis): every mutation of a signed credential fails verification, and
no mutation of a credential or of a QR payload raises: each ends as a structured result."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core_support import make_bureau
from issuer.compact import compact_from_minimal
from proofs.compact import FORMAT_PREFIX
from verifier.compact import verify_compact
from verifier.verify import verify_credential

NOW = datetime(2026, 11, 20, tzinfo=UTC)
BUREAU = make_bureau()
PAIR = BUREAU.issue()
POLICY = BUREAU.policy(now=NOW, unsafe_skip_status=True)
FAST = settings(max_examples=60, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in the document (keys and list indexes), the document's own leaves first."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(PAIR.full)
HOSTILE = st.one_of(
    st.text(max_size=20), st.integers(), st.integers(min_value=10**70, max_value=10**80), st.floats(),
    st.booleans(), st.none(), st.just("\ud800"), st.just("x\x00y"), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def _delete(doc: dict[str, Any], path: tuple[Any, ...]) -> None:
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]


def test_the_signed_credential_verifies_unchanged() -> None:
    assert verify_credential(copy.deepcopy(PAIR.full), POLICY).verified


@FAST
@given(path=st.sampled_from(PATHS), value=HOSTILE)
def test_every_field_replaced_fails_verification_without_raising(path: tuple[Any, ...], value: Any) -> None:
    doc = copy.deepcopy(PAIR.full)
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    if target[path[-1]] == value:
        return
    _set(doc, path, value)
    result = verify_credential(doc, POLICY)
    # A changed proofValue, signed data or proof option breaks the signature; nothing verifies.
    assert not result.verified, (path, value)
    assert result.verdict != "valid"
    result.to_json()  # and the result serializes (no surrogate or huge number leaks into a crash)


@FAST
@given(path=st.sampled_from(PATHS))
def test_every_field_removed_fails_verification_without_raising(path: tuple[Any, ...]) -> None:
    doc = copy.deepcopy(PAIR.full)
    _delete(doc, path)
    assert not verify_credential(doc, POLICY).verified, path


QR = compact_from_minimal(PAIR.minimal, BUREAU.issuer_key, "https://verify.example.gov.cn", now=NOW)


def test_the_qr_payload_verifies_unchanged() -> None:
    assert verify_compact(QR, POLICY).verified


START = QR.index(FORMAT_PREFIX) + len(FORMAT_PREFIX)  # the link before it is not signed, and need not be


@FAST
@given(at=st.integers(min_value=START, max_value=len(QR) - 1), ch=st.characters(codec="utf-8"))
def test_every_character_of_the_qr_payload_changed_fails_without_raising(at: int, ch: str) -> None:
    mutated = QR[:at] + ch + QR[at + 1:]
    if mutated == QR:
        return
    result = verify_compact(mutated, POLICY)
    assert not result.verified, (at, ch)


@FAST
@given(text=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: "TC1:" + b.hex()))
def test_arbitrary_qr_text_never_raises(text: str) -> None:
    verify_compact(text, POLICY).to_json()


@pytest.mark.parametrize("cut", [1, 10, 50, 100])
def test_a_truncated_qr_payload_is_refused(cut: int) -> None:
    assert not verify_compact(QR[:-cut], POLICY).verified
