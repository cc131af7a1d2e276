"""Shared fixtures: where the W3C material lives, real keys, real databases."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    env = os.environ.get("TITLECRED_SHARED_DIR")
    if env:
        return Path(env)
    for candidate in (REPO.parent / "shared", REPO / "shared"):
        if candidate.is_dir():
            return candidate
    pytest.skip("the shared/ reference folder (W3C vectors) is not beside the repository")


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def w3c() -> Path:
    return shared_dir() / "w3c"


@pytest.fixture(scope="session")
def test_only_contexts(w3c: Path) -> dict[str, Any]:
    """Contexts that the vectors use but the product does not bundle (citizenship/v4rc1)."""
    return {"https://w3id.org/citizenship/v4rc1": load_json(w3c / "contexts" / "w3id.org_citizenship_v4rc1.jsonld")}
