"""Signed status lists served and checked from memory, refreshed when they change.

Each process keeps the published credential of every list (its bytes, ETag and parsed form). Whether
a list changed is asked of the database at most once per `recheck` (default one second) with one small
query over all lists (id, version, hash, publication time and key: no bit strings), so that with many
instances on one PostgreSQL a revocation reaches every instance within a second and no request reads a
list from the database. A list whose cached copy is stale (a bit changed, half its validity passed,
or the signing key is no longer the active one) is re-read, and re-signed if needed, through
`status.published` (the one place that decides that).

`CachedStatusSource` is the verifier's `StatusSource` over this cache (the server-side verify).

It must never serve a list other than the last one published, for longer than `recheck`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from titlecred.db.models import StatusList
from titlecred.services import status
from titlecred.services.context import Registry
from titlecred.services.errors import NotFound
from verifier.status import FetchedList


@dataclass(frozen=True)
class _Meta:
    """What `status._fresh` reads of a list, without its bits."""

    id: str
    version: int
    published_version: int
    published_hash: str | None
    published_at: datetime | None
    published_key_id: str | None
    published_json: str | None = "(not read)"


@dataclass(frozen=True)
class CachedList:
    list_id: str
    body: bytes
    etag: str
    credential: dict[str, Any]
    meta: _Meta


class StatusCache:
    def __init__(self, registry: Registry, sessions: sessionmaker[Session], recheck: float = 1.0) -> None:
        self._registry = registry
        self._sessions = sessions
        self._recheck = recheck
        self._lock = threading.Lock()
        self._meta: dict[str, _Meta] = {}
        self._checked_at = -1e9
        self._generation = -1
        self._lists: dict[str, CachedList] = {}
        self.check_list = ListCheckMemo(registry)

    def invalidate(self) -> None:
        """Ask the database on the next request (after this process changed a list)."""
        self._checked_at = -1e9

    def _refresh_meta(self, session: Session) -> None:
        self._generation = status.generation
        table = StatusList.__table__  # type: ignore[attr-defined]
        rows = session.execute(sa_select(table.c.id, table.c.version, table.c.published_version,
                                         table.c.published_hash, table.c.published_at,
                                         table.c.published_key_id)).all()
        self._meta = {r[0]: _Meta(*r) for r in rows}
        self._checked_at = time.monotonic()

    def due(self) -> bool:
        return status.generation != self._generation or time.monotonic() - self._checked_at >= self._recheck

    def cached(self, list_id: str) -> CachedList | None:
        """The list from memory if nothing needs the database now (the fast path, no lock)."""
        if self.due():
            return None
        hit = self._lists.get(list_id)
        meta = self._meta.get(list_id)
        if hit is None or meta is None or hit.meta.published_hash != meta.published_hash:
            return None
        return hit if status._fresh(self._registry, meta) else None  # type: ignore[arg-type]

    def get(self, list_id: str, session: Session | None = None) -> CachedList:
        """The list, from memory or (when due or changed) through the database; NotFound if none.

        `session`: the caller's, if it has one open (on SQLite a second session of the same thread
        would wait for the first one's write lock)."""
        hit = self.cached(list_id)
        if hit is not None:
            return hit
        with self._lock, nullcontext(session) if session is not None else self._sessions() as session:
            if self.due():
                self._refresh_meta(session)
            meta = self._meta.get(list_id)
            hit = self._lists.get(list_id)
            if (meta is not None and hit is not None and hit.meta.published_hash == meta.published_hash
                    and status._fresh(self._registry, meta)):  # type: ignore[arg-type]
                return hit
            if meta is None and list_id not in self._lists:
                # Perhaps created since the last look: one more check before answering 404.
                self._refresh_meta(session)
                if list_id not in self._meta:
                    raise NotFound("status list")
            lst = status.published(session, self._registry, list_id)
            assert lst.published_json is not None and lst.published_hash is not None
            meta = _Meta(lst.id, lst.version, lst.published_version, lst.published_hash, lst.published_at,
                         lst.published_key_id)
            self._meta[list_id] = meta
            text = lst.published_json
            body = text.encode("utf-8")
            assert hashlib.sha256(body).hexdigest() == lst.published_hash
            hit = CachedList(list_id, body, f'"{lst.published_hash}"', json.loads(text), meta)
            self._lists[list_id] = hit
            return hit


class ListCheckMemo:
    """The check of a status list credential (signature, key, dates), done once per list version and
    key set and remembered for `ttl` seconds, instead of once per credential verified."""

    def __init__(self, registry: Registry, ttl: float = 60.0) -> None:
        self._registry = registry
        self._ttl = ttl
        self._memo: dict[tuple[int, object, int], tuple[dict[str, Any], float, str | None]] = {}

    def __call__(self, lst: dict[str, Any], policy: Any) -> str | None:
        from verifier.verify import list_problem

        proof = lst.get("proof")
        key = (id(lst), proof.get("proofValue") if isinstance(proof, dict) else repr(proof),
               self._registry.keys.version)
        now = time.monotonic()
        hit = self._memo.get(key)
        if hit is not None and hit[0] is lst and hit[1] > now:
            return hit[2]
        problem = list_problem(lst, policy)
        if len(self._memo) > 256:
            self._memo.clear()
        self._memo[key] = (lst, now + self._ttl, problem)  # the list kept alive: its id is not reused
        return problem


class CachedStatusSource:
    """The verifier's StatusSource over this registry's own lists, from the cache (no network)."""

    def __init__(self, cache: StatusCache, registry: Registry, session: Session | None = None) -> None:
        self._cache = cache
        self._registry = registry
        self._session = session
        self.check_list = cache.check_list

    def fetch(self, url: str) -> FetchedList:
        now = self._registry.now()
        prefix = self._registry.base_url + "/status/"
        if not isinstance(url, str) or not url.startswith(prefix):
            return FetchedList(None, now, "not a status list of this registry (only its own lists are read)")
        try:
            hit = self._cache.get(url[len(prefix):], self._session)
        except NotFound:
            return FetchedList(None, now, "this registry has no such status list")
        return FetchedList(hit.credential, now)
