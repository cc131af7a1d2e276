"""Compact JWS and holder keys, shared by the issuer (SD-JWT VC, status list tokens) and the verifier
(key proofs, key-binding JWTs).

- `sign_compact(header, payload, sign)`: a compact JWS made with a signer callback, so that the
  bureau's key never leaves keys/ (the issuer hands us `IssuerKey.sign`).
- `decode_compact(token)`: header and payload of a compact JWS, bounded (size, JSON shape), without
  verifying anything; `verify_compact(token, jwk, alg)` checks the signature with jwcrypto.
- Holder keys: a public JWK (Ed25519 `OKP` or P-256 `EC`) from a `did:key` (Ed25519) or `did:jwk`,
  and the holder DID we bind a W3C credential to (`did:key` for Ed25519, `did:jwk` otherwise).

It must never accept a JWK with a private part as a holder key, nor `alg: none`, nor decode an
unbounded token.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from jwcrypto.common import base64url_decode, base64url_encode
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS, InvalidJWSSignature

from keys.errors import KeyMaterialError, UnsupportedKeyType
from keys.jwk import public_jwk, public_key_from_jwk
from keys.material import PublicKey
from keys.multikey import decode_public_multikey, encode_public_multikey

MAX_TOKEN_CHARS = 64 * 1024
# What a holder may sign with: Ed25519 (our own keys, did:key) and P-256 (most phone wallets).
HOLDER_ALGS = ("EdDSA", "ES256")
_ALG_OF_KEY = {("OKP", "Ed25519"): "EdDSA", ("EC", "P-256"): "ES256"}


class JoseError(ValueError):
    """A token or key that cannot be used; `.code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def b64u(data: bytes) -> str:
    return str(base64url_encode(data))


def b64u_decode(text: str) -> bytes:
    if not isinstance(text, str) or any(c not in _B64U_CHARS for c in text):
        raise JoseError("malformed_jwt", "not unpadded base64url")
    try:
        return bytes(base64url_decode(text))
    except ValueError as e:
        raise JoseError("malformed_jwt", "not unpadded base64url") from e


_B64U_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def json_b64u(obj: Any) -> str:
    return b64u(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def sign_compact(header: Mapping[str, Any], payload: Mapping[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A compact JWS of `payload` with `header`, the signature made by `sign` (raw signature bytes)."""
    signing_input = f"{json_b64u(dict(header))}.{json_b64u(dict(payload))}"
    return f"{signing_input}.{b64u(sign(signing_input.encode('ascii')))}"


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64u_decode(part).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        if isinstance(e, JoseError):
            raise
        raise JoseError("malformed_jwt", f"the JWT's {what} is not JSON") from e
    if not isinstance(value, dict):
        raise JoseError("malformed_jwt", f"the JWT's {what} is not a JSON object")
    return value


def decode_compact(token: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a compact JWS, unverified; JoseError if it is not one."""
    if not isinstance(token, str) or not token:
        raise JoseError("malformed_jwt", "a JWT must be a non-empty string")
    if len(token) > MAX_TOKEN_CHARS:
        raise JoseError("malformed_jwt", f"the JWT is longer than {MAX_TOKEN_CHARS} characters")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise JoseError("malformed_jwt", "a compact JWS has three dot-separated parts")
    header, payload = _json_object(parts[0], "header"), _json_object(parts[1], "payload")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise JoseError("unsupported_alg", "the JWT must be signed (alg 'none' is refused)")
    return header, payload


def verify_compact(token: str, jwk: Mapping[str, Any], alg: str) -> bool:
    """True if `token`'s signature verifies under the public `jwk` with exactly `alg`."""
    try:
        key = JWK(**dict(jwk))
        jws = JWS()
        jws.deserialize(token)
        jws.verify(key, alg=alg)
        return True
    except (InvalidJWSSignature, ValueError, TypeError, KeyError):
        return False
    except Exception as e:  # jwcrypto raises its own bases (JWException) for malformed input
        if type(e).__module__.startswith("jwcrypto"):
            return False
        raise


def alg_for_jwk(jwk: Mapping[str, Any]) -> str:
    """The one JWS algorithm a holder key of this type signs with (EdDSA or ES256)."""
    alg = _ALG_OF_KEY.get((str(jwk.get("kty")), str(jwk.get("crv"))))
    if alg is None:
        raise JoseError("unsupported_key", "holder keys are Ed25519 (OKP) or P-256 (EC) JWKs")
    return alg


def holder_public_jwk(jwk: Any) -> dict[str, str]:
    """The public part of a holder's JWK (Ed25519 or P-256), checked; a private JWK is refused."""
    if not isinstance(jwk, Mapping):
        raise JoseError("invalid_jwk", "jwk must be a JSON object")
    if "d" in jwk:
        raise JoseError("invalid_jwk", "the jwk holds a private key")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if (kty, crv) == ("OKP", "Ed25519"):
        try:
            return public_jwk(public_key_from_jwk(jwk))
        except KeyMaterialError as e:
            raise JoseError("invalid_jwk", str(e)) from e
    if (kty, crv) == ("EC", "P-256"):
        x, y = jwk.get("x"), jwk.get("y")
        try:
            key = JWK(kty="EC", crv="P-256", x=x, y=y)  # checks the point is on the curve
        except Exception as e:
            raise JoseError("invalid_jwk", "the jwk is not a P-256 public key") from e
        exported = key.export_public(as_dict=True)
        return {"kty": "EC", "crv": "P-256", "x": str(exported["x"]), "y": str(exported["y"])}
    raise JoseError("unsupported_key", "holder keys are Ed25519 (OKP) or P-256 (EC) JWKs")


def jwk_from_did(did_url: Any) -> dict[str, str]:
    """The public JWK named by a `did:key` (Ed25519) or `did:jwk` DID or DID URL."""
    if not isinstance(did_url, str) or len(did_url) > 4096:
        raise JoseError("unresolvable_did", "kid must be a DID URL")
    did, _, fragment = did_url.partition("#")
    if did.startswith("did:key:"):
        mb = did[len("did:key:"):]
        try:
            raw = decode_public_multikey(mb)
        except KeyMaterialError as e:
            raise JoseError("unresolvable_did", f"not an Ed25519 did:key: {e}") from e
        if fragment and fragment != mb:
            raise JoseError("unresolvable_did", "a did:key has one verification method, #<its key>")
        return public_jwk(PublicKey(raw))
    if did.startswith("did:jwk:"):
        if fragment not in ("", "0"):
            raise JoseError("unresolvable_did", "a did:jwk has one verification method, #0")
        return holder_public_jwk(_json_object(did[len("did:jwk:"):], "did:jwk"))
    raise JoseError("unresolvable_did", "only did:key and did:jwk holder keys are resolved")


def did_for_jwk(jwk: Mapping[str, Any]) -> str:
    """The DID a W3C credential is bound to: did:key for an Ed25519 key, did:jwk for any other."""
    public = holder_public_jwk(jwk)
    if public["kty"] == "OKP":
        return "did:key:" + encode_public_multikey(public_key_from_jwk(public).raw)
    return "did:jwk:" + json_b64u(public)


def verification_method_for_did(did: str) -> str:
    """The one verification method id of a did:key or did:jwk."""
    if did.startswith("did:key:"):
        return f"{did}#{did[len('did:key:'):]}"
    if did.startswith("did:jwk:"):
        return f"{did}#0"
    raise UnsupportedKeyType("only did:key and did:jwk")


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url) of a public JWK."""
    required = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}.get(str(jwk.get("kty")))
    if required is None:
        raise JoseError("unsupported_key", "thumbprints of OKP and EC keys only")
    members = {k: jwk[k] for k in required}
    text = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return b64u(hashlib.sha256(text.encode("utf-8")).digest())
