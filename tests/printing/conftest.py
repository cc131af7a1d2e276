"""Fixtures for the printable certificate: a real bureau key, real records, real PDFs, real fonts.

Nothing is mocked: certificates are issued and signed, rendered with the installed CJK fonts, read back
with pdfium, rendered to images and decoded with zxing-cpp.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent))

from certkit import SAMPLES, Bureau, Certificate

from verifier.policy import Policy


@pytest.fixture(scope="session")
def bureau() -> Bureau:
    return Bureau()


@pytest.fixture(scope="session")
def samples(bureau: Bureau) -> dict[str, Certificate]:
    return {name: bureau.certificate(**changes) for name, changes in SAMPLES.items()}


@pytest.fixture(scope="session")
def policy(bureau: Bureau) -> Policy:
    return bureau.policy()
