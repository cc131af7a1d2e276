"""What every service needs besides the session: the issuer, its keys, the public base URL, settings.

`Registry` is built once per process (the API's app factory, the CLI) and passed in. It holds the
keystore through `KeyProvider`, which decrypts the active signing key once and reuses it until the
active key changes (decryption runs Argon2id, far too slow to repeat per certificate).

It must never expose the signing key itself: services get an `IssuerKey` (an id and a sign function).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from issuer.credential import IssuerProfile
from issuer.sign import IssuerKey
from keys.material import SigningKey
from keys.publish import build_did_document, build_jwks
from keys.state import KeyRecord
from keys.store import KeyStore, writes
from titlecred.services.clock import utc_now
from titlecred.services.config import RegistryConfig
from titlecred.services.senders import CodeSender, ConsoleSender

# How often a process looks at the keystore directory for another process's key changes (seconds).
STAT_INTERVAL = 0.1


class KeyProvider:
    """The keystore as services see it: the active key (cached signer), and every key's public record."""

    def __init__(self, store: KeyStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._cached: tuple[str, SigningKey] | None = None
        self._records: tuple[tuple[object, ...], list[KeyRecord]] | None = None
        self._docs: dict[str, tuple[int, dict[str, object]]] = {}
        self.version = 0  # bumped whenever the records change (the public documents' ETag)
        self._stat: tuple[float, tuple[int, int, int]] | None = None

    def _signature(self) -> tuple[object, ...]:
        # The keystore writes every file by create-and-rename (keys.store.atomic_write), which changes
        # its directory's mtime: one stat tells whether another process changed a key, and this
        # process's own writes are counted (keys.store.writes()). The stat is made at most every
        # `STAT_INTERVAL` seconds: on the verify path it ran several times a request, and a system call
        # from a verification thread gives up the GIL and waits to get it back from the event loop.
        # Another process's key change is seen within that interval; this process's at once.
        now = time.monotonic()
        held = self._stat
        if held is None or now - held[0] >= STAT_INTERVAL:
            try:
                st = os.stat(self._store.path)
            except OSError:
                self._stat = None
                return ()
            held = self._stat = (now, (st.st_mtime_ns, st.st_ino, st.st_nlink))
        return (writes(), *held[1])

    def cached_records(self) -> list[KeyRecord]:
        """Every key's public record, from memory (re-read when the keystore's files change)."""
        sig = self._signature()
        cached = self._records
        if cached is not None and cached[0] == sig and sig:
            return cached[1]
        with self._lock:
            if self._records is None or self._records[0] != sig or not sig:
                self._records = (sig, self._store.list())
                self.version += 1
            return self._records[1]

    def document(self, kind: str, build: Callable[[list[KeyRecord]], dict[str, object]]) -> dict[str, object]:
        """A public document built from the records (did.json, jwks.json), rebuilt only when they change."""
        records = self.cached_records()
        hit = self._docs.get(kind)
        if hit is not None and hit[0] == self.version:
            return hit[1]
        doc = build(records)
        self._docs[kind] = (self.version, doc)
        return doc

    def cached_active_key_id(self) -> str:
        """The active key's id from the cached records (status lists check it on every request)."""
        for record in reversed(self.cached_records()):
            if record.state.value == "active":
                return record.key_id
        return self._store.active().key_id

    def active(self) -> IssuerKey:
        # The record is re-read every time, so a key retired or revoked from the CLI while the service
        # runs stops signing at once; only the decrypted signer is cached.
        record = self._store.active()
        with self._lock:
            if self._cached is None or self._cached[0] != record.key_id:
                self._cached = (record.key_id, self._store.signer(record.key_id))
            signer = self._cached[1]
        return IssuerKey(verification_method=record.key_id, sign=signer.sign)

    def active_key_id(self) -> str:
        return self._store.active().key_id

    def records(self) -> list[KeyRecord]:
        return self._store.list()


@dataclass
class Registry:
    profile: IssuerProfile
    keys: KeyProvider
    base_url: str
    config: RegistryConfig
    clock: Callable[[], datetime] = field(default=utc_now)
    # How one-time sign-in codes are sent (TITLECRED_CODE_SENDER; app.build_registry picks it).
    sender: CodeSender = field(default_factory=ConsoleSender)
    # Further issuer instances (titlecred/issuers.py), each a Registry of its own with its profile and
    # keys; `list_prefix` names its status lists (`<prefix>revocation-N`); the bureau's is "".
    instances: dict[str, Registry] = field(default_factory=dict)
    instance_name: str | None = None
    list_prefix: str = ""

    def add_instance(self, name: str, profile: IssuerProfile, keys: KeyProvider) -> Registry:
        """Attach issuer instance `name` (its own profile and keys; everything else shared)."""
        from dataclasses import replace

        inst = replace(self, profile=profile, keys=keys, instances={}, instance_name=name, list_prefix=name)
        self.instances[name] = inst
        return inst

    def instance_for_issuer(self, issuer: str | None) -> Registry | None:
        """The registry that signs as `issuer` (None: the bureau), or None if no instance does."""
        if issuer is None or issuer == self.profile.did:
            return self
        return next((r for r in self.instances.values() if r.profile.did == issuer), None)

    def for_list(self, list_id: str) -> Registry:
        """The registry whose key signs status list `list_id` (by its name's prefix)."""
        for reg in self.instances.values():
            if reg.list_prefix and list_id.startswith(reg.list_prefix) and \
                    list_id[len(reg.list_prefix):].split("-", 1)[0] in ("revocation", "suspension"):
                return reg
        return self

    def now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def did_document(self) -> dict[str, object]:
        return self.keys.document("did", lambda records: build_did_document(self.profile.did, records))

    def jwks(self) -> dict[str, object]:
        return self.keys.document("jwks", lambda records: build_jwks(self.profile.did, records))

    def status_list_url(self, list_id: str) -> str:
        return f"{self.base_url}/status/{list_id}"
