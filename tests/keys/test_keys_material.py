"""Ed25519 key material: signing, verifying, and never showing the secret."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.errors import InvalidMultibase, UnsupportedKeyType, WrongKeyLength
from keys.material import PublicKey, SigningKey
from keys.multikey import decode_secret_multikey, encode_secret_multikey

VECTOR_SIGNING_KEY = SigningKey.from_secret_multibase("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")


def test_vector_secret_gives_vector_public_key(vector_pair: dict[str, str]) -> None:
    key = SigningKey.from_secret_multibase(vector_pair["privateKeyMultibase"])
    assert key.public_key.multibase == vector_pair["publicKeyMultibase"]
    assert key.public_key == PublicKey.from_multibase(vector_pair["publicKeyMultibase"])


def test_vector_signature_of_the_spec_is_reproduced(w3c: Path) -> None:
    folder = w3c / "vectors" / "eddsa-rdfc-2022"
    combined = bytes.fromhex((folder / "combinedHashDataInt.txt").read_text().strip())
    expected = bytes.fromhex((folder / "sigHexDataInt.txt").read_text().strip())
    signature = VECTOR_SIGNING_KEY.sign(combined)
    assert signature == expected  # Ed25519 is deterministic
    assert VECTOR_SIGNING_KEY.public_key.verify(combined, signature)


def test_signature_is_64_detached_bytes_and_verifies() -> None:
    key = SigningKey.generate()
    signature = key.sign(b"message")
    assert isinstance(signature, bytes) and len(signature) == 64
    assert key.public_key.verify(b"message", signature)


def test_bad_signature_is_false_not_an_exception() -> None:
    key = SigningKey.generate()
    signature = bytearray(key.sign(b"message"))
    signature[10] ^= 1
    assert key.public_key.verify(b"message", bytes(signature)) is False
    assert key.public_key.verify(b"other message", key.sign(b"message")) is False
    assert SigningKey.generate().public_key.verify(b"message", key.sign(b"message")) is False


@pytest.mark.parametrize("signature", [b"", b"\x00" * 63, b"\x00" * 65, b"\xff" * 64, "not bytes", None])
def test_malformed_signature_is_false_not_an_exception(signature: object) -> None:
    assert VECTOR_SIGNING_KEY.public_key.verify(b"message", signature) is False  # type: ignore[arg-type]


@settings(max_examples=50)
@given(st.binary(max_size=80), st.binary(max_size=80))
def test_verify_never_raises(message: bytes, signature: bytes) -> None:
    assert VECTOR_SIGNING_KEY.public_key.verify(message, signature) in (True, False)


def test_public_key_needs_32_bytes() -> None:
    with pytest.raises(WrongKeyLength):
        PublicKey(b"\x01" * 31)


def test_from_seed_checks_length() -> None:
    with pytest.raises(WrongKeyLength):
        SigningKey.from_seed(b"\x01" * 33)


def test_from_secret_multibase_refuses_a_public_key_and_garbage(vector_pair: dict[str, str]) -> None:
    with pytest.raises(UnsupportedKeyType):
        SigningKey.from_secret_multibase(vector_pair["publicKeyMultibase"])
    with pytest.raises(InvalidMultibase):
        SigningKey.from_secret_multibase("not multibase")


def _secret_spellings(seed: bytes) -> list[str]:
    return [encode_secret_multikey(seed), seed.hex(), repr(seed), str(list(seed))]


def test_signing_key_repr_and_str_never_show_the_secret(vector_pair: dict[str, str]) -> None:
    secret = vector_pair["privateKeyMultibase"]
    seed = decode_secret_multikey(secret)
    key = SigningKey.from_secret_multibase(secret)
    shown = [repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr({"k": key})]
    for text in shown:
        for spelling in _secret_spellings(seed):
            assert spelling not in text
        assert vector_pair["publicKeyMultibase"] in text  # it does say which key it is


def test_signing_key_has_no_bytes_or_dict_exposing_the_seed() -> None:
    key = SigningKey.generate()
    with pytest.raises(TypeError):
        bytes(key)  # type: ignore[call-overload]
    assert not hasattr(key, "__dict__")


def test_signing_key_cannot_be_pickled_or_copied() -> None:
    key = SigningKey.generate()
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError):
            pickle.dumps(key, protocol=protocol)
    with pytest.raises(TypeError):
        copy.copy(key)
    with pytest.raises(TypeError):
        copy.deepcopy(key)


def test_signing_keys_compare_by_public_key() -> None:
    a = SigningKey.from_secret_multibase("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
    assert a == VECTOR_SIGNING_KEY and hash(a) == hash(VECTOR_SIGNING_KEY)
    assert a != SigningKey.generate()


def test_generated_keys_differ() -> None:
    assert SigningKey.generate().public_key != SigningKey.generate().public_key
