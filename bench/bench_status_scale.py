"""Status lists at 1,000,000 certificates: how many lists, their sizes, what a verifier downloads, and the
time to revoke one certificate and republish its list.

    .venv/bin/python bench/bench_status_scale.py [--certificates 1000000] [--revoked 0.01]
        [--database sqlite|postgresql]

With the registry's defaults (131,072 bits a list, filled to half so that random indexes rarely
collide) it makes every revocation and suspension list that many certificates need, in a fresh
database, with `--revoked` of the used indexes set (revoked certificates), signs them, and prints:
the lists per purpose; each list's raw, encoded (GZIP + base64url, the `encodedList`) and signed
credential sizes, and what goes over the wire gzip-compressed; and the median time to revoke one
certificate (lock the list, set the bit, re-sign the list credential, commit), pinned to one core.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from common import bench_registry, pin_one_core  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--certificates", type=int, default=1_000_000)
    ap.add_argument("--revoked", type=float, default=0.01)
    ap.add_argument("--revocations", type=int, default=50, help="revocations timed")
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = ap.parse_args()
    pin_one_core()
    from sqlalchemy import text
    from sqlmodel import select

    from schemas import bitstring
    from titlecred.db.engine import make_engine, session_factory
    from titlecred.db.models import StatusList
    from titlecred.services import status
    from titlecred.services.tx import atomic, locked

    with tempfile.TemporaryDirectory(prefix="titlecred-status-") as tmp:
        home = Path(tmp)
        schema = None
        if args.database == "sqlite":
            url = f"sqlite:///{home / 'status.db'}"
        else:
            url = os.environ.get("TITLECRED_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
            schema = "bench_" + uuid.uuid4().hex[:10]
        _settings, engine, registry = bench_registry(home, url, schema)
        cfg = registry.config
        per_list = int(cfg.status_list_bits * cfg.status_fill_limit)
        lists = math.ceil(args.certificates / per_list)
        sessions = session_factory(engine)
        now = registry.now()
        with sessions() as s, atomic(s):
            for purpose in status.PURPOSES:
                for n in range(1, lists + 1):
                    used = min(per_list, args.certificates - (n - 1) * per_list)
                    bits = bitstring.empty(cfg.status_list_bits)
                    if purpose == "revocation":
                        for i in secrets.SystemRandom().sample(range(cfg.status_list_bits), int(used * args.revoked)):
                            bitstring.set_bit(bits, i, True)
                    lst = StatusList(id=f"{purpose}-{n}", purpose=purpose, size_bits=cfg.status_list_bits,
                                     bits=bytes(bits), used=used, version=1, published_version=0, created_at=now)
                    status.republish(registry, lst)
                    s.add(lst)
        with sessions() as s:
            sample = s.exec(select(StatusList).where(StatusList.id == "revocation-1")).one()
            assert sample.published_json is not None
            raw = len(sample.bits)
            encoded = len(status.list_credential(registry, sample)["credentialSubject"]["encodedList"])
            signed = len(sample.published_json.encode("utf-8"))
            wire = len(gzip.compress(sample.published_json.encode("utf-8")))
        times = []
        for k in range(args.revocations):
            list_id = f"revocation-{1 + k % lists}"
            index = secrets.randbelow(cfg.status_list_bits)
            started = time.perf_counter()
            with sessions() as s, atomic(s):
                row = locked(s, select(StatusList).where(StatusList.id == list_id))
                assert row is not None
                status.set_bit(s, registry, row, index, True)
            times.append(time.perf_counter() - started)
        engine.dispose()
        if schema:
            admin = make_engine(url)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    print(f"{args.certificates:,} certificates, {args.revoked:.1%} revoked, {args.database}")
    print(f"  lists: {lists} revocation + {lists} suspension ({cfg.status_list_bits:,} bits each, "
          f"{per_list:,} certificates each at the {cfg.status_fill_limit:.0%} fill limit)")
    print(f"  one list: raw bits {raw:,} B; encodedList {encoded:,} B; signed credential {signed:,} B; "
          f"over the wire (gzip) {wire:,} B")
    print(f"  a verifier checking any certificate downloads 2 lists: {2 * wire:,} B; every list of the "
          f"province: {2 * lists * wire:,} B ({2 * lists * wire / 1e6:.2f} MB), and then only changed ones "
          f"(ETag, 304)")
    print(f"  revoke one and republish (lock, set bit, re-sign, commit): median "
          f"{statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms over {len(times)}   "
          f"target: well under a second")


if __name__ == "__main__":
    main()
