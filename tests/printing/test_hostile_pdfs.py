"""Hostile PDFs and images, built here byte by byte: refused with a clear error, fast, in bounded memory.

Each goes through `titlecred verify`'s own path (`verify_input`, the reader in a child process under
an address-space limit); the child reports its peak resident memory, which must stay under 512 MB.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import hostile_inputs as h
import pytest

from keys.did import DidResolver
from printing.extract import LAST_CHILD
from titlecred.printed import verify_input
from verifier.policy import Policy

FIGURES: dict[str, tuple[float, float]] = {}

CASES: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "1 MB PDF, 1 GB compressed attachment": (lambda: h.pdf_with_attachment_bomb(1024), "input_too_large",
                                             "inflate to more than"),
    "8 MB PDF, 8 GB compressed attachment": (lambda: h.pdf_with_attachment_bomb(8192), "input_too_large",
                                             "inflate to more than"),
    "forms drawing forms, 10 times over 9 levels": (h.pdf_with_nested_forms, "input_too_large",
                                                    "forms can draw each other"),
    "40000 x 40000 image in a PDF": (h.pdf_with_huge_image, "input_too_large", "pixels"),
    "40000 x 40000 PNG": (h.png_header_only, "input_too_large", "pixels"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_file_is_refused_quickly_in_bounded_memory(name: str, tmp_path: Path) -> None:
    build, code, words = CASES[name]
    path = tmp_path / ("hostile.png" if "PNG" in name else "hostile.pdf")
    path.write_bytes(build())
    started = time.monotonic()
    result = verify_input(path, Policy(resolver=DidResolver([])))
    elapsed = time.monotonic() - started
    assert not result.verified
    assert result.errors and result.errors[0]["code"] == code, result.errors
    assert words in result.errors[0]["message"]
    assert elapsed < 5.0
    peak_mib = LAST_CHILD["peak_rss_kib"] / 1024
    assert peak_mib < 512
    FIGURES[name] = (elapsed, peak_mib)
    print(f"{name}: {path.stat().st_size} bytes refused in {elapsed:.2f} s, child peak RSS {peak_mib:.0f} MiB")
