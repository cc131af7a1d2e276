"""Cryptosuites: how a document and a proof configuration become the bytes that Ed25519 signs.

One `Cryptosuite` protocol, two small implementations (eddsa-rdfc-2022 and eddsa-jcs-2022), as in
Digital Bazaar's data-integrity library: the proof algorithm in `proofs.dataintegrity` is written once
over them. Per the EdDSA Cryptosuites v1.0 Recommendation, the data to sign is
SHA-256(canonical proof config) ‖ SHA-256(canonical document), proof config first.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any, Protocol

from c14n.Canonicalize import canonicalize as jcs_canonicalize

from proofs.canon import DocumentLoaderFn, canonize
from proofs.errors import UnknownCryptosuite


class Cryptosuite(Protocol):
    name: str
    # eddsa-jcs-2022 keeps the document's @context inside the proof; eddsa-rdfc-2022 does not.
    proof_carries_context: bool

    def document_hash(self, unsecured: dict[str, Any], loader: DocumentLoaderFn) -> bytes: ...

    def config_hash(self, config: dict[str, Any], loader: DocumentLoaderFn) -> bytes: ...


class _ConfigHashCache:
    """Proof configs differ between credentials mostly in `created`: hash each distinct one once."""

    def __init__(self, size: int = 4096) -> None:
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        with self._lock:
            self._data[key] = value
            if len(self._data) > self._size:
                self._data.popitem(last=False)


class EddsaRdfc2022:
    name = "eddsa-rdfc-2022"
    proof_carries_context = False

    def __init__(self) -> None:
        self._config_cache = _ConfigHashCache()

    def document_hash(self, unsecured: dict[str, Any], loader: DocumentLoaderFn) -> bytes:
        return hashlib.sha256(canonize(unsecured, loader).encode("utf-8")).digest()

    def config_hash(self, config: dict[str, Any], loader: DocumentLoaderFn) -> bytes:
        # The loader is part of the key: the same config could mean something else under other contexts.
        key = f"{id(loader)}|" + json.dumps(config, sort_keys=True, ensure_ascii=False)
        cached = self._config_cache.get(key)
        if cached is None:
            cached = hashlib.sha256(canonize(config, loader).encode("utf-8")).digest()
            self._config_cache.put(key, cached)
        return cached


class EddsaJcs2022:
    name = "eddsa-jcs-2022"
    proof_carries_context = True

    def document_hash(self, unsecured: dict[str, Any], loader: DocumentLoaderFn) -> bytes:
        return hashlib.sha256(jcs_canonicalize(unsecured)).digest()

    def config_hash(self, config: dict[str, Any], loader: DocumentLoaderFn) -> bytes:
        return hashlib.sha256(jcs_canonicalize(config)).digest()


EDDSA_RDFC_2022 = EddsaRdfc2022()
EDDSA_JCS_2022 = EddsaJcs2022()
SUITES: dict[str, Cryptosuite] = {s.name: s for s in (EDDSA_RDFC_2022, EDDSA_JCS_2022)}


def suite_for(name: Any) -> Cryptosuite:
    if not isinstance(name, str) or name not in SUITES:
        raise UnknownCryptosuite(
            f"unknown cryptosuite {name!r}; supported: {', '.join(sorted(SUITES))}"
        )
    return SUITES[name]
