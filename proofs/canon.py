"""RDF Dataset Canonicalization (RDFC-1.0) of JSON-LD documents, through pyld, made strict and fast.

This is the one module that knows pyld's internals (pyld is pinned exactly in pyproject.toml):
- safe mode, as Digital Bazaar's jsonld.js does it: a property or type that no context defines, or a
  relative IRI, is an error instead of being silently dropped (a dropped term is unsigned data);
- literal escaping exactly as RDFC-1.0's canonical N-Quads prescribe (pyld leaves \\b, \\f and other
  control characters raw, which changes the hash);
- a memo of processed type- and property-scoped contexts (pyld re-processes them on every call
  because each clone of the active context gets a fresh identity; see shared/w3c/performance.md);
- a bound on blank nodes, and a work limit inside RDFC-1.0 itself (`BoundedRdfc10`): the number of
  Hash N-Degree Quads runs and of permutations they try is capped, as the spec's guidance on
  poison graphs asks (RDFC-1.0 section 4.4 / "Dataset Poisoning"); past the cap the document is
  refused with `CanonicalizationTooComplex`, never hashed for minutes;
- input quads treated as the set the spec says they are (duplicates count once).
It never touches the network: documents come only from the loader it is given.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pyld.canon as _pyld_canon
import pyld.nquads as _pyld_nquads
from pyld.canon import URDNA2015
from pyld.identifier_issuer import IdentifierIssuer
from pyld.jsonld import JsonLdError, JsonLdProcessor, _is_absolute_iri

from proofs.bounds import DEFAULT_LIMITS, Limits
from proofs.errors import (
    CanonicalizationBusy,
    CanonicalizationError,
    CanonicalizationTooComplex,
    InputTooLarge,
    UndefinedTerm,
)
from proofs.templates import TemplateCache
from schemas.errors import UnknownContext

DocumentLoaderFn = Callable[[str, Any], dict[str, Any]]
_I18N = "https://www.w3.org/ns/i18n#"

# --- RDFC-1.0 literal escaping (RDF 1.2 canonical N-Triples: ECHAR, then uppercase UCHAR) ---------
_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_ESCAPE_TABLE = {ord(c): e for c, e in _ECHAR.items()}
_ESCAPE_TABLE.update({c: f"\\u{c:04X}" for c in [*range(0x20), 0x7F] if chr(c) not in _ECHAR})


def rdfc_escape(value: str) -> str:
    return value.translate(_ESCAPE_TABLE)


_pyld_nquads.escape = rdfc_escape

# --- memo of processed scoped contexts --------------------------------------------------------------
_original_process_context = JsonLdProcessor._process_context
_memo: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
_memo_lock = threading.Lock()
_MEMO_SIZE = 512
_memo_enabled = True


def set_context_memo(enabled: bool) -> None:
    """Switch the scoped-context memo on or off (the differential test compares both)."""
    global _memo_enabled
    _memo_enabled = enabled
    with _memo_lock:
        _memo.clear()


def _memo_process_context(
    self: JsonLdProcessor,
    active_ctx: dict[str, Any],
    local_ctx: Any,
    options: dict[str, Any],
    override_protected: bool = False,
    propagate: bool = True,
    validate_scoped: bool = True,
    cycles: Any = None,
) -> Any:
    uuid = active_ctx.get("_uuid") if isinstance(active_ctx, dict) else None
    # Only contexts that come from cached context documents are memoized: their identity is stable
    # (the memo holds a reference, so the id cannot be reused by another object).
    if not _memo_enabled or uuid is None or cycles is not None:
        return _original_process_context(
            self, active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
    ctx_key: Any = local_ctx if isinstance(local_ctx, str) else id(local_ctx)
    key = (uuid, ctx_key, override_protected, propagate, validate_scoped, options.get("base"),
           options.get("processingMode"))
    with _memo_lock:
        hit = _memo.get(key)
    if hit is not None and (isinstance(local_ctx, str) or hit[0] is local_ctx):
        return hit[1]
    result = _original_process_context(
        self, active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
    )
    # The result gets an identity now, so that contexts processed on top of it can be memoized too.
    if isinstance(result, dict) and "_uuid" not in result:
        import uuid as _uuid_mod

        result["_uuid"] = str(_uuid_mod.uuid4())
    with _memo_lock:
        _memo[key] = (local_ctx, result)
        if len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    return result


JsonLdProcessor._process_context = _memo_process_context


# --- canonicalization ---------------------------------------------------------------------------------
def _raise_dropped(expanded_property: Any) -> None:
    raise UndefinedTerm(
        "the document uses a term that no @context defines; it would be dropped from what is signed"
    )


_safe_processor = JsonLdProcessor(on_property_dropped=_raise_dropped)
_lax_processor = JsonLdProcessor()


def _unwrap(err: BaseException) -> BaseException:
    seen = 0
    cur: BaseException | None = err
    while cur is not None and seen < 20:
        if isinstance(cur, UnknownContext | UndefinedTerm | InputTooLarge | CanonicalizationTooComplex):
            return cur
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return err


def _jsonld_message(err: JsonLdError) -> str:
    parts: list[str] = []
    cur: BaseException | None = err
    while cur is not None and len(parts) < 5:
        code = getattr(cur, "code", None)
        parts.append(f"{cur.args[0] if cur.args else cur}" + (f" ({code})" if code else ""))
        cur = cur.__cause__
    return "JSON-LD processing failed: " + "; ".join(parts)


def _check_expanded_iris(expanded: Any) -> None:
    """Safe mode for IRIs: a relative @id or @type would vanish from the RDF graph, unsigned."""
    stack = [expanded]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "@id" and isinstance(value, str):
                    if not (value.startswith("_:") or ":" in value):
                        raise UndefinedTerm(f"relative @id reference {value!r} is not allowed")
                elif key == "@type" and "@value" not in node:
                    for t in value if isinstance(value, list) else [value]:
                        if isinstance(t, str) and not (t.startswith("_:") or ":" in t):
                            raise UndefinedTerm(f"type {t!r} is not defined by any @context")
                elif isinstance(value, list | dict):
                    stack.append(value)


def to_dataset(doc: dict[str, Any], loader: DocumentLoaderFn, *, safe: bool = True) -> dict[str, Any]:
    """Expand `doc` once and turn it into an RDF dataset (pyld's internal form).

    pyld's own `to_rdf` expands again; expanding once and building the node map here (the body of
    `JsonLdProcessor.to_rdf`) halves the work.
    """
    processor = _safe_processor if safe else _lax_processor
    # rdfDirection "i18n-datatype", as Digital Bazaar's eddsa-rdfc-2022 canonizes: without it a value's
    # @direction would be dropped from what is signed (jsonld.js's safe mode refuses exactly that).
    options: dict[str, Any] = {"documentLoader": loader, "base": None, "processingMode": "json-ld-1.1",
                               "produceGeneralizedRdf": False, "extractAllScripts": True,
                               "rdfDirection": "i18n-datatype"}
    try:
        expanded = processor.expand(doc, options)
        if safe:
            _check_expanded_iris(expanded)
        issuer = IdentifierIssuer("_:b")
        node_map: dict[str, Any] = {"@default": {}}
        processor._create_node_map(expanded, node_map, "@default", issuer)
        dataset: dict[str, Any] = {}
        for graph_name, graph in sorted(node_map.items()):
            if graph_name == "@default" or _is_absolute_iri(graph_name):
                dataset[graph_name] = processor._graph_to_rdf(graph, issuer, options)
    except JsonLdError as e:
        cause = _unwrap(e)
        if cause is not e:
            raise cause from None
        raise CanonicalizationError(_jsonld_message(e)) from None
    except (RecursionError, MemoryError):
        raise InputTooLarge("document is too complex to canonicalize") from None
    return dataset


_templates = TemplateCache()
_templates_enabled = True


def set_templates(enabled: bool) -> None:
    """Switch the template fast path on or off (the differential tests compare both)."""
    global _templates_enabled, _templates
    _templates_enabled = enabled
    _templates = TemplateCache()


def canonize(
    doc: dict[str, Any], loader: DocumentLoaderFn, *, safe: bool = True, limits: Limits = DEFAULT_LIMITS
) -> str:
    """Canonical N-Quads (RDFC-1.0) of a JSON-LD document."""
    if safe and _templates_enabled:
        return _templates.canonize(doc, loader, lambda d: _canonize_pyld(d, loader, safe, limits), rdfc_escape)
    return _canonize_pyld(doc, loader, safe, limits)


def _canonize_pyld(doc: dict[str, Any], loader: DocumentLoaderFn, safe: bool, limits: Limits) -> str:
    dataset = to_dataset(doc, loader, safe=safe)
    blanks = set()
    for triples in dataset.values():
        for t in triples:
            for part in ("subject", "object"):
                if t[part]["type"] == "blank node":
                    blanks.add(t[part]["value"])
            datatype = t["object"].get("datatype")
            if isinstance(datatype, str) and datatype.startswith(_I18N):
                # jsonld.js lowercases the language in the i18n datatype (pyld keeps its case).
                language, _, direction = datatype[len(_I18N):].rpartition("_")
                t["object"]["datatype"] = f"{_I18N}{language.lower()}_{direction}"
    if len(blanks) > limits.max_blank_nodes:
        raise InputTooLarge(
            f"document has {len(blanks)} blank nodes; at most {limits.max_blank_nodes} are canonicalized"
        )
    return canonize_dataset(dataset, max_work=limits.max_canon_work)[0]


# --- RDFC-1.0 with a work limit ----------------------------------------------------------------------
_HASHES = {"SHA256": hashlib.sha256, "SHA384": hashlib.sha384}


# N-degree hashing is pure Python holding the GIL: however many requests ask for it, one thread runs it
# at a time, and a document that cannot have its turn soon is refused rather than queued behind a
# poison graph. Honest credentials never get here (their blank nodes have unique first-degree hashes).
_N_DEGREE_GATE = threading.BoundedSemaphore(1)
N_DEGREE_WAIT_SECONDS = 0.0


class BoundedRdfc10(URDNA2015):
    """pyld's RDFC-1.0 with a cap on the work of Hash N-Degree Quads (the only exponential step).

    Each run of Hash N-Degree Quads and each permutation it tries costs one unit; past `max_work`
    units canonicalization stops with `CanonicalizationTooComplex`. Honest data needs few units
    (the W3C rdf-canon suite needs at most 3,348 units, for its 10-node "double circles"),
    while a 10-node clique needs billions.
    """

    def __init__(self, max_work: int, hash_algorithm: str = "SHA256") -> None:
        super().__init__()
        self.max_work = max_work
        self.work = 0
        self._hash = _HASHES[hash_algorithm]
        self.holding_gate = False

    def create_hash(self) -> Any:
        return self._hash()

    def _spend(self) -> None:
        self.work += 1
        if self.work > self.max_work:
            raise CanonicalizationTooComplex(
                "the document's blank nodes are too interlinked to canonicalize within the work limit "
                f"({self.max_work} steps of RDFC-1.0's N-degree hashing)"
            )

    def hash_n_degree_quads(self, id_: str, issuer: IdentifierIssuer) -> dict[str, Any]:
        # RDFC-1.0 4.8, as pyld writes it, with every run and permutation counted.
        if not self.holding_gate:
            if not _N_DEGREE_GATE.acquire(timeout=N_DEGREE_WAIT_SECONDS):
                raise CanonicalizationBusy(
                    "other complex documents are being canonicalized; this one was not started (try again)"
                )
            self.holding_gate = True
        self._spend()
        hash_to_related = self.create_hash_to_related(id_, issuer)
        md = self.create_hash()
        for hash_, blank_nodes in sorted(hash_to_related.items()):
            md.update(hash_.encode("utf8"))
            chosen_path = ""
            chosen_issuer = None
            for permutation in _pyld_canon.permutations(blank_nodes):
                self._spend()
                issuer_copy = copy.deepcopy(issuer)
                path = ""
                recursion_list = []
                skip = False
                for related in permutation:
                    if self.canonical_issuer.has_id(related):
                        path += self.canonical_issuer.get_id(related)
                    else:
                        if not issuer_copy.has_id(related):
                            recursion_list.append(related)
                        path += issuer_copy.get_id(related)
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion_list:
                    result = self.hash_n_degree_quads(related, issuer_copy)
                    path += issuer_copy.get_id(related)
                    path += "<" + result["hash"] + ">"
                    issuer_copy = result["issuer"]
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            md.update(chosen_path.encode("utf8"))
            issuer = chosen_issuer
        return {"hash": md.hexdigest(), "issuer": issuer}


def _quad_key(quad: dict[str, Any], graph: str) -> tuple[Any, ...]:
    o = quad["object"]
    return (quad["subject"]["type"], quad["subject"]["value"], quad["predicate"]["value"], o["type"],
            o["value"], o.get("datatype"), o.get("language"), graph)


def canonize_dataset(
    dataset: dict[str, Any], *, max_work: int = DEFAULT_LIMITS.max_canon_work, hash_algorithm: str = "SHA256"
) -> tuple[str, dict[str, str]]:
    """Canonical N-Quads of an RDF dataset (pyld's form) and the issued map (input label -> c14n label).

    The input dataset is a set: a quad given twice counts once (pyld would hash it twice).
    """
    unique: dict[str, Any] = {}
    for graph, triples in dataset.items():
        seen: set[tuple[Any, ...]] = set()
        kept = []
        for t in triples:
            key = _quad_key(t, graph)
            if key not in seen:
                seen.add(key)
                kept.append(t)
        unique[graph] = kept
    algo = BoundedRdfc10(max_work, hash_algorithm)
    originals = sorted({c["value"] for ts in unique.values() for t in ts for k, c in t.items()
                        if k != "predicate" and c["type"] == "blank node"}
                       | {g for g in unique if g.startswith("_:")})
    try:
        out: str = algo.main(unique, {"format": "application/n-quads"})
    except (RecursionError, MemoryError):
        raise InputTooLarge("document is too complex to canonicalize") from None
    finally:
        if algo.holding_gate:
            _N_DEGREE_GATE.release()
    issued = {b: algo.canonical_issuer.get_id(b) for b in originals}
    return out, issued
