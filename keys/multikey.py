"""Multibase (base58btc) and Multikey encodings of Ed25519 keys.

- `publicKeyMultibase`: 'z' + base58btc(0xed 0x01 ‖ 32-byte public key), always starting 'z6Mk'.
- `secretKeyMultibase`: 'z' + base58btc(0x80 0x26 ‖ 32-byte seed), always starting 'z3u2'.
  (The W3C vector file calls it `privateKeyMultibase`; the spec text says `secretKeyMultibase`.)

Only the Bitcoin alphabet and only the 'z' multibase prefix are accepted: a Data Integrity proof is
hashed and compared byte for byte, so a second spelling of the same bytes must not slip through.

This module must never accept one kind of key where the other belongs (a secret where a public key is
expected is an error, never silently used), and its errors must never quote the input of a secret.
"""

from __future__ import annotations

import re

import base58

from keys.errors import InvalidMultibase, KeyMaterialError, UnsupportedKeyType, WrongKeyLength

ED25519_PUB_PREFIX = b"\xed\x01"  # multicodec ed25519-pub (0xed) as an unsigned varint
ED25519_PRIV_PREFIX = b"\x80\x26"  # multicodec ed25519-priv (0x1300) as an unsigned varint
KEY_BYTES = 32

# Base58 decoding is quadratic in the length; nothing this layer decodes (keys, 64-byte signatures)
# comes anywhere near this, so longer input is refused before any arithmetic is done on it.
MAX_MULTIBASE_CHARS = 1024

_B58_CHARS = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")


_B58_ALPHABET = base58.BITCOIN_ALPHABET.decode("ascii")
# Every proof value is encoded here, and digit by digit (the base58 package) costs about as much as the
# signature itself. Instead the number is cut into blocks of twenty digits (one big division each), a
# block into two machine-sized halves, and each half into five pairs of digits read from a table.
_B58_PAIRS = [a + b for a in _B58_ALPHABET for b in _B58_ALPHABET]
_B58_20, _B58_10, _B58_2 = 58**20, 58**10, 58**2


def _b58encode(b: bytes) -> str:
    n = int.from_bytes(b, "big")
    pairs: list[str] = []  # least significant first
    while n:
        n, block = divmod(n, _B58_20)
        high, low = divmod(block, _B58_10)
        for half in (low, high):  # five pairs each, unrolled (a loop here cost a third of the time)
            half, p0 = divmod(half, _B58_2)
            half, p1 = divmod(half, _B58_2)
            half, p2 = divmod(half, _B58_2)
            p4, p3 = divmod(half, _B58_2)
            pairs += (_B58_PAIRS[p0], _B58_PAIRS[p1], _B58_PAIRS[p2], _B58_PAIRS[p3], _B58_PAIRS[p4])
    # Each leading zero byte is written as one '1' (the alphabet's zero), as base58btc specifies.
    zeros = len(b) - len(b.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(pairs)).lstrip("1")


def multibase_b58_encode(b: bytes) -> str:
    """'z' + base58btc(b)."""
    return "z" + _b58encode(bytes(b))


def multibase_b58_decode(s: str) -> bytes:
    """The bytes of a 'z' (base58btc, Bitcoin alphabet) multibase string; InvalidMultibase otherwise.

    'z' alone is the empty byte string; callers check the length they need.
    """
    if not isinstance(s, str):
        raise InvalidMultibase("a multibase value must be a string")
    if not s.startswith("z"):
        raise InvalidMultibase("only base58btc multibase (a value starting with 'z') is supported")
    body = s[1:]
    if len(s) > MAX_MULTIBASE_CHARS:
        raise InvalidMultibase(f"the multibase value is too long ({len(s)} characters)")
    # Checked here rather than left to the library, which strips whitespace and would accept it.
    if body and not _B58_CHARS.fullmatch(body):
        raise InvalidMultibase("the multibase value has characters outside the base58btc alphabet")
    return base58.b58decode(body, alphabet=base58.BITCOIN_ALPHABET)


def _check_key_bytes(raw: bytes, what: str) -> bytes:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise KeyMaterialError(f"the {what} must be bytes")
    raw = bytes(raw)
    if len(raw) != KEY_BYTES:
        raise WrongKeyLength(f"an Ed25519 {what} is {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def _decode_prefixed(mb: str, prefix: bytes, other: bytes, what: str, other_what: str) -> bytes:
    data = multibase_b58_decode(mb)
    if len(data) <= len(prefix):
        raise WrongKeyLength(f"an Ed25519 {what} is {KEY_BYTES} bytes after its multicodec prefix; "
                             f"this value has {len(data)} bytes in all")
    if data.startswith(other) and not data.startswith(prefix):
        raise UnsupportedKeyType(f"this is an Ed25519 {other_what}, not the {what} expected here")
    if not data.startswith(prefix):
        raise UnsupportedKeyType(
            f"not an Ed25519 {what}: its multicodec prefix is 0x{data[:2].hex()}, expected 0x{prefix.hex()}"
        )
    payload = data[len(prefix):]
    if len(payload) != KEY_BYTES:
        raise WrongKeyLength(f"an Ed25519 {what} is {KEY_BYTES} bytes, this one has {len(payload)}")
    return payload


def encode_public_multikey(raw: bytes) -> str:
    """Multikey `publicKeyMultibase` ('z6Mk…') of a 32-byte Ed25519 public key."""
    return multibase_b58_encode(ED25519_PUB_PREFIX + _check_key_bytes(raw, "public key"))


def decode_public_multikey(mb: str) -> bytes:
    """The 32 raw bytes of an Ed25519 Multikey `publicKeyMultibase`."""
    return _decode_prefixed(mb, ED25519_PUB_PREFIX, ED25519_PRIV_PREFIX, "public key", "secret key")


def encode_secret_multikey(seed: bytes) -> str:
    """Multikey `secretKeyMultibase` ('z3u2…') of a 32-byte Ed25519 seed. The result is a secret."""
    return multibase_b58_encode(ED25519_PRIV_PREFIX + _check_key_bytes(seed, "seed"))


def decode_secret_multikey(mb: str) -> bytes:
    """The 32-byte seed of an Ed25519 Multikey `secretKeyMultibase`. The result is a secret."""
    return _decode_prefixed(mb, ED25519_PRIV_PREFIX, ED25519_PUB_PREFIX, "secret key", "public key")
