"""Bitstring Status List v1.0 encoding (shared by the issuer, who sets bits, and the verifier).

`encodedList` = "u" + base64url (no padding) of the GZIP-compressed bitstring; index 0 is the most
significant bit of byte 0. Decoding is bounded: a hostile list cannot inflate past `max_bytes`.
"""

from __future__ import annotations

import base64
import gzip
import zlib

from schemas.errors import SchemaLayerError

MIN_BITS = 131_072  # the spec's minimum list length, so that a list alone reveals little


class StatusListError(SchemaLayerError):
    code = "malformed_status_list"


def encode(bits: bytes | bytearray) -> str:
    # mtime=0 and level 6 (XFL=0) give the same bytes as Digital Bazaar's library and the spec example.
    packed = gzip.compress(bytes(bits), compresslevel=6, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode(encoded: str, max_bytes: int = 16 * 1024 * 1024) -> bytes:
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListError("encodedList must be multibase base64url ('u…')")
    body = encoded[1:]
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(compressed, max_bytes + 1)
    except (ValueError, zlib.error):
        raise StatusListError("encodedList is not base64url of GZIP data") from None
    if len(out) > max_bytes:
        raise StatusListError("status list is larger than allowed")
    return out


def empty(bits: int = MIN_BITS) -> bytearray:
    return bytearray((bits + 7) // 8)


def get_bit(bitstring: bytes | bytearray, index: int) -> bool:
    if index < 0 or index // 8 >= len(bitstring):
        raise StatusListError(f"status index {index} is outside the list (RANGE_ERROR)")
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def set_bit(bitstring: bytearray, index: int, value: bool) -> None:
    if index < 0 or index // 8 >= len(bitstring):
        raise StatusListError(f"status index {index} is outside the list (RANGE_ERROR)")
    mask = 0x80 >> (index % 8)
    if value:
        bitstring[index // 8] |= mask
    else:
        bitstring[index // 8] &= ~mask & 0xFF
