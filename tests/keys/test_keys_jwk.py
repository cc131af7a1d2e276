"""Ed25519 public keys as JWKs: exact shape, strict parsing, and no private export."""

from __future__ import annotations

import base64

import pytest
from jwcrypto.jwk import JWK

import keys.jwk as jwk_module
from keys.errors import KeyMaterialError, UnsupportedKeyType, WrongKeyLength
from keys.jwk import public_jwk, public_key_from_jwk
from keys.material import PublicKey, SigningKey

VECTOR_PUBLIC = PublicKey.from_multibase("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")
KID = "did:web:hrss.example.gov.cn#key-1"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def test_public_jwk_has_exactly_the_okp_ed25519_members() -> None:
    jwk = public_jwk(VECTOR_PUBLIC, KID)
    assert jwk == {"kty": "OKP", "crv": "Ed25519", "x": _b64url(VECTOR_PUBLIC.raw), "kid": KID}


def test_public_jwk_without_kid() -> None:
    assert "kid" not in public_jwk(VECTOR_PUBLIC)


def test_jwk_round_trips() -> None:
    for public in (VECTOR_PUBLIC, SigningKey.generate().public_key):
        assert public_key_from_jwk(public_jwk(public, KID)) == public


def test_jwk_is_read_by_jwcrypto_as_the_same_public_key() -> None:
    key = JWK(**public_jwk(VECTOR_PUBLIC, KID))
    assert key.has_public and not key.has_private
    assert key.export_public(as_dict=True)["x"] == _b64url(VECTOR_PUBLIC.raw)


@pytest.mark.parametrize("kty, crv", [("EC", "P-256"), ("RSA", None), ("OKP", "X25519"), ("OKP", "Ed448"),
                                      (None, "Ed25519")])
def test_wrong_kty_or_crv_is_unsupported(kty: str | None, crv: str | None) -> None:
    jwk = {"kty": kty, "crv": crv, "x": _b64url(VECTOR_PUBLIC.raw)}
    with pytest.raises(UnsupportedKeyType) as e:
        public_key_from_jwk(jwk)
    assert e.value.code == "unsupported_key_type"


@pytest.mark.parametrize("size", [0, 31, 33, 57])
def test_x_of_wrong_length_is_refused(size: int) -> None:
    with pytest.raises(WrongKeyLength) as e:
        public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": _b64url(b"\x07" * size)})
    assert e.value.code == "invalid_key_length"


@pytest.mark.parametrize("x", [None, 42, "not base64!", _b64url(bytes(32)) + "=",
                               base64.b64encode(b"\xfb" * 32).decode()])
def test_x_that_is_not_unpadded_base64url_is_refused(x: object) -> None:
    with pytest.raises(KeyMaterialError):
        public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": x})


def test_non_canonical_x_is_refused() -> None:
    x = _b64url(VECTOR_PUBLIC.raw)
    # The last of 43 characters carries 4 unused bits: flipping one spells the same bytes differently.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = x[:-1] + alphabet[alphabet.index(x[-1]) ^ 1]
    with pytest.raises(KeyMaterialError, match="canonical"):
        public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": twin})


def test_private_jwk_is_refused_as_input() -> None:
    private = JWK.generate(kty="OKP", crv="Ed25519").export_private(as_dict=True)
    with pytest.raises(UnsupportedKeyType, match="private"):
        public_key_from_jwk(private)


def test_there_is_no_private_jwk_export() -> None:
    names = [n for n in dir(jwk_module) if not n.startswith("_")]
    assert not [n for n in names if "private" in n.lower() or "secret" in n.lower()]
    with pytest.raises(KeyMaterialError):
        public_jwk(SigningKey.generate())  # type: ignore[arg-type]
