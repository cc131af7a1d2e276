"""What every benchmark here does the same way: pin to one core, count calls per second."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any


def pin_one_core() -> None:
    """One core, as the targets are stated (and so that a second core's load does not help)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def rate(fn: Callable[[int], Any], seconds: float) -> float:
    """Calls of `fn(n)` per second over `seconds`, after one warm-up call."""
    fn(0)
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        fn(n)
        n += 1
    return n / (time.perf_counter() - started)
