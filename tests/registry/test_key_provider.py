"""The keystore as the service sees it (titlecred.services.context.KeyProvider): public records from
memory, a key change in this process seen at once, one made by another process within STAT_INTERVAL."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from nacl.pwhash import argon2id

from keys.store import KeyStore
from titlecred.services.context import STAT_INTERVAL, KeyProvider

DID = "did:web:hrss.example.gov.cn"
FAST = {"opslimit": argon2id.OPSLIMIT_MIN, "memlimit": argon2id.MEMLIMIT_MIN}


def _store(path: Path) -> KeyStore:
    return KeyStore(path, "passphrase", **FAST)


def _states(provider: KeyProvider) -> dict[str, str]:
    return {r.key_id: r.state.value for r in provider.cached_records()}


def test_a_key_revoked_in_this_process_is_seen_at_once(tmp_path: Path) -> None:
    _store(tmp_path / "ks").generate(DID)
    provider = KeyProvider(_store(tmp_path / "ks"))
    assert _states(provider) == {f"{DID}#key-1": "active"}
    other = _store(tmp_path / "ks")  # another handle on the same files (as the CLI code has)
    other.rotate()
    other.revoke(f"{DID}#key-1", datetime.now(UTC), "backup tape stolen")
    assert _states(provider) == {f"{DID}#key-1": "revoked", f"{DID}#key-2": "active"}


def test_a_key_revoked_by_another_process_is_seen_within_the_interval(tmp_path: Path) -> None:
    _store(tmp_path / "ks").generate(DID)
    provider = KeyProvider(_store(tmp_path / "ks"))
    version = provider.version
    assert _states(provider) == {f"{DID}#key-1": "active"}
    script = (f"from keys.store import KeyStore; from nacl.pwhash import argon2id; "
              f"KeyStore({str(tmp_path / 'ks')!r}, 'passphrase', opslimit=argon2id.OPSLIMIT_MIN, "
              f"memlimit=argon2id.MEMLIMIT_MIN).rotate()")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).resolve().parents[2])
    time.sleep(STAT_INTERVAL * 1.5)
    assert _states(provider) == {f"{DID}#key-1": "retired", f"{DID}#key-2": "active"}
    assert provider.version > version  # the public documents' ETag changes with them
