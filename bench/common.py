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


def rates(fn: Callable[[int], Any], seconds: float) -> tuple[float, float]:
    """Calls of `fn(n)` per second of wall clock and per CPU-second of this process, after one warm-up
    call (the second is what one core does when other load takes turns on it)."""
    fn(0)
    n, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        fn(n)
        n += 1
    return n / (time.perf_counter() - started), n / max(time.process_time() - cpu, 1e-9)


BENCH_DID = "did:web:hrss.example.gov.cn"
BENCH_PASSPHRASE = "bench passphrase"


def bench_registry(home: Any, url: str, schema: str | None) -> tuple[Any, Any, Any]:
    """A bureau's home (profile, one key at the lowest Argon2 cost) and an empty database with every
    table (a fresh PostgreSQL schema when `schema` is given): (settings, engine, registry)."""
    from nacl.pwhash import argon2id
    from sqlalchemy import text

    from issuer.credential import IssuerProfile
    from keys.store import KeyStore
    from titlecred.api.app import build_registry
    from titlecred.db.engine import make_engine
    from titlecred.db.migrate import create_all
    from titlecred.issuer_profile import save_profile
    from titlecred.settings import Settings

    if schema:
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
    settings = Settings(home=home, database_url=url, base_url="https://hrss.example.gov.cn",
                        passphrase_from_env=BENCH_PASSPHRASE)
    save_profile(settings, IssuerProfile(did=BENCH_DID, name="示例市人力资源和社会保障局",
                                         unit_code="91140100MA0L5KXW08"))
    KeyStore(settings.keys_dir, BENCH_PASSPHRASE, opslimit=argon2id.OPSLIMIT_MIN,
             memlimit=argon2id.MEMLIMIT_MIN).generate(BENCH_DID)
    engine = make_engine(url, search_path=schema)
    create_all(engine)
    return settings, engine, build_registry(settings)
