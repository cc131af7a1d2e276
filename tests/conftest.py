"""Shared fixtures: where the W3C material lives, real keys, real databases."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


# The W3C vectors and contexts the tests need, kept in the repository (tests/data/w3c/README.md), so
# that a fresh clone tests conformance; TITLECRED_SHARED_DIR may name another `shared/` folder.
TEST_DATA = REPO / "tests" / "data"


def shared_dir() -> Path:
    env = os.environ.get("TITLECRED_SHARED_DIR")
    if env:
        return Path(env)
    if not (TEST_DATA / "w3c" / "vectors").is_dir():
        pytest.fail(f"the W3C test data is missing from {TEST_DATA / 'w3c'}")
    return TEST_DATA


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def w3c() -> Path:
    return shared_dir() / "w3c"


@pytest.fixture(scope="session")
def test_only_contexts(w3c: Path) -> dict[str, Any]:
    """Contexts that the vectors use but the product does not bundle (citizenship/v4rc1)."""
    return {"https://w3id.org/citizenship/v4rc1": load_json(w3c / "contexts" / "w3id.org_citizenship_v4rc1.jsonld")}
