"""Ed25519 public keys as JSON Web Keys (RFC 8037: kty OKP, crv Ed25519, x = base64url of 32 bytes).

This module converts public keys only. It must never export a private JWK (there is deliberately no
function for it), and it refuses a JWK that carries a private part (`d`) where a public key is
expected: such a JWK in a trust list is a leaked secret, not a key to trust.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jwcrypto.common import base64url_decode, base64url_encode
from jwcrypto.jwk import JWK

from keys.errors import KeyMaterialError, UnsupportedKeyType, WrongKeyLength
from keys.material import PublicKey
from keys.multikey import KEY_BYTES

# base64url without padding: the only form RFC 7515/7517 allow.
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def public_jwk(public: PublicKey, kid: str | None = None) -> dict[str, str]:
    """The public JWK `{"kty": "OKP", "crv": "Ed25519", "x": ..., "kid": ...}` of `public`."""
    if not isinstance(public, PublicKey):
        raise KeyMaterialError("public_jwk takes a PublicKey")
    # jwcrypto checks the parameters and gives the canonical public export.
    key = JWK(kty="OKP", crv="Ed25519", x=base64url_encode(public.raw))
    exported: dict[str, Any] = key.export_public(as_dict=True)
    out = {"kty": str(exported["kty"]), "crv": str(exported["crv"]), "x": str(exported["x"])}
    if kid is not None:
        out["kid"] = kid
    return out


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """The Ed25519 public key of a public JWK; typed errors for anything else."""
    if not isinstance(jwk, Mapping):
        raise KeyMaterialError("a JWK must be a JSON object")
    if "d" in jwk:
        raise UnsupportedKeyType("this JWK holds a private key; only public JWKs are accepted")
    kty, crv, x = jwk.get("kty"), jwk.get("crv"), jwk.get("x")
    if kty != "OKP":
        raise UnsupportedKeyType(f"JWK key type {kty!r} is not supported; only OKP (Ed25519) is")
    if crv != "Ed25519":
        raise UnsupportedKeyType(f"JWK curve {crv!r} is not supported; only Ed25519 is")
    if not isinstance(x, str) or not _B64URL.fullmatch(x):
        raise KeyMaterialError("the JWK's x is not unpadded base64url")
    try:
        raw = base64url_decode(x)
    except ValueError as e:
        raise KeyMaterialError("the JWK's x is not unpadded base64url") from e
    if len(raw) != KEY_BYTES:
        raise WrongKeyLength(f"an Ed25519 JWK's x is {KEY_BYTES} bytes, this one has {len(raw)}")
    # Reject a non-canonical spelling (stray low bits in the last character) of the same bytes.
    if base64url_encode(raw) != x:
        raise KeyMaterialError("the JWK's x is not in canonical base64url")
    try:
        JWK(kty="OKP", crv="Ed25519", x=x)
    except Exception as e:  # jwcrypto's own validation; its exception types vary between versions
        raise KeyMaterialError("the JWK is not a valid Ed25519 public key") from e
    return PublicKey(raw)
