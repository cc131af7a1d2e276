"""The JSON-LD document loader: serves the contexts bundled in this package, and nothing else.

It must never touch the network. Any URL that is not bundled (or explicitly added by the caller,
e.g. a test vector's context) fails at once with `UnknownContext`. Documents are parsed once and
handed to pyld with `tag: static`, which lets pyld keep the processed context across calls
(a third of canonicalization time otherwise goes to re-resolving contexts).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from schemas.errors import UnknownContext

RemoteDocument = dict[str, Any]


@lru_cache(maxsize=1)
def bundled_contexts() -> Mapping[str, Any]:
    """URL → parsed context document, for every context shipped in `schemas/contexts/`."""
    folder = resources.files("schemas") / "contexts"
    index: dict[str, str] = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    return {url: json.loads((folder / name).read_text(encoding="utf-8")) for url, name in index.items()}


def context_bytes(url: str) -> bytes:
    """The bundled context file exactly as shipped (for publishing it at its URL)."""
    folder = resources.files("schemas") / "contexts"
    index: dict[str, str] = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    if url not in index:
        raise UnknownContext(f"context {url} is not bundled with TitleCred")
    return (folder / index[url]).read_bytes()


class DocumentLoader:
    """A pyld document loader over a fixed set of documents.

    `extra` adds documents (a test vector's context, a DID document given on the command line); they
    are served like the bundled ones. Nothing else is ever fetched.
    """

    def __init__(self, extra: Mapping[str, Any] | None = None, *, bundled: bool = True) -> None:
        self._docs: dict[str, Any] = dict(bundled_contexts()) if bundled else {}
        if extra:
            self._docs.update(extra)
        # Pre-built responses: pyld's cache keys on the remote document's identity and tag.
        self._responses: dict[str, RemoteDocument] = {
            url: {"contextUrl": None, "documentUrl": url, "document": doc, "tag": "static"}
            for url, doc in self._docs.items()
        }

    def __call__(self, url: str, options: Any = None) -> RemoteDocument:
        try:
            return self._responses[url]
        except KeyError:
            raise UnknownContext(
                f"unknown JSON-LD context or document {url!r}: only bundled contexts are loaded, "
                "never fetched from the network"
            ) from None

    def knows(self, url: str) -> bool:
        return url in self._responses

    @property
    def urls(self) -> frozenset[str]:
        return frozenset(self._responses)


@lru_cache(maxsize=1)
def default_loader() -> DocumentLoader:
    """The shared loader over the bundled contexts (one instance, so pyld's caches keep hitting)."""
    return DocumentLoader()
