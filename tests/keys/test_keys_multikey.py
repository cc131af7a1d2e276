"""Multibase and Multikey encodings, against the W3C eddsa-rdfc-2022 vector key."""

from __future__ import annotations

import base58
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey as NaclSigningKey

from keys.errors import InvalidMultibase, KeyMaterialError, UnsupportedKeyType, WrongKeyLength
from keys.multikey import (
    decode_public_multikey,
    decode_secret_multikey,
    encode_public_multikey,
    encode_secret_multikey,
    multibase_b58_decode,
    multibase_b58_encode,
)

VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"


def test_vector_seed_derives_the_vector_public_key(vector_pair: dict[str, str]) -> None:
    pair = vector_pair
    assert pair == {"publicKeyMultibase": VECTOR_PUBLIC, "privateKeyMultibase": VECTOR_SECRET}
    seed = decode_secret_multikey(pair["privateKeyMultibase"])
    raw_public = bytes(NaclSigningKey(seed).verify_key)
    assert raw_public == decode_public_multikey(pair["publicKeyMultibase"])
    assert encode_public_multikey(raw_public) == VECTOR_PUBLIC


def test_vector_keys_round_trip() -> None:
    assert encode_public_multikey(decode_public_multikey(VECTOR_PUBLIC)) == VECTOR_PUBLIC
    assert encode_secret_multikey(decode_secret_multikey(VECTOR_SECRET)) == VECTOR_SECRET


@given(st.binary(min_size=32, max_size=32))
def test_public_multikey_starts_z6mk_and_round_trips(raw: bytes) -> None:
    mb = encode_public_multikey(raw)
    assert mb.startswith("z6Mk")
    assert decode_public_multikey(mb) == raw


@given(st.binary(min_size=32, max_size=32))
def test_secret_multikey_starts_z3u2_and_round_trips(seed: bytes) -> None:
    mb = encode_secret_multikey(seed)
    assert mb.startswith("z3u2")
    assert decode_secret_multikey(mb) == seed


@given(st.binary(max_size=100))
def test_multibase_round_trips_any_bytes_including_leading_zeros(data: bytes) -> None:
    encoded = multibase_b58_encode(data)
    assert encoded.startswith("z")
    assert multibase_b58_decode(encoded) == data


@given(st.binary(max_size=120))
def test_multibase_encoding_is_the_base58_packages_bitcoin_encoding(data: bytes) -> None:
    # Our encoder works twenty digits at a time; the package's goes digit by digit. Same text, every input.
    assert multibase_b58_encode(data) == "z" + base58.b58encode(data, alphabet=base58.BITCOIN_ALPHABET).decode()


@pytest.mark.parametrize("data", [b"", b"\0", bytes(3) + b"\1", bytes(64), b"\xff" * 64, (58**20).to_bytes(15, "big")])
def test_multibase_encoding_at_the_edges(data: bytes) -> None:
    assert multibase_b58_encode(data) == "z" + base58.b58encode(data, alphabet=base58.BITCOIN_ALPHABET).decode()


@given(st.text(max_size=60))
def test_decoding_arbitrary_text_raises_only_typed_errors(text: str) -> None:
    for decode in (multibase_b58_decode, decode_public_multikey, decode_secret_multikey):
        try:
            decode(text)
        except KeyMaterialError:
            pass


@pytest.mark.parametrize("value", ["", "f00ff", "u3q2", "Z6Mk", "z0OIl", "z6Mk+/", " z6Mk", "z6Mk\n"])
def test_non_base58btc_multibase_is_invalid(value: str) -> None:
    with pytest.raises(InvalidMultibase) as e:
        multibase_b58_decode(value)
    assert e.value.code == "invalid_multibase"


def test_bare_z_is_the_empty_byte_string_and_no_key() -> None:
    assert multibase_b58_decode("z") == b""
    with pytest.raises(WrongKeyLength):
        decode_public_multikey("z")


def test_multibase_must_be_a_string() -> None:
    with pytest.raises(InvalidMultibase):
        multibase_b58_decode(b"z6Mk")  # type: ignore[arg-type]


def test_overlong_multibase_is_refused_before_decoding() -> None:
    with pytest.raises(InvalidMultibase, match="too long"):
        multibase_b58_decode("z" + "2" * 100_000)


def test_secret_key_is_refused_where_a_public_key_belongs() -> None:
    with pytest.raises(UnsupportedKeyType) as e:
        decode_public_multikey(VECTOR_SECRET)
    assert e.value.code == "unsupported_key_type"
    assert VECTOR_SECRET not in e.value.message


def test_public_key_is_refused_where_a_secret_belongs() -> None:
    with pytest.raises(UnsupportedKeyType):
        decode_secret_multikey(VECTOR_PUBLIC)


def test_other_multicodec_is_unsupported() -> None:
    x25519 = multibase_b58_encode(b"\xec\x01" + bytes(32))
    with pytest.raises(UnsupportedKeyType, match="0xec01"):
        decode_public_multikey(x25519)


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_wrong_key_length_is_typed(size: int) -> None:
    with pytest.raises(WrongKeyLength) as e:
        decode_public_multikey(multibase_b58_encode(b"\xed\x01" + bytes(size)))
    assert e.value.code == "invalid_key_length"
    with pytest.raises(WrongKeyLength):
        decode_secret_multikey(multibase_b58_encode(b"\x80\x26" + bytes(size)))
    with pytest.raises(WrongKeyLength):
        encode_public_multikey(bytes(size))
    with pytest.raises(WrongKeyLength):
        encode_secret_multikey(bytes(size))
