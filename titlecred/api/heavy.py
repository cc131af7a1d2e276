"""Worker threads of their own for the public routes' CPU-heavy work (verification).

Verification runs JSON-LD and RDFC-1.0 in pure Python. Run on the shared thread pool, a burst of
hostile verify requests would take every thread, and `did.json`, the status lists and sign-in (also
run on that pool) would wait behind them. Here at most `VERIFY_THREADS` verifications run at once, on
an executor of their own; the rest wait in its queue without holding a thread, and the shared pool
stays free for everyone else. Each verification is itself bounded in work (`proofs.bounds`,
RDFC-1.0's work limit), so none holds a thread for long.

A plain `concurrent.futures` executor rather than anyio's worker threads: the hop costs about two
thirds as much (≈20 µs against ≈30 µs), on a route whose whole work is a few hundred microseconds, and
an executor belongs to no event loop (tests start several). A request cancelled while it waits (the
client went away) is dropped from the queue; one already running finishes on its thread.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from titlecred.services import verification
from titlecred.services.status_cache import CachedStatusSource
from verifier.result import VerificationResult

T = TypeVar("T")
VERIFY_THREADS = 64
_executor = ThreadPoolExecutor(max_workers=VERIFY_THREADS, thread_name_prefix="titlecred-verify")


async def run_verification(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_executor, functools.partial(fn, *args))


def _verify(what: Callable[..., T], state: Any, document: dict[str, Any], options: Any) -> T:
    # One hop for the whole request; a session is opened here and touches the database only if the
    # audit log is needed as evidence (a compromised key) or a status list is due for its recheck.
    with state.sessions() as session:
        source = CachedStatusSource(state.status_cache, state.registry, session)
        return what(session, state.registry, document, options, source)


def _verify_vc(state: Any, vc: dict[str, Any], options: Any) -> VerificationResult:
    return _verify(verification.verify_vc, state, vc, options)


async def verify_credential(state: Any, vc: dict[str, Any], options: Any) -> VerificationResult:
    """`POST /credentials/verify`'s work on the verification threads (`state`: the app's state)."""
    return await run_verification(_verify_vc, state, vc, options)


async def verify_presentation(state: Any, vp: dict[str, Any], options: Any) -> verification.PresentationResult:
    """`POST /presentations/verify`'s work on the verification threads."""
    return await run_verification(_verify, verification.verify_vp, state, vp, options)
