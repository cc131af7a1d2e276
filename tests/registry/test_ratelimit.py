"""Rate limits in the database: counted up to the limit, sliding, released, purged, and exact under
concurrent callers on both databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from registry.kit import count
from sqlmodel import select

from titlecred.db.models import RateCounter
from titlecred.services import ratelimit
from titlecred.services.config import Limit, RegistryConfig
from titlecred.services.tx import atomic

MINUTE = timedelta(minutes=1)
# A window boundary: the epoch is divisible by 60 here.
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def hit(sessions: Any, key: str, limit: int, now: datetime, window: timedelta = MINUTE) -> ratelimit.Decision:
    with sessions() as s, atomic(s):
        return ratelimit.hit(s, key, limit, window, now)


def test_attempts_are_allowed_up_to_the_limit_then_refused_with_a_retry_after(sessions: Any) -> None:
    decisions = [hit(sessions, "k", 3, T0 + timedelta(seconds=10)) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    # Three attempts in this window fade out over the next one: the wait ends when the estimate drops.
    assert decisions[3].retry_after_seconds == 50
    assert hit(sessions, "other key", 3, T0 + timedelta(seconds=10)).allowed  # keys are independent
    with sessions() as s:
        assert s.exec(select(RateCounter.count).where(RateCounter.key == "k")).one() == 3  # refusals not counted


def test_peek_counts_nothing(sessions: Any) -> None:
    with sessions() as s:
        for _ in range(5):
            assert ratelimit.peek(s, "k", 1, MINUTE, T0).allowed
    assert hit(sessions, "k", 1, T0).allowed
    with sessions() as s:
        decision = ratelimit.peek(s, "k", 1, MINUTE, T0)
    assert not decision.allowed and decision.retry_after_seconds == 60


def test_the_window_slides_so_a_burst_at_its_end_gets_no_fresh_allowance(sessions: Any) -> None:
    for _ in range(3):
        assert hit(sessions, "k", 3, T0 + timedelta(seconds=59)).allowed
    # A fixed window would allow three more a second later; the previous window still weighs in full.
    refused = hit(sessions, "k", 3, T0 + timedelta(seconds=60))
    assert not refused.allowed and refused.retry_after_seconds == 1
    allowed = [hit(sessions, "k", 3, T0 + timedelta(seconds=60 + s)).allowed for s in range(1, 60, 2)]
    # The allowance comes back as the burst fades: never more than the limit in any one window.
    assert sum(allowed) == 3 and allowed[0] and not all(allowed[:3])
    assert hit(sessions, "k", 3, T0 + timedelta(seconds=180)).allowed


def test_release_gives_a_counted_attempt_back(sessions: Any) -> None:
    first = hit(sessions, "k", 1, T0)
    assert first.allowed and not hit(sessions, "k", 1, T0).allowed
    with sessions() as s, atomic(s):
        ratelimit.release(s, first)
        ratelimit.release(s, ratelimit.Decision(False, 5, "k"))  # an uncounted attempt: nothing to give back
    assert hit(sessions, "k", 1, T0).allowed


def test_hit_all_counts_everywhere_or_nowhere(sessions: Any) -> None:
    limits = [("a", Limit(5, MINUTE)), ("b", Limit(1, MINUTE))]
    with sessions() as s, atomic(s):
        assert len(ratelimit.hit_all(s, T0, limits)) == 2
    try:
        with sessions() as s, atomic(s):
            ratelimit.hit_all(s, T0, limits)
        raise AssertionError("the second attempt should be refused by b")
    except ratelimit.RateLimited as e:
        assert e.status == 429 and e.code == "rate_limited" and e.retry_after_seconds == 60
    with sessions() as s:
        assert s.exec(select(RateCounter.count).where(RateCounter.key == "a")).one() == 1  # rolled back


def test_old_counters_are_purged(sessions: Any) -> None:
    hit(sessions, "old", 3, T0)
    hit(sessions, "k", 3, T0)
    hit(sessions, "k", 3, T0 + 3 * MINUTE)  # its own windows before the previous one go at once
    assert count(sessions, RateCounter, RateCounter.key == "k") == 1
    with sessions() as s, atomic(s):
        # (A hit purges everything now and then by itself, so "old" may be gone already.)
        assert ratelimit.purge(s, T0 + 3 * MINUTE) in (0, 1)
    assert count(sessions, RateCounter) == 1


def test_concurrent_attempts_never_exceed_the_limit(sessions: Any) -> None:
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def attempt() -> None:
        start.wait()
        decision = hit(sessions, "contended", 5, T0)
        with lock:
            results.append(decision.allowed)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True] * 5
    with sessions() as s:
        assert s.exec(select(RateCounter.count).where(RateCounter.key == "contended")).one() == 5


def test_keys_are_hmacs_and_ipv6_clients_count_by_their_64_network() -> None:
    config = RegistryConfig(lookup_secret=b"another secret of enough length")
    k = ratelimit.key(config, "lookup-client", "203.0.113.7")
    assert len(k) == 64 and "203.0.113.7" not in k
    assert k != ratelimit.key(config, "lookup-certificate", "203.0.113.7")
    assert ratelimit.client_bucket("2001:db8:1:2:aaaa::1") == ratelimit.client_bucket("2001:db8:1:2:bbbb::9")
    assert ratelimit.client_bucket("2001:db8:1:3::1") != ratelimit.client_bucket("2001:db8:1:2::1")
    assert ratelimit.client_bucket("::ffff:203.0.113.7") == "203.0.113.7"
    assert ratelimit.client_bucket(" 203.0.113.7 ") == "203.0.113.7"
    assert ratelimit.client_bucket("testclient") == "testclient"
