"""Canonical N-Quads by template, for documents of a shape already seen: the fast path of `canon`.

Canonicalizing a credential with pyld costs about half a millisecond, nearly all of it JSON-LD
expansion. But credentials of one shape (same keys, nesting, list lengths, contexts and types)
differ only in their leaf strings, and where a graph has at most one blank node RDFC-1.0's labels do
not depend on those strings. So the first document of a shape is canonicalized by pyld with every
string leaf replaced by a unique placeholder; where each placeholder lands (an IRI `<…>` or a literal
`"…"`) is recorded; later documents of that shape are serialized by substituting their own strings
(escaped as RDFC-1.0 prescribes) and sorting the lines.

The template is used only when it is provably equivalent; otherwise `canonize` falls back to pyld:
- a shape whose template has more than one blank node, or in which a placeholder was dropped,
  changed, or appears other than as a whole IRI or a whole literal, gets no template;
- a string landing in an IRI position must be an absolute IRI of a plain form (urn:, did:, http(s):)
  that expansion leaves unchanged; anything else falls back;
- non-string leaves (booleans, numbers, null), `@context` entries, `type` values and every key are
  part of the shape itself.
`tests/test_canon_templates.py` checks it against pyld on every W3C vector and on generated documents.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_PLACEHOLDER = "urn:x-titlecred-ph:{}:z"
_PH_RE = re.compile(r"urn:x-titlecred-ph:(\d+):z")
# IRIs that JSON-LD expansion passes through unchanged (no compact-IRI prefix of ours is one of these
# schemes) and that N-Quads can carry without escaping.
_SAFE_IRI = re.compile(r"(?:urn|did|https?):[^\s<>\"{}|\\^`\x00-\x20]*\Z")
_STRUCTURAL_KEYS = frozenset({"@context", "type", "@type"})

Escape = Callable[[str], str]


@dataclass(frozen=True)
class _Template:
    lines: tuple[tuple[str | int, ...], ...]  # each line: literal text and leaf indexes
    iri_leaves: frozenset[int]


def _shape(doc: Any, leaves: list[str]) -> Any:
    """The document's shape with every string leaf replaced by a placeholder; collects the leaves."""
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            out[k] = v if k in _STRUCTURAL_KEYS else _shape(v, leaves)
        return out
    if isinstance(doc, list):
        return [_shape(v, leaves) for v in doc]
    if isinstance(doc, str):
        leaves.append(doc)
        return _PLACEHOLDER.format(len(leaves) - 1)
    return doc


def _compile(nquads: str, leaf_count: int) -> _Template | None:
    lines: list[tuple[str | int, ...]] = []
    seen_literal: set[int] = set()
    iri: set[int] = set()
    blank_labels = set(re.findall(r"_:c14n\d+", nquads))
    if len(blank_labels) > 1:
        return None
    for line in nquads.splitlines(keepends=True):
        parts: list[str | int] = []
        pos = 0
        for m in _PH_RE.finditer(line):
            index = int(m.group(1))
            before, after = line[m.start() - 1: m.start()], line[m.end(): m.end() + 1]
            if before == "<" and after == ">":
                iri.add(index)
            elif before == '"' and after == '"':
                if index in seen_literal:
                    return None
                seen_literal.add(index)
            else:
                return None  # the placeholder was changed or embedded: no safe substitution
            parts.append(line[pos: m.start()])
            parts.append(index)
            pos = m.end()
        parts.append(line[pos:])
        lines.append(tuple(parts))
    if iri & seen_literal or len(iri | seen_literal) != leaf_count:
        return None  # some string was dropped or used both ways
    return _Template(tuple(lines), frozenset(iri))


_PREFIX_TERMS = frozenset({"urn", "did", "http", "https"})


def _defines_prefix(node: Any) -> bool:
    if isinstance(node, dict):
        return any(k in _PREFIX_TERMS for k in node) or any(_defines_prefix(v) for v in node.values())
    if isinstance(node, list):
        return any(_defines_prefix(v) for v in node)
    return False


def _contexts(doc: Any, out: list[Any]) -> list[Any]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == "@context":
                out.extend(v if isinstance(v, list) else [v])
            else:
                _contexts(v, out)
    elif isinstance(doc, list):
        for v in doc:
            _contexts(v, out)
    return out


class TemplateCache:
    """Templates per (loader, shape), bounded: a stranger inventing shapes only gets pyld's speed."""

    def __init__(self, size: int = 128) -> None:
        self._data: OrderedDict[tuple[int, str], _Template | None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self._plain: dict[int, frozenset[str]] = {}

    def _plain_contexts(self, loader: Any) -> frozenset[str]:
        """Context URLs that define none of the IRI schemes as a prefix (so such IRIs expand to themselves)."""
        cached = self._plain.get(id(loader))
        if cached is None:
            cached = frozenset(url for url in loader.urls
                               if not _defines_prefix(loader(url, None)["document"]))
            self._plain[id(loader)] = cached
        return cached

    def canonize(self, doc: dict[str, Any], loader: Any, slow: Callable[[dict[str, Any]], str],
                 escape: Escape) -> str:
        # The fast path is only ever an optimization: any failure of it (a placeholder pyld refuses
        # where a keyword value belongs, @direction, @language...) falls back to the full path, whose
        # own errors are the only ones that surface.
        try:
            fast = self._fast(doc, loader, slow, escape)
        except Exception:
            fast = None
        return fast if fast is not None else slow(doc)

    def _fast(self, doc: dict[str, Any], loader: Any, slow: Callable[[dict[str, Any]], str],
              escape: Escape) -> str | None:
        if not hasattr(loader, "urls"):
            return None
        plain = self._plain_contexts(loader)
        if not all(isinstance(c, str) and c in plain for c in _contexts(doc, [])):
            return None
        leaves: list[str] = []
        shape = _shape(doc, leaves)
        key = (id(loader), json.dumps(shape, sort_keys=True, ensure_ascii=False))
        with self._lock:
            known = key in self._data
            template = self._data.get(key)
        if not known:
            try:
                template = _compile(slow(shape), len(leaves))
            except Exception:
                template = None  # this shape gets no template; the full path judges the document
            with self._lock:
                self._data[key] = template
                if len(self._data) > self._size:
                    self._data.popitem(last=False)
        if template is None:
            return None
        for index in template.iri_leaves:
            if not _SAFE_IRI.match(leaves[index]):
                return None
        # Each leaf escaped once (an IRI leaf as it is), then every line joined from literals and leaves.
        iri = template.iri_leaves
        values = [leaf if i in iri else escape(leaf) for i, leaf in enumerate(leaves)]
        rendered = {"".join([p if p.__class__ is str else values[p] for p in line])  # type: ignore[index]
                    for line in template.lines}
        return "".join(sorted(rendered))

