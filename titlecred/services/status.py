"""Bitstring Status Lists v1.0: the bureau's revocation and suspension lists, their entries, publication.

- Lists: `revocation-N` and `suspension-N`, each `status_list_bits` (≥ 131,072) entries. A list gives
  out indexes until `status_fill_limit` of it is used; then the next list of that purpose starts.
- Indexes are drawn uniformly at random among the unused ones (rejection sampling under the list's
  row lock, plus a unique constraint), so that neighbouring indexes say nothing about issue order.
  Every certificate gets one index in a revocation list and one in a suspension list; its full and
  minimal credential carry the same two entries.
- Publication: each list is a signed `BitstringStatusListCredential` at `<base_url>/status/<id>`,
  re-signed in the same transaction as any bit change (validFrom = publication time, validUntil =
  `status_valid_for` later, `ttl` = the cache lifetime), and re-signed lazily when half of its
  validity has passed or when the key that signed it is no longer the active one.
- `DatabaseStatusSource`: the verifier's `StatusSource` over these tables (the server-side verify).

It must never clear a revocation bit (revocation is final; only suspension is undone), and never
allocate an index outside the transaction that stores what uses it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from issuer.sign import sign_document
from keys.errors import KeyMaterialError
from schemas import CREDENTIALS_V2_URL, bitstring
from titlecred.db.models import StatusEntry, StatusList
from titlecred.services.clock import stamp
from titlecred.services.context import Registry
from titlecred.services.errors import NotFound
from titlecred.services.tx import atomic, insert_ignore, locked
from verifier.status import FetchedList

PURPOSES = ("revocation", "suspension")


def entry_json(registry: Registry, list_id: str, purpose: str, index: int) -> dict[str, Any]:
    url = registry.status_list_url(list_id)
    return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose,
            "statusListIndex": str(index), "statusListCredential": url}


def _number(list_id: str) -> int:
    return int(list_id.rsplit("-", 1)[1])


def _open_list(session: Session, registry: Registry, purpose: str) -> StatusList:
    """The list of `purpose` that gives out indexes now, locked; a new one when the last is full."""
    cap = int(registry.config.status_list_bits * registry.config.status_fill_limit)
    # An issuer instance's lists are `<its name>revocation-N`: the bureau's are `revocation-N`.
    name = registry.list_prefix + purpose
    rows = session.exec(select(StatusList).where(StatusList.purpose == purpose)).all()
    rows = sorted((r for r in rows if r.id.rsplit("-", 1)[0] == name), key=lambda r: _number(r.id))
    for row in rows:
        if row.used < cap:
            lst = locked(session, select(StatusList).where(StatusList.id == row.id))
            if lst is not None and lst.used < cap:
                return lst
    list_id = f"{name}-{(_number(rows[-1].id) + 1) if rows else 1}"
    size = max(registry.config.status_list_bits, bitstring.MIN_BITS)
    insert_ignore(session, StatusList, {"id": list_id, "purpose": purpose, "size_bits": size,
                                        "bits": bytes(bitstring.empty(size)), "used": 0, "version": 1,
                                        "published_version": 0, "created_at": registry.now()})
    lst = locked(session, select(StatusList).where(StatusList.id == list_id))
    assert lst is not None
    return lst


def _random_free_index(session: Session, lst: StatusList) -> int:
    # Uniform over all indexes, rejecting used ones: uniform over the unused. With the list at most
    # half full, more than 40 rejections in a row has probability below 2^-40.
    for _ in range(64):
        index = secrets.randbelow(lst.size_bits)
        taken = session.exec(select(StatusEntry.id).where(StatusEntry.list_id == lst.id,
                                                         StatusEntry.index == index)).first()
        if taken is None:
            return index
    raise RuntimeError(f"status list {lst.id} has no free index found at random")


@dataclass(frozen=True)
class Allocation:
    revocation: StatusEntry
    suspension: StatusEntry
    entries: list[dict[str, Any]]


def allocate(session: Session, registry: Registry, *, credential_id: str | None = None) -> Allocation:
    """One revocation and one suspension index, inside the caller's transaction (never commits).

    Lists are locked in name order (revocation-* before suspension-*), as everywhere, so that two
    transactions never wait for each other in a circle.
    """
    now = registry.now()
    made: dict[str, StatusEntry] = {}
    for purpose in PURPOSES:
        lst = _open_list(session, registry, purpose)
        index = _random_free_index(session, lst)
        entry = StatusEntry(list_id=lst.id, index=index, credential_id=credential_id, created_at=now)
        lst.used += 1
        session.add(lst)
        session.add(entry)
        made[purpose] = entry
    session.flush()
    entries = [entry_json(registry, made[p].list_id, p, made[p].index) for p in PURPOSES]
    return Allocation(made["revocation"], made["suspension"], entries)


def lock_lists(session: Session, list_ids: list[str]) -> dict[str, StatusList]:
    """Lock several lists in the one global order (by name)."""
    out: dict[str, StatusList] = {}
    for list_id in sorted(set(list_ids)):
        lst = locked(session, select(StatusList).where(StatusList.id == list_id))
        if lst is None:
            raise NotFound("status list")
        out[list_id] = lst
    return out


def set_bit(session: Session, registry: Registry, lst: StatusList, index: int, value: bool) -> None:
    """Set or clear one bit of a (locked) list and re-publish it, inside the caller's transaction."""
    if not value and lst.purpose == "revocation":
        raise ValueError("a revocation is final: its bit is never cleared")
    bits = bytearray(lst.bits)
    bitstring.set_bit(bits, index, value)
    lst.bits = bytes(bits)
    lst.version += 1
    _publish(registry, lst)
    session.add(lst)


