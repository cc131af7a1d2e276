"""Fixtures of the keys tests: the W3C eddsa-rdfc-2022 vector key and its did:key document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def vector_dir(w3c: Path) -> Path:
    return w3c / "vectors" / "eddsa-rdfc-2022"


@pytest.fixture(scope="session")
def vector_pair(vector_dir: Path) -> dict[str, str]:
    pair: dict[str, str] = json.loads((vector_dir / "keyPair.json").read_text("utf-8"))
    return pair


@pytest.fixture(scope="session")
def vector_controller_document(vector_dir: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((vector_dir / "controller-did-key.json").read_text("utf-8"))
    return doc
