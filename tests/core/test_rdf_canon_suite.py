"""The whole W3C RDF Dataset Canonicalization (RDFC-1.0) test suite, one test per manifest entry.

The suite (tests/data/rdf-canon/, W3C test data) runs through the same RDFC-1.0 the credentials use
(`proofs.canon.canonize_dataset`), including its work limit: the poison graph (a 10-node clique) must
be refused with `CanonicalizationTooComplex`, quickly.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from proofs.canon import canonize_dataset
from proofs.errors import CanonicalizationTooComplex

SUITE = Path(__file__).resolve().parents[1] / "data" / "rdf-canon"
ENTRIES: list[dict[str, Any]] = json.loads((SUITE / "manifest.jsonld").read_text())["entries"]


# A small N-Quads reader for the suite's inputs: pyld's parse_nquads leaves UCHAR escapes (\\u0065)
# undecoded and drops duplicate quads itself, which would hide whether canonize_dataset does.
_TERM = re.compile(
    r'\s*(?:<(?P<iri>[^>]*)>|_:(?P<bnode>[^\s.]+(?:\.[^\s.]+)*)'
    r'|"(?P<lit>(?:[^"\\]|\\.)*)"(?:\^\^<(?P<dt>[^>]*)>|@(?P<lang>[a-zA-Z]+(?:-[a-zA-Z0-9]+)*))?)'
)
_ESC = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(s: str) -> str:
    return _ESC.sub(lambda m: chr(int(m[1] or m[2], 16)) if (m[1] or m[2]) else _ECHARS[m[3]], s)


def _term(m: re.Match[str]) -> dict[str, Any]:
    if m["iri"] is not None:
        return {"type": "IRI", "value": _unescape(m["iri"])}
    if m["bnode"] is not None:
        return {"type": "blank node", "value": "_:" + m["bnode"]}
    lit: dict[str, Any] = {"type": "literal", "value": _unescape(m["lit"])}
    if m["lang"]:
        lit["datatype"] = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
        lit["language"] = m["lang"]
    else:
        lit["datatype"] = _unescape(m["dt"]) if m["dt"] else "http://www.w3.org/2001/XMLSchema#string"
    return lit


def _parse(path: Path) -> dict[str, Any]:
    dataset: dict[str, list[dict[str, Any]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        terms, pos = [], 0
        while (m := _TERM.match(line, pos)) is not None:
            terms.append(_term(m))
            pos = m.end()
        assert line[pos:].strip() == ".", line
        graph = "@default" if len(terms) == 3 else terms[3]["value"]
        dataset.setdefault(graph, []).append({"subject": terms[0], "predicate": terms[1], "object": terms[2]})
    return dataset


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"].lstrip("#") for e in ENTRIES])
def test_rdf_canon_manifest_entry(entry: dict[str, Any]) -> None:
    dataset = _parse(SUITE / entry["action"])
    algo = entry.get("hashAlgorithm", "SHA256")
    kind = entry["type"]
    if kind == "rdfc:RDFC10NegativeEvalTest":
        started = time.monotonic()
        with pytest.raises(CanonicalizationTooComplex) as err:
            canonize_dataset(dataset, hash_algorithm=algo)
        assert err.value.code == "canonicalization_too_complex"
        assert time.monotonic() - started < 1.0
        return
    nquads, issued = canonize_dataset(dataset, hash_algorithm=algo)
    expected = (SUITE / entry["result"]).read_text(encoding="utf-8")
    if kind == "rdfc:RDFC10EvalTest":
        assert nquads == expected
    else:
        assert kind == "rdfc:RDFC10MapTest"
        assert {k.removeprefix("_:"): v.removeprefix("_:") for k, v in issued.items()} == json.loads(expected)


def test_every_manifest_entry_kind_is_run() -> None:
    kinds = {e["type"] for e in ENTRIES}
    assert kinds == {"rdfc:RDFC10EvalTest", "rdfc:RDFC10MapTest", "rdfc:RDFC10NegativeEvalTest"}
    assert len(ENTRIES) == 86
