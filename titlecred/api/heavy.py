"""Worker threads of their own for the public routes' CPU-heavy work (verification).

Verification runs JSON-LD and RDFC-1.0 in pure Python. Run on the shared thread pool, a burst of
hostile verify requests would take every thread, and `did.json`, the status lists and sign-in (also
run on that pool) would wait behind them. Here at most `VERIFY_THREADS` verifications run at once;
the rest wait for a thread without holding one, and the shared pool stays free for everyone else.
Each verification is itself bounded in work (`proofs.bounds`, RDFC-1.0's work limit), so none holds
a thread for long.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
VERIFY_THREADS = 64
_limiters: dict[int, anyio.CapacityLimiter] = {}


def _limiter() -> anyio.CapacityLimiter:
    # One per event loop (a limiter belongs to the loop it was made in; tests start several).
    loop = id(asyncio.get_running_loop())
    limiter = _limiters.get(loop)
    if limiter is None:
        if len(_limiters) > 16:
            _limiters.clear()
        limiter = _limiters[loop] = anyio.CapacityLimiter(VERIFY_THREADS)
    return limiter


async def run_verification(fn: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=_limiter())
