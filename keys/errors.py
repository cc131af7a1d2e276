"""Typed errors of the keys layer.

Every error carries a stable snake_case `code` (the CLI's --json output and the API reuse it, and the
proofs layer keeps it when a key resolver raises) and a one-line human `message`.

A message must never contain secret material: no seed, no secret multibase, no passphrase, no
ciphertext. Name the key by its id or public key only.
"""

from __future__ import annotations


class KeyMaterialError(Exception):
    """Base of every keys-layer error."""

    code: str = "invalid_key"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidMultibase(KeyMaterialError):
    """Not a base58btc multibase string ('z' + Bitcoin-alphabet characters)."""

    code = "invalid_multibase"


class WrongKeyLength(KeyMaterialError):
    """A key, seed or its multicodec payload has the wrong number of bytes."""

    code = "invalid_key_length"


class UnsupportedKeyType(KeyMaterialError):
    """A key of another algorithm or multicodec than Ed25519 (or a secret where a public key belongs)."""

    code = "unsupported_key_type"


class KeyNotFound(KeyMaterialError):
    """No key with that id (in the keystore, or in a DID document that was found)."""

    code = "unknown_key"


class DuplicateKey(KeyMaterialError):
    """A key id or public key that the keystore already holds: ids are never reused."""

    code = "duplicate_key"


class WrongController(KeyMaterialError):
    """A key id or record that does not belong to the DID it is used with."""

    code = "wrong_controller"


class KeyStateError(KeyMaterialError):
    """An operation the key's life-cycle state forbids (signing with a retired key, un-revoking...)."""

    code = "key_state"


class InvalidTime(KeyMaterialError, ValueError):
    """A naive datetime (its zone would be a guess) or a time not written YYYY-MM-DDTHH:MM:SSZ.

    Also a ValueError, as a bad time value is.
    """

    code = "invalid_date"


class KeyNotAuthorized(KeyMaterialError):
    """The verification method is not listed under the requested verification relationship."""

    code = "key_not_authorized"


class BadPassphrase(KeyMaterialError):
    """The keystore passphrase is wrong (or empty)."""

    code = "bad_passphrase"


class KeyFileCorrupt(KeyMaterialError):
    """A key file is unreadable, or its encrypted part was altered or does not match its public key."""

    code = "keystore_corrupt"


class InvalidDidDocument(KeyMaterialError):
    """A DID document or JWKS given as trusted input is malformed or contradicts itself."""

    code = "invalid_did_document"


class UnresolvableDid(KeyMaterialError):
    """A DID that cannot be resolved here (not among the trusted documents while offline, fetch failed...)."""

    code = "unresolvable_did"
