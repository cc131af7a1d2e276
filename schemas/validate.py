"""JSON Schema (2020-12) validation of TitleCred credentials against the bundled schemas.

Schemas are found by the `credentialSchema.id` a credential names, among the files in
`schemas/json/`; nothing is fetched.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema_rs

FULL_SCHEMA_ID = "https://w3id.org/titlecred/schemas/professional-title-credential/v1"
MINIMAL_SCHEMA_ID = "https://w3id.org/titlecred/schemas/minimal-title-credential/v1"


@lru_cache(maxsize=1)
def bundled_schemas() -> dict[str, dict[str, Any]]:
    folder = resources.files("schemas") / "json"
    out: dict[str, dict[str, Any]] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            schema = json.loads(entry.read_text(encoding="utf-8"))
            out[schema["$id"]] = schema
    return out


@lru_cache(maxsize=16)
def _validator(schema_id: str) -> jsonschema_rs.Draft202012Validator:
    # jsonschema-rs (Rust): ~2 µs per credential, against ~250 µs for the pure-Python validator,
    # which made schema checking the largest cost of verification.
    return jsonschema_rs.Draft202012Validator(bundled_schemas()[schema_id])


def knows_schema(schema_id: str) -> bool:
    return schema_id in bundled_schemas()


def schema_errors(document: Any, schema_id: str, limit: int = 5) -> list[str]:
    """Human-readable violations (at most `limit`), each naming where in the document it is."""
    validator = _validator(schema_id)
    if validator.is_valid(document):
        return []
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.instance_path])
    out = []
    for err in errors[:limit]:
        where = "/".join(str(p) for p in err.instance_path) or "(document)"
        out.append(f"{where}: {err.message}")
    return out
