"""OFD rendition and sealing on one core, beside the PDF of the same pages (issue 18).

Run by hand (not a test): `.venv/bin/python bench/bench_ofd.py [--renders 40]`.
Prints, from one run: the OFD render median and p95 after warm-up over the sample certificates, the
PDF render median of the same certificates, their ratio, the seal and seal-verify medians (SM3 per
part, SM2 in gmssl's pure Python), and the OFD's size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "printing")]

from certkit import BASE_URL, NOW, SAMPLES, Bureau  # noqa: E402
from common import pin_one_core  # noqa: E402

from issuer.compact import compact_from_minimal  # noqa: E402
from printing.ofd.package import render_ofd  # noqa: E402
from printing.ofd.seal import SoftwareSm2Signer, read_parts, seal_ofd, verify_sealed  # noqa: E402
from printing.pdf import render_pdf  # noqa: E402


def _median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renders", type=int, default=40)
    args = parser.parse_args()
    pin_one_core()
    bureau = Bureau()
    pairs = [bureau.issue(**changes) for changes in SAMPLES.values()]
    certs = [(p.full, compact_from_minimal(p.minimal, bureau.issuer_key, BASE_URL, now=NOW)) for p in pairs]
    for full, text in certs:  # warm-up: glyphs converted, backgrounds and seals interpreted once
        render_ofd(full, text)
        render_pdf(full, text)
    ofd_times, pdf_times = [], []
    for i in range(args.renders):
        full, text = certs[i % len(certs)]
        t0 = time.perf_counter()
        render_ofd(full, text)
        ofd_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        render_pdf(full, text)
        pdf_times.append(time.perf_counter() - t0)
    signer = SoftwareSm2Signer(SoftwareSm2Signer.generate_key(), bureau.name)
    ofd = render_ofd(*certs[0])
    seal_times, verify_times = [], []
    for _ in range(10):
        t0 = time.perf_counter()
        sealed = seal_ofd(ofd, signer)
        seal_times.append(time.perf_counter() - t0)
        parts = read_parts(sealed)
        t0 = time.perf_counter()
        assert verify_sealed(parts).ok
        verify_times.append(time.perf_counter() - t0)
    ofd_ms, pdf_ms = _median_ms(ofd_times), _median_ms(pdf_times)
    ofd_times.sort()
    print(f"OFD render median {ofd_ms:.1f} ms (p95 {ofd_times[int(len(ofd_times) * 0.95) - 1] * 1000:.1f} ms), "
          f"{len(ofd):,} bytes")
    print(f"PDF render median {pdf_ms:.1f} ms (same certificates, same run); OFD/PDF = {ofd_ms / pdf_ms:.1f}")
    print(f"seal median {_median_ms(seal_times):.1f} ms; seal verify median {_median_ms(verify_times):.1f} ms")


if __name__ == "__main__":
    main()
