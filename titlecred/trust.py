"""Build a verification policy from what a verifier has: DID documents, JWKS files, status lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keys.did import DidResolver
from keys.publish import build_did_document
from proofs.bounds import parse_json
from titlecred.errors import AppError
from titlecred.settings import Settings
from verifier.policy import Policy
from verifier.status import StaticStatusSource


def read_json_file(path: Path, what: str) -> Any:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise AppError("unreadable_file", f"cannot read {what} {path}: {e.strerror}") from None
    return parse_json(data)


def local_trust_documents(settings: Settings) -> list[dict[str, Any]]:
    """The local issuer's DID document (with every key's state), when this home has an issuer."""
    from titlecred.issuer_profile import load_profile, open_keystore

    if not settings.issuer_file.exists() or not settings.keys_dir.exists():
        return []
    profile = load_profile(settings)
    store = open_keystore(settings)
    records = store.list()
    return [build_did_document(profile.did, records)] if records else []


def build_policy(
    trust_files: list[Path],
    status_files: list[Path],
    *,
    trusted_issuers: list[str] | None = None,
    extra_documents: list[dict[str, Any]] | None = None,
    online: bool = False,
) -> Policy:
    documents = [read_json_file(p, "trust document") for p in trust_files]
    documents += extra_documents or []
    resolver = DidResolver(documents, online=online)
    source = StaticStatusSource()
    for p in status_files:
        source.add(read_json_file(p, "status list"))
    return Policy(resolver=resolver, trusted_issuers=frozenset(trusted_issuers or []), status=source)


def dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)
