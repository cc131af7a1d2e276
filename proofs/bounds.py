"""Bounds on what a stranger can make us process: size, nesting depth, node count, characters.

Checked before any JSON-LD work starts, so that a hostile document is refused in microseconds
rather than canonicalized for seconds (RDFC-1.0 is exponential on crafted blank-node graphs).
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from typing import Any

from proofs.errors import InputTooLarge, ProofLayerError


class ControlCharacter(ProofLayerError):
    code = "control_character"


class NotNfc(ProofLayerError):
    code = "not_nfc"


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 64 * 1024
    max_depth: int = 16
    max_nodes: int = 2_000
    max_string: int = 8 * 1024
    # Blank nodes drive RDFC-1.0's cost; our credentials have one or two.
    max_blank_nodes: int = 32
    # Steps of RDFC-1.0's N-degree hashing (runs plus permutations tried). The W3C rdf-canon suite
    # needs at most 3,348 (its 10-node "double circle" tests); its 10-node clique is refused at the cap
    # in a quarter of a second, where it would otherwise run for hours.
    max_canon_work: int = 4_000


DEFAULT_LIMITS = Limits()

# C0 controls (but tab, newline, carriage return) and DEL: canonicalizers have disagreed on how to
# escape them, and no certificate needs them.
_CONTROL = ({chr(c) for c in range(0x20)} - {"\t", "\n", "\r"}) | {"\x7f"}


class MalformedJson(ProofLayerError):
    code = "malformed_json"


def parse_json(data: bytes | str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse untrusted JSON within the bounds; duplicate keys are refused (they hide a second value)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > limits.max_bytes:
        raise InputTooLarge(f"document is {len(raw)} bytes; at most {limits.max_bytes} are accepted")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJson("document is not valid UTF-8") from None

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise MalformedJson(f"duplicate key {k!r} in JSON object")
            out[k] = v
        return out

    try:
        doc = json.loads(text, object_pairs_hook=no_duplicates, parse_int=_bounded_int, parse_float=_finite_float)
    except RecursionError:
        raise InputTooLarge("document is nested too deeply") from None
    except json.JSONDecodeError as e:
        raise MalformedJson(f"malformed JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except ValueError as e:  # Python's own cap on integer digits, or ours
        raise MalformedJson(f"malformed JSON: {e}") from None
    check_document(doc, limits)
    return doc


# No credential needs a number this long; Python refuses 4,300+ digits itself, with an error of its own.
MAX_INT_DIGITS = 64


def _bounded_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise MalformedJson(f"a number has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedJson(f"the number {text[:40]} is out of range")
    return value


class InvalidUnicode(ProofLayerError):
    code = "invalid_unicode"


def check_document(doc: Any, limits: Limits = DEFAULT_LIMITS, *, require_nfc: bool = False) -> None:
    """Raise `InputTooLarge` (or a character error) if `doc` exceeds any bound."""
    nodes = 0
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise InputTooLarge(f"document has more than {limits.max_nodes} JSON values")
        if depth > limits.max_depth:
            raise InputTooLarge(f"document is nested deeper than {limits.max_depth} levels")
        if isinstance(value, dict):
            for k, v in value.items():
                _check_string(k, limits, require_nfc)
                stack.append((v, depth + 1))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str):
            _check_string(value, limits, require_nfc)
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**MAX_INT_DIGITS:
            raise InputTooLarge(f"a number has more than {MAX_INT_DIGITS} digits")


def _check_string(s: str, limits: Limits, require_nfc: bool) -> None:
    if len(s) > limits.max_string:
        raise InputTooLarge(f"a string is longer than {limits.max_string} characters")
    if not s.isprintable():
        if any(c in _CONTROL for c in s):
            raise ControlCharacter("the document contains a control character (U+0000–U+001F or U+007F)")
        if any("\ud800" <= c <= "\udfff" for c in s):
            raise InvalidUnicode("the document contains a lone surrogate (\\ud800–\\udfff), which is not text")
    if require_nfc and not unicodedata.is_normalized("NFC", s):
        raise NotNfc("a string is not in Unicode normalization form C (NFC)")
