"""Batch verification throughput on one core (issue 15): items per second through `titlecred.batch`, for
a registration body's mix (valid, revoked, tampered, unreadable; credentials and QR texts), with both
status entries checked against the bureau's signed lists, beside raw Ed25519 verify measured in the same
run. Also the time of one certificate PDF (its reading runs in a child process, as for strangers' files).

Run by hand (not a test): `.venv/bin/python bench/bench_batch_verify.py [--items 500] [--pdfs 5]`.
Target (issue): a batch of 500 answers well within a request's time (seconds, not minutes).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "printing")]

from certkit import BASE_URL, NOW, Bureau, status_entries, status_list  # noqa: E402
from common import pin_one_core, rate  # noqa: E402

from issuer.compact import compact_from_minimal  # noqa: E402
from printing.pdf import render_pdf  # noqa: E402
from titlecred import batch  # noqa: E402
from verifier.status import StaticStatusSource  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--pdfs", type=int, default=5)
    args = parser.parse_args()
    pin_one_core()

    bureau = Bureau()
    good = bureau.issue(status=status_entries(1000))
    bad = bureau.issue(status=status_entries(2000))
    lists = StaticStatusSource({lst["id"]: lst for lst in (status_list(bureau, "revocation", (2000,)),
                                                         status_list(bureau, "suspension"))})
    policy = bureau.policy(status=lists)
    forged = copy.deepcopy(good.minimal)
    forged["credentialSubject"]["name"] = "王五"
    qr = compact_from_minimal(good.minimal, bureau.issuer_key, BASE_URL, now=NOW)
    kinds = [batch.Item("full", credential=good.full), batch.Item("minimal", credential=good.minimal),
             batch.Item("qr", qr=qr), batch.Item("revoked", credential=bad.minimal),
             batch.Item("forged", credential=forged), batch.Item("junk", qr="not a certificate")]
    items = [kinds[i % len(kinds)] for i in range(args.items)]
    batch.verify_all(items[:len(kinds)], policy)  # warm-up
    started = time.perf_counter()
    results = batch.verify_all(items, policy)
    elapsed = time.perf_counter() - started
    verdicts = {r["verdict"] for r in results}

    pdf = render_pdf(good.full, qr)
    pdf_items = [batch.Item(f"{i}.pdf", data=pdf) for i in range(args.pdfs)]
    started = time.perf_counter()
    batch.verify_all(pdf_items, policy)
    pdf_each = (time.perf_counter() - started) / max(args.pdfs, 1)

    ed = rate(lambda n: bureau.key.public_key.verify(b"m" * 64, bureau.key.sign(b"m" * 64)), 1.0)
    print(f"batch of {args.items} mixed items: {elapsed:.2f} s ({args.items / elapsed:,.0f} items/s); "
          f"verdicts {sorted(verdicts)}")
    print(f"certificate PDF in a batch: {pdf_each * 1000:.0f} ms each (read in a child process)")
    print(f"raw Ed25519 sign+verify: {ed:,.0f}/s; batch items per Ed25519 op: {args.items / elapsed / ed:.3f}")


if __name__ == "__main__":
    main()
