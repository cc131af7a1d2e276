"""Ed25519 key material: a public key that verifies, and a signing key that signs.

`SigningKey` holds a secret. It must never show it: not in repr/str, not through pickling or copying,
not through an export method (there is none; the keystore encrypts seeds itself, see keys.store).
`PublicKey.verify` must never raise on attacker-supplied input: a bad or malformed signature is
simply `False`, so a verifier cannot be crashed by a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import SigningKey as _NaclSigningKey
from nacl.signing import VerifyKey

from keys.errors import KeyMaterialError, WrongKeyLength
from keys.multikey import KEY_BYTES, decode_public_multikey, decode_secret_multikey, encode_public_multikey

SIGNATURE_BYTES = 64


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key (32 raw bytes)."""

    raw: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes):
            raise KeyMaterialError("a public key must be given as bytes")
        if len(self.raw) != KEY_BYTES:
            raise WrongKeyLength(f"an Ed25519 public key is {KEY_BYTES} bytes, not {len(self.raw)}")

    @classmethod
    def from_multibase(cls, mb: str) -> PublicKey:
        return cls(decode_public_multikey(mb))

    @property
    def multibase(self) -> str:
        """The Multikey `publicKeyMultibase` ('z6Mk…')."""
        return encode_public_multikey(self.raw)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True only for a valid 64-byte detached Ed25519 signature of `message`; never raises."""
        if not isinstance(message, bytes | bytearray) or not isinstance(signature, bytes | bytearray):
            return False
        if len(signature) != SIGNATURE_BYTES:
            return False
        try:
            VerifyKey(self.raw).verify(bytes(message), bytes(signature))
        except (BadSignatureError, CryptoError, ValueError, TypeError):
            return False
        return True

    def __repr__(self) -> str:
        return f"PublicKey({self.multibase})"


class SigningKey:
    """An Ed25519 signing key. Opaque: it signs and tells its public key, nothing more."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: _NaclSigningKey) -> None:
        if not isinstance(key, _NaclSigningKey):
            raise KeyMaterialError("SigningKey wraps a nacl.signing.SigningKey")
        self._key = key
        self._public = PublicKey(bytes(key.verify_key))

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        if not isinstance(seed, bytes | bytearray):
            raise KeyMaterialError("a seed must be given as bytes")
        if len(seed) != KEY_BYTES:
            raise WrongKeyLength(f"an Ed25519 seed is {KEY_BYTES} bytes, not {len(seed)}")
        return cls(_NaclSigningKey(bytes(seed)))

    @classmethod
    def from_secret_multibase(cls, mb: str) -> SigningKey:
        """From a Multikey `secretKeyMultibase` ('z3u2…')."""
        return cls.from_seed(decode_secret_multikey(mb))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(_NaclSigningKey.generate())

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached Ed25519 signature of `message`."""
        return bytes(self._key.sign(bytes(message)).signature)

    def __repr__(self) -> str:
        # The public key only: this is what ends up in logs, tracebacks and debugger views.
        return f"SigningKey(public={self._public.multibase})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        # Equal signing keys have equal public keys; comparing those avoids touching the seeds.
        return isinstance(other, SigningKey) and other._public == self._public

    def __hash__(self) -> int:
        return hash(("SigningKey", self._public.raw))

    # Pickling or copying would write the seed out as plain bytes (nacl's key pickles its seed):
    # refuse outright rather than rely on callers never doing it.
    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a SigningKey cannot be pickled or copied: it holds a secret seed")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a SigningKey cannot be pickled or copied: it holds a secret seed")

    def __getstate__(self) -> NoReturn:
        raise TypeError("a SigningKey cannot be pickled or copied: it holds a secret seed")
