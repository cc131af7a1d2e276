"""Printable certificate throughput on one core: PDF rendering and QR compact verification.

Run by hand (not a test): `.venv/bin/python bench/bench_render.py [--seconds 3] [--renders 200]`.
Prints, from one run: the one-time font load, the render median (and p95) after warm-up over a cycle of
sample certificates (every level, a rare-character name, a 60-character review body, a reissue, a
self-review), the QR version and size of the typical and the longest real record, compact
verifications per second (no status entry; and two status entries against cached status lists), and
raw Ed25519 sign/verify per second measured in the same run, with the ratios.
Targets (issue): render ≤ 20 ms median; compact verification ≥ 5,000/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "printing")]

from certkit import (  # noqa: E402
    BASE_URL,
    LONG_REVIEW_BODY,
    NOW,
    SAMPLES,
    Bureau,
    id_number,
    status_entries,
    status_list,
)
from common import pin_one_core, rate  # noqa: E402

from issuer.compact import compact_from_minimal  # noqa: E402
from printing import fonts  # noqa: E402
from printing.pdf import render_pdf  # noqa: E402
from printing.qr import make_symbol  # noqa: E402
from proofs import compact  # noqa: E402
from verifier.compact import verify_compact  # noqa: E402
from verifier.status import StaticStatusSource  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()
    pin_one_core()

    started = time.perf_counter()
    fonts.font_set()
    font_load = time.perf_counter() - started

    bureau = Bureau()
    pairs = [bureau.issue(**changes) for changes in SAMPLES.values()]
    certs = [(pair.full, compact_from_minimal(pair.minimal, bureau.issuer_key, BASE_URL, now=NOW)) for pair in pairs]
    started = time.perf_counter()
    typical_pdf = render_pdf(*certs[0])
    first = time.perf_counter() - started
    for full, text in certs:  # warm-up: every sample once (their glyphs, seals and frames are then cached)
        render_pdf(full, text)
    times = []
    for i in range(args.renders):
        full, text = certs[i % len(certs)]
        t0 = time.perf_counter()
        render_pdf(full, text)
        times.append(time.perf_counter() - t0)
    times.sort()
    qr_times = []
    for i in range(args.renders):
        t0 = time.perf_counter()
        make_symbol(certs[i % len(certs)][1])
        qr_times.append(time.perf_counter() - t0)

    typical_pair, typical_text = pairs[0], certs[0][1]
    long_issuer = Bureau(key=bureau.key, name="中国石油天然气集团有限公司人力资源部（职称评审专用）")
    worst_pair = long_issuer.issue(
        name="阿卜杜热合曼·买买提明·艾则孜", namePinyin="Abudureheman Maimaitiming Aizezi",
        idNumber=id_number("65010219800101001"), qualification="正高级工程师", level="正高级",
        reportingUnit="中国石油天然气股份有限公司长庆油田分公司第三采油厂党委组织部（人力资源科）",
        specialty="石油天然气地面工程建设与安全管理", reviewBody=LONG_REVIEW_BODY, reviewChannel="自主评审",
        certificateNumber="A20241101000000001", annotations=["自主评审"],
        scopeOfUse="仅限在民营企业范围内使用（非公有制经济组织）",
        reissueOf="urn:uuid:3f2b0c9e-5d4a-4c2b-9e8f-1a2b3c4d5e6f", status=status_entries())
    worst = compact_from_minimal(worst_pair.minimal, bureau.issuer_key, "https://zhicheng.hrss.shanxi.gov.cn",
                                 now=NOW)
    with_status = bureau.issue(status=status_entries(4321))
    status_text = compact_from_minimal(with_status.minimal, bureau.issuer_key, BASE_URL, now=NOW)

    policy = bureau.policy()
    lists = StaticStatusSource({lst["id"]: lst for lst in (status_list(bureau, "revocation"),
                                                           status_list(bureau, "suspension"))})
    status_policy = bureau.policy(status=lists)
    for text, pol in ((typical_text, policy), (status_text, status_policy)):
        if not verify_compact(text, pol).verified:
            raise SystemExit("benchmark QR code did not verify")

    message = os.urandom(64)
    signature = bureau.key.sign(message)
    public = bureau.key.public_key
    raw_sign = rate(lambda i: bureau.key.sign(message), args.seconds)
    raw_verify = rate(lambda i: public.verify(message, signature), args.seconds)
    compact_verify = rate(lambda i: verify_compact(typical_text, policy), args.seconds)
    compact_verify_status = rate(lambda i: verify_compact(status_text, status_policy), args.seconds)
    compact_sign = rate(lambda i: compact_from_minimal(typical_pair.minimal, bureau.issuer_key, BASE_URL, now=NOW),
                        args.seconds)

    def size(text: str) -> str:
        cose = compact.read_qr_text(text)
        symbol = make_symbol(text)
        return (f"{len(compact.decode_cose(cose).payload)} B claims, {len(cose)} B COSE, {len(text)} chars, "
                f"QR version {symbol.version} ({symbol.size}×{symbol.size}) at EC {symbol.ec_level}")

    print("one core, same run")
    print(f"  fonts found and parsed once      {font_load * 1000:8.0f} ms")
    print(f"  first render (glyphs, frame, seal cold) {first * 1000:5.1f} ms")
    print(f"  render median after warm-up      {statistics.median(times) * 1000:8.2f} ms   "
          f"(p95 {times[int(len(times) * 0.95)] * 1000:.2f} ms, {len(certs)} samples cycled, target ≤ 20 ms)")
    print(f"    of which the QR symbol (zxing)  {statistics.median(qr_times) * 1000:8.2f} ms")
    print(f"  PDF size                         {len(typical_pdf):8,} bytes (typical)")
    print(f"  raw Ed25519 sign                 {raw_sign:8,.0f} /s")
    print(f"  raw Ed25519 verify               {raw_verify:8,.0f} /s")
    print(f"  compact verify (no status)       {compact_verify:8,.0f} /s   {compact_verify / raw_verify:6.3f} of raw "
          "verify (target ≥ 5,000/s)")
    print(f"  compact verify (2 status lists)  {compact_verify_status:8,.0f} /s   "
          f"{compact_verify_status / raw_verify:6.3f} of raw verify (lists verified once, cached 60 s)")
    print(f"  compact sign (issuer)            {compact_sign:8,.0f} /s   {compact_sign / raw_sign:6.3f} of raw sign")
    print(f"  typical record:  {size(typical_text)}")
    print(f"  typical + status: {size(status_text)}")
    print(f"  longest real record (60-char review body, status, reissue, long issuer and URL): {size(worst)}")


if __name__ == "__main__":
    main()
