"""Status checks (Bitstring Status List v1.0): is the certificate revoked or suspended?

The status list is a credential of its own, fetched through a `StatusSource` (given files offline,
or the registry's published URL online) and verified like any credential. An unreachable or stale
list is an outcome of its own ("could not check, last known as of ..."), never a forgery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from proofs.dataintegrity import format_datetime, parse_datetime
from schemas import bitstring


@dataclass(frozen=True)
class FetchedList:
    """A status list credential as a source could get it, and when; or why it could not."""

    credential: dict[str, Any] | None
    fetched_at: datetime
    error: str | None = None
    # A snapshot (a signed verification bundle): the status is stated as of `fetched_at`, the bundle's
    # date, and the list's validUntil is judged then, not now.
    snapshot: bool = False


class StatusSource(Protocol):
    def fetch(self, url: str) -> FetchedList: ...


class StaticStatusSource:
    """Status lists given up front (files on the command line, a verifier's cache)."""

    def __init__(self, lists: dict[str, dict[str, Any]] | None = None, as_of: datetime | None = None,
                 snapshot: bool = False):
        self._lists = dict(lists or {})
        self._as_of = as_of or datetime.now(UTC)
        self._snapshot = snapshot

    def add(self, credential: dict[str, Any]) -> None:
        if isinstance(credential.get("id"), str):
            self._lists[credential["id"]] = credential

    def fetch(self, url: str) -> FetchedList:
        if url in self._lists:
            return FetchedList(self._lists[url], self._as_of, snapshot=self._snapshot)
        return FetchedList(None, self._as_of, f"no copy of status list {url} is available offline")


@dataclass(frozen=True)
class EntryOutcome:
    outcome: str  # "passed" | "failed" | "indeterminate"
    status: str  # "valid" | "revoked" | "suspended" | "unknown"
    reason: str
    code: str = ""
    as_of: str | None = None


# Verifies a status list credential (proof, issuer, key) and returns a reason if it does not verify.
ListVerifier = Callable[[dict[str, Any]], str | None]


@lru_cache(maxsize=32)
def _decoded(encoded: str) -> bytes:
    """Decoded bitstrings by their encoded text: a list is decoded once per version, not once per scan."""
    return bitstring.decode(encoded)


def entries_of(credential: dict[str, Any]) -> list[Any]:
    status = credential.get("credentialStatus")
    if status is None:
        return []
    return list(status) if isinstance(status, list) else [status]


def check_entry(
    entry: Any,
    issuer: str | None,
    source: StatusSource,
    verify_list: ListVerifier,
    now: datetime,
    max_age: timedelta | None = None,
) -> EntryOutcome:
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        kind = entry.get("type") if isinstance(entry, dict) else entry
        return EntryOutcome("failed", "unknown", f"unsupported credentialStatus type {kind!r}",
                            "unsupported_status")
    purpose = entry.get("statusPurpose")
    url = entry.get("statusListCredential")
    index_text = entry.get("statusListIndex")
    if purpose not in ("revocation", "suspension") or not isinstance(url, str):
        return EntryOutcome("failed", "unknown", "credentialStatus entry is malformed", "malformed_status")
    if not isinstance(index_text, str) or not index_text.isdigit() or len(index_text) > 10:
        return EntryOutcome("failed", "unknown", "statusListIndex must be a decimal string",
                            "malformed_status")
    size = entry.get("statusSize", 1)
    if size != 1:
        return EntryOutcome("failed", "unknown", "only statusSize 1 is supported", "unsupported_status")
    fetched = source.fetch(url)
    as_of = format_datetime(fetched.fetched_at)
    if fetched.credential is None:
        return EntryOutcome("indeterminate", "unknown",
                            f"could not check {purpose} status: {fetched.error or 'list unavailable'}",
                            "status_unavailable", as_of)
    lst = fetched.credential
    problem = verify_list(lst)
    if problem:
        return EntryOutcome("indeterminate", "unknown",
                            f"the {purpose} status list does not verify ({problem}); status unknown",
                            "status_list_invalid", as_of)
    list_issuer = lst.get("issuer")
    list_issuer = list_issuer.get("id") if isinstance(list_issuer, dict) else list_issuer
    if issuer is not None and list_issuer != issuer:
        return EntryOutcome("indeterminate", "unknown",
                            "the status list was not issued by the credential's issuer", "status_list_invalid",
                            as_of)
    subject = lst.get("credentialSubject")
    purposes = subject.get("statusPurpose") if isinstance(subject, dict) else None
    purposes = purposes if isinstance(purposes, list) else [purposes]
    if purpose not in purposes:
        return EntryOutcome("indeterminate", "unknown", "the status list is for another purpose",
                            "status_list_invalid", as_of)
    valid_until = parse_datetime(lst.get("validUntil"))
    judged_at = fetched.fetched_at if fetched.snapshot else now
    if valid_until is not None and valid_until < judged_at:
        return EntryOutcome("indeterminate", "unknown",
                            f"the {purpose} status list expired at {lst.get('validUntil')}; status unknown",
                            "status_stale", as_of)
    if max_age is not None and not fetched.snapshot and now - fetched.fetched_at > max_age:
        return EntryOutcome("indeterminate", "unknown",
                            f"the {purpose} status information is stale (as of {as_of})", "status_stale",
                            as_of)
    try:
        if not isinstance(subject, dict):
            raise KeyError("credentialSubject")
        bits = _decoded(subject["encodedList"])
        is_set = bitstring.get_bit(bits, int(index_text))
    except (bitstring.StatusListError, KeyError, TypeError) as e:
        return EntryOutcome("indeterminate", "unknown", f"the {purpose} status list is unreadable: {e}",
                            "status_list_invalid", as_of)
    if is_set:
        word = "revoked" if purpose == "revocation" else "suspended"
        return EntryOutcome("failed", word, f"the certificate is {word} (status as of {as_of})",
                            word, as_of)
    return EntryOutcome("passed", "valid", f"not {'revoked' if purpose == 'revocation' else 'suspended'} "
                        f"(status as of {as_of})", "", as_of)
