"""IETF Token Status List (draft-ietf-oauth-status-list): the `status_list` claim's encoding.

`bits` per token (1, 2, 4 or 8); token `idx` lives in byte `idx * bits // 8`, counted from the least
significant bit (the opposite of the W3C Bitstring list, which counts from the most significant);
the byte array is ZLIB-compressed and base64url-encoded as `lst`. Values: 0 VALID, 1 INVALID,
2 SUSPENDED.

Shared by the issuer (who publishes) and the verifier (who reads), so it lives here.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

from schemas.bitstring import StatusListError

VALID, INVALID, SUSPENDED = 0, 1, 2
ALLOWED_BITS = (1, 2, 4, 8)


def empty(size: int, bits: int) -> bytearray:
    return bytearray((size * bits + 7) // 8)


def set_value(lst: bytearray, idx: int, value: int, bits: int) -> None:
    if bits not in ALLOWED_BITS or not 0 <= value < (1 << bits):
        raise StatusListError("bad status value or bit width")
    pos = idx * bits
    byte, shift = divmod(pos, 8)
    if idx < 0 or byte >= len(lst):
        raise StatusListError(f"status index {idx} is outside the list")
    mask = ((1 << bits) - 1) << shift
    lst[byte] = (lst[byte] & ~mask & 0xFF) | (value << shift)


def get_value(lst: bytes | bytearray, idx: int, bits: int) -> int:
    if bits not in ALLOWED_BITS:
        raise StatusListError("bits must be 1, 2, 4 or 8")
    byte, shift = divmod(idx * bits, 8)
    if idx < 0 or byte >= len(lst):
        raise StatusListError(f"status index {idx} is outside the list")
    return (lst[byte] >> shift) & ((1 << bits) - 1)


def encode(lst: bytes | bytearray, bits: int) -> dict[str, Any]:
    """The `status_list` claim: {"bits": n, "lst": base64url(zlib(lst))}."""
    packed = base64.urlsafe_b64encode(zlib.compress(bytes(lst), 9)).rstrip(b"=").decode("ascii")
    return {"bits": bits, "lst": packed}


def decode(claim: Any, max_bytes: int = 16 * 1024 * 1024) -> tuple[bytes, int]:
    """(byte array, bits) of a `status_list` claim; bounded against zlib bombs."""
    if not isinstance(claim, dict) or claim.get("bits") not in ALLOWED_BITS or not isinstance(claim.get("lst"), str):
        raise StatusListError("status_list must be {bits: 1|2|4|8, lst: base64url}")
    text = claim["lst"]
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflater = zlib.decompressobj()
        out = inflater.decompress(raw, max_bytes + 1)
    except (ValueError, zlib.error) as e:
        raise StatusListError(f"lst is not base64url ZLIB data: {e}") from e
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise StatusListError("the status list is too large")
    return out, int(claim["bits"])
