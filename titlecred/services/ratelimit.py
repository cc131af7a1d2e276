"""Rate limits kept in the database, so that they hold across processes and restarts.

A sliding-window estimate over two fixed windows (the current and the previous one): with `prev`
attempts in the previous window and `cur` in this one, a fraction `f` of the way through it, the
estimate is `floor(prev * (1 - f)) + cur`, and an attempt is allowed while it is below the limit. So a
burst at a window's boundary cannot double the limit, as a plain fixed window would allow.

`hit` counts an attempt with one conditional `UPDATE ... SET count = count + 1 WHERE count < cap`:
the database decides, under the row's lock (PostgreSQL re-checks the condition after waiting; SQLite
serializes writers), so concurrent callers never exceed the limit together. `release` gives an
attempt back (a lookup that succeeded does not count). `peek` looks without counting. `pad` holds
an answer until a floor time has passed, so that the work done (or not) does not show in its timing.

Keys are opaque strings the caller has already hashed (`key(config, purpose, value)`: an HMAC), so a
client address or an identifier is never stored.

It must never commit: `hit` and `release` run inside the caller's transaction (commit it at once, or
the counted attempt is lost when the caller's work fails).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from titlecred.db.models import RateCounter
from titlecred.errors import AppError
from titlecred.services.config import Limit, RegistryConfig
from titlecred.services.tx import insert_ignore

# One hit in this many also deletes every expired counter (others only their own key's old rows).
PURGE_ONE_IN = 64


def key(config: RegistryConfig, purpose: str, value: str) -> str:
    """The stored key of `value` (a client address, a certificate number...) for one purpose."""
    message = f"ratelimit:{purpose}:{value}".encode()
    return hmac.new(config.lookup_secret, message, hashlib.sha256).hexdigest()


def client_bucket(address: str) -> str:
    """What a client is counted as: its IPv4 address, or its IPv6 /64 (one subscriber's whole network,
    which hands out addresses freely)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:100] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class RateLimited(AppError):
    """429: too many attempts; the same answer whatever the attempt was about."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("rate_limited", f"too many attempts; try again in {retry_after_seconds} seconds", 429)
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # Seconds until an attempt would be allowed again (0 when allowed).
    retry_after_seconds: int
    key: str = ""
    # The window the attempt was counted in (None if it was not counted): what `release` gives back.
    counted_in: datetime | None = None


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = max(1, int(window.total_seconds()))
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def _count(session: Session, k: str, start: datetime) -> int:
    row = session.exec(select(RateCounter.count).where(RateCounter.key == k,
                                                       RateCounter.window_start == start)).first()
    return int(row or 0)


def _retry_after(prev: int, cur: int, limit: int, window: timedelta, elapsed: float) -> int:
    """Seconds until the estimate drops below `limit`, if nobody tries meanwhile."""
    w = window.total_seconds()
    if cur < limit:
        # Within this window, once the previous window's weight has faded enough.
        t = w * (1 - (limit - cur) / prev) - elapsed if prev else 0.0
    else:
        # This window's attempts become the previous window's and fade in the next one.
        t = w * (1 - limit / cur) + w - elapsed
    return max(1, math.ceil(t))


@dataclass(frozen=True)
class _State:
    start: datetime
    prev: int
    cur: int
    elapsed: float
    weighted_prev: int


def _state(session: Session, k: str, window: timedelta, now: datetime) -> _State:
    start = _window_start(now, window)
    elapsed = (now - start).total_seconds()
    prev = _count(session, k, start - window)
    weighted = math.floor(prev * (1 - elapsed / window.total_seconds()))
    return _State(start, prev, _count(session, k, start), elapsed, weighted)


def peek(session: Session, key: str, limit: int, window: timedelta, now: datetime) -> Decision:
    """Whether an attempt would be allowed now, without counting one."""
    s = _state(session, key, window, now)
    if s.weighted_prev + s.cur < limit:
        return Decision(True, 0, key)
    return Decision(False, _retry_after(s.prev, s.cur, limit, window, s.elapsed), key)


def hit(session: Session, key: str, limit: int, window: timedelta, now: datetime) -> Decision:
    """Count one attempt if it is allowed; a refused attempt is not counted. Never commits."""
    s = _state(session, key, window, now)
    cap = limit - s.weighted_prev
    if cap > 0:
        insert_ignore(session, RateCounter, {"key": key, "window_start": s.start, "count": 0,
                                             "expires_at": s.start + 2 * window})
        result = session.execute(update(RateCounter)
                                 .where(col(RateCounter.key) == key, col(RateCounter.window_start) == s.start,
                                        col(RateCounter.count) < cap)
                                 .values(count=RateCounter.count + 1))
        counted = result.rowcount == 1  # type: ignore[attr-defined]
    else:
        counted = False
    # This key's windows before the previous one no longer count.
    session.execute(delete(RateCounter).where(col(RateCounter.key) == key,
                                              col(RateCounter.window_start) < s.start - window))
    if secrets.randbelow(PURGE_ONE_IN) == 0:
        purge(session, now)
    if counted:
        return Decision(True, 0, key, s.start)
    cur = _count(session, key, s.start)
    return Decision(False, _retry_after(s.prev, cur, limit, window, s.elapsed), key)


def hit_limit(session: Session, key: str, limit: Limit, now: datetime) -> Decision:
    return hit(session, key, limit.count, limit.window, now)


def hit_all(session: Session, now: datetime, limits: Sequence[tuple[str, Limit]]) -> list[Decision]:
    """One attempt counted against every (key, limit), or `RateLimited` at the first that refuses.

    Never commits: run it in its own `atomic` block, so that the counts stick whatever follows, and
    so that a refusal (which rolls the block back) counts nowhere.
    """
    out = []
    for k, limit in limits:
        decision = hit_limit(session, k, limit, now)
        if not decision.allowed:
            raise RateLimited(decision.retry_after_seconds)
        out.append(decision)
    return out


def release(session: Session, decision: Decision) -> None:
    """Give back an attempt `hit` counted (it turned out not to count: e.g. a successful lookup)."""
    if decision.counted_in is None:
        return
    session.execute(update(RateCounter)
                    .where(col(RateCounter.key) == decision.key, col(RateCounter.window_start) == decision.counted_in,
                           col(RateCounter.count) > 0)
                    .values(count=RateCounter.count - 1))


def floor_remaining(floor: timedelta, started: float) -> float:
    """Seconds left until `floor` has passed since `started` (a `time.monotonic()` reading)."""
    return floor.total_seconds() - (time.monotonic() - started)


def pad(floor: timedelta, started: float) -> None:
    """Sleep until `floor` has passed since `started`: answers that must not differ in timing end here."""
    remaining = floor_remaining(floor, started)
    if remaining > 0:
        time.sleep(remaining)


def purge(session: Session, now: datetime) -> int:
    """Delete every counter that no longer counts; the number deleted."""
    result = session.execute(delete(RateCounter).where(col(RateCounter.expires_at) < now))
    return int(result.rowcount)  # type: ignore[attr-defined]
