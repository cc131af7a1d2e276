"""Key proofs of a credential request (OpenID4VCI 1.0 §8.2.1, Appendix F): who holds which key.

`check_jwt_proof` checks a `jwt` proof the way the attacks on it require, in this order:
- header: `typ` exactly `openid4vci-proof+jwt` (no other JWT passes as a proof); `alg` in the
  allow-list (EdDSA, ES256: never `none`, never HMAC, which would let a public key act as a secret);
  exactly one key parameter, `kid` (a did:key / did:jwk DID URL) or `jwk` (public), never `x5c`;
  the `alg` is the one the key's type signs with (no algorithm confusion);
- signature under that key;
- claims: `aud` is this credential issuer, `iat` present and fresh in both directions (not older than
  `max_age`, not further in the future than `skew`), `nonce` present (its single use is checked by the
  caller against the nonce store, after the signature, so an attacker cannot burn nonces).

It returns the proved key (public JWK) and the nonce; any failure is `invalid_proof`, a missing nonce
`invalid_nonce`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from keys.jose import (
    HOLDER_ALGS,
    JoseError,
    alg_for_jwk,
    decode_compact,
    holder_public_jwk,
    jwk_from_did,
    verify_compact,
)
from titlecred.oid4vci.errors import OAuthError, invalid_nonce, invalid_proof

PROOF_TYP = "openid4vci-proof+jwt"
MAX_AGE = timedelta(minutes=5)
SKEW = timedelta(seconds=60)


@dataclass(frozen=True)
class ProvedKey:
    jwk: dict[str, str]
    nonce: str
    kid: str | None  # the DID URL when the proof named its key by kid


def check_jwt_proof(token: Any, *, audience: str, now: datetime, max_age: timedelta = MAX_AGE,
                    skew: timedelta = SKEW) -> ProvedKey:
    try:
        header, payload = decode_compact(token)
    except JoseError as e:
        raise invalid_proof(f"the proof is not a signed JWT: {e.message}") from None
    if header.get("typ") != PROOF_TYP:
        raise invalid_proof(f"the proof's typ must be {PROOF_TYP}")
    alg = header.get("alg")
    if alg not in HOLDER_ALGS:
        raise invalid_proof(f"the proof's alg {alg!r} is not accepted (accepted: {', '.join(HOLDER_ALGS)})")
    keys_given = [k for k in ("kid", "jwk", "x5c") if k in header]
    if len(keys_given) != 1 or keys_given[0] == "x5c":
        raise invalid_proof("the proof's header must carry exactly one of kid (a did:key or did:jwk DID URL) "
                            "and jwk")
    kid = header.get("kid")
    try:
        jwk = jwk_from_did(kid) if kid is not None else holder_public_jwk(header.get("jwk"))
        key_alg = alg_for_jwk(jwk)
    except JoseError as e:
        raise invalid_proof(f"the proof's key cannot be used: {e.message}") from None
    if alg != key_alg:
        raise invalid_proof(f"alg {alg} does not fit the key ({key_alg} keys only)")
    if not verify_compact(token, jwk, alg):
        raise invalid_proof("the proof's signature does not verify under its key")
    aud = payload.get("aud")
    if aud != audience and not (isinstance(aud, list) and aud == [audience]):
        raise invalid_proof(f"the proof's aud must be the credential issuer {audience}")
    iat = payload.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise invalid_proof("the proof has no iat")
    issued = datetime.fromtimestamp(min(max(iat, 0), 2**33), now.tzinfo)
    if issued > now + skew:
        raise invalid_proof("the proof's iat is in the future")
    if issued < now - max_age:
        raise invalid_proof("the proof's iat is too old: make a new proof")
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise invalid_nonce("the proof carries no nonce: get one from the nonce endpoint")
    return ProvedKey(jwk=jwk, nonce=nonce, kid=kid if isinstance(kid, str) else None)


__all__ = ["PROOF_TYP", "OAuthError", "ProvedKey", "check_jwt_proof"]