def list_credential(registry: Registry, lst: StatusList) -> dict[str, Any]:
    now = registry.now()
    url = registry.status_list_url(lst.id)
    return {
        "@context": [CREDENTIALS_V2_URL],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": registry.profile.did,
        "validFrom": stamp(now),
        "validUntil": stamp(now + registry.config.status_valid_for),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": lst.purpose,
            "encodedList": bitstring.encode(lst.bits),
            "ttl": int(registry.config.status_max_age.total_seconds() * 1000),
        },
    }


# Bumped whenever this process signs a list: the in-memory cache (status_cache) then asks the
# database at once instead of at its next periodic look.
generation = 0


def _publish(registry: Registry, lst: StatusList) -> None:
    global generation
    generation += 1
    registry = registry.for_list(lst.id)  # an issuer instance's list is signed by that instance
    now = registry.now()
    key = registry.keys.active()
    signed = sign_document(list_credential(registry, lst), key, created=stamp(now))
    text = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
    lst.published_json = text
    lst.published_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    lst.published_at = now
    lst.published_version = lst.version
    lst.published_key_id = key.verification_method
    lst.valid_until = now + registry.config.status_valid_for


def republish(registry: Registry, lst: StatusList) -> None:
    """Sign a (locked) list again now, inside the caller's transaction."""
    _publish(registry, lst)


def _fresh(registry: Registry, lst: StatusList) -> bool:
    registry = registry.for_list(lst.id)
    if lst.published_json is None or lst.published_version != lst.version or lst.published_at is None:
        return False
    if registry.now() >= lst.published_at + registry.config.status_valid_for / 2:
        return False
    # Signed by a key that is no longer the active one (rotated, or revoked after a compromise): a
    # list signed by a compromised key proves nothing, so it is signed again by the active key.
    try:
        return lst.published_key_id == registry.keys.cached_active_key_id()
    except KeyMaterialError:  # no active key: keep serving the last list rather than none
        return True


def published(session: Session, registry: Registry, list_id: str) -> StatusList:
    """The list with a current signed credential (re-signed and committed first if it was stale)."""
    lst = session.get(StatusList, list_id)
    if lst is None:
        raise NotFound("status list")
    if _fresh(registry, lst):
        return lst
    with atomic(session):
        lst = locked(session, select(StatusList).where(StatusList.id == list_id))
        assert lst is not None
        if not _fresh(registry, lst):
            _publish(registry, lst)
            session.add(lst)
    return lst


def ensure_lists(session: Session, registry: Registry) -> list[StatusList]:
    """The first list of each purpose exists and is published (start-up, demo)."""
    with atomic(session):
        for purpose in PURPOSES:
            if session.get(StatusList, f"{registry.list_prefix}{purpose}-1") is None:
                _open_list(session, registry, purpose)
    return [published(session, registry, f"{registry.list_prefix}{p}-1") for p in PURPOSES]


class DatabaseStatusSource:
    """The verifier's StatusSource over this registry's own lists (no network)."""

    def __init__(self, session: Session, registry: Registry) -> None:
        self._session = session
        self._registry = registry

    def fetch(self, url: str) -> FetchedList:
        now = self._registry.now()
        prefix = self._registry.base_url + "/status/"
        if not isinstance(url, str) or not url.startswith(prefix):
            return FetchedList(None, now, "not a status list of this registry (only its own lists are read)")
        try:
            lst = published(self._session, self._registry, url[len(prefix):])
        except NotFound:
            return FetchedList(None, now, "this registry has no such status list")
        assert lst.published_json is not None
        return FetchedList(json.loads(lst.published_json), now)
