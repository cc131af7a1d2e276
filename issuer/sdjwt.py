"""SD-JWT VC (`dc+sd-jwt`, draft-ietf-oauth-sd-jwt-vc over RFC 9901 SD-JWT) of a title certificate.

Every subject fact is its own disclosure, so a holder can show name, title and level and keep the
resident ID number back. What is always visible is only what a verifier needs to check the token
itself: `iss` (the bureau's DID; the header's `kid` names the key), `iat`, `vct`, the holder's key
(`cnf.jwk`, key binding) and the status reference (`status.status_list`: the certificate's revocation
list, served as an IETF Token Status List). Digests are SHA-256 and `_sd` is sorted, so the order of
the facts says nothing.

It must never put a subject fact outside a disclosure, nor reuse a salt.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from keys.jose import b64u, sign_compact

SD_JWT_TYP = "dc+sd-jwt"
SD_ALG = "sha-256"
# The type of our title credential (a URI, as SD-JWT VC asks; it names the claim set, not a location).
TITLE_VCT = "https://w3id.org/titlecred/vct/ProfessionalTitleCredential/v1"


def disclosure(name: str, value: Any, salt: str | None = None) -> str:
    """One object-property disclosure: base64url of the JSON array [salt, name, value]."""
    salt = salt or b64u(secrets.token_bytes(16))
    text = json.dumps([salt, name, value], ensure_ascii=False, separators=(",", ":"))
    return b64u(text.encode("utf-8"))


def digest(disclosure_text: str) -> str:
    """The digest that goes into `_sd`: base64url(SHA-256(the disclosure's ASCII))."""
    return b64u(hashlib.sha256(disclosure_text.encode("ascii")).digest())


def issue_sd_jwt(
    *,
    visible: Mapping[str, Any],
    disclosable: Mapping[str, Any],
    kid: str,
    sign: Callable[[bytes], bytes],
    alg: str = "EdDSA",
) -> str:
    """`<issuer JWT>~<disclosure>~...~`: `visible` claims in the clear, each of `disclosable` hidden."""
    clash = set(visible) & set(disclosable)
    if clash or "_sd" in visible:
        raise ValueError(f"claims both visible and disclosable: {sorted(clash)}")
    disclosures = [disclosure(name, value) for name, value in disclosable.items()]
    payload = dict(visible)
    payload["_sd"] = sorted(digest(d) for d in disclosures)
    payload["_sd_alg"] = SD_ALG
    jwt = sign_compact({"alg": alg, "typ": SD_JWT_TYP, "kid": kid}, payload, sign)
    return jwt + "~" + "".join(d + "~" for d in disclosures)


def title_sd_jwt(
    *,
    subject: Mapping[str, Any],
    issuer_did: str,
    kid: str,
    sign: Callable[[bytes], bytes],
    holder_jwk: Mapping[str, Any],
    issued_at: int,
    status_uri: str,
    status_index: int,
    expires_at: int | None = None,
) -> str:
    """The title certificate's SD-JWT VC: every subject fact disclosable, bound to `holder_jwk`."""
    visible: dict[str, Any] = {
        "iss": issuer_did,
        "iat": issued_at,
        "vct": TITLE_VCT,
        "cnf": {"jwk": dict(holder_jwk)},
        "status": {"status_list": {"idx": status_index, "uri": status_uri}},
    }
    if expires_at is not None:
        visible["exp"] = expires_at
    facts = {k: v for k, v in subject.items() if k not in ("type", "id")}
    return issue_sd_jwt(visible=visible, disclosable=facts, kid=kid, sign=sign)
