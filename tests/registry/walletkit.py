"""A wallet for the tests, written from the specs (the independent ones are in tests/interop): holder
keys (Ed25519 or P-256), OpenID4VCI key proofs, and the steps of the pre-authorized code flow over HTTP."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from jwcrypto.jwk import JWK
from nacl.signing import SigningKey

from keys.jose import b64u, did_for_jwk, sign_compact
from keys.multikey import encode_public_multikey

PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


@dataclass
class HolderKey:
    """Ed25519 (did:key) by default; `ec=True` for a P-256 key (did:jwk)."""

    ec: bool = False
    _ed: SigningKey = field(default_factory=SigningKey.generate)
    _ec: JWK = field(default_factory=lambda: JWK.generate(kty="EC", crv="P-256"))

    @property
    def alg(self) -> str:
        return "ES256" if self.ec else "EdDSA"

    @property
    def jwk(self) -> dict[str, str]:
        if self.ec:
            pub = self._ec.export_public(as_dict=True)
            return {"kty": "EC", "crv": "P-256", "x": pub["x"], "y": pub["y"]}
        return {"kty": "OKP", "crv": "Ed25519", "x": b64u(bytes(self._ed.verify_key))}

    @property
    def did(self) -> str:
        return did_for_jwk(self.jwk)

    @property
    def kid(self) -> str:
        if self.ec:
            return self.did + "#0"
        mb = encode_public_multikey(bytes(self._ed.verify_key))
        return f"did:key:{mb}#{mb}"

    def sign(self, data: bytes) -> bytes:
        if self.ec:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

            r, s = decode_dss_signature(self._ec.get_op_key("sign").sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return bytes(self._ed.sign(data).signature)

    def jwt(self, header: dict[str, Any], payload: dict[str, Any]) -> str:
        return sign_compact(header, payload, self.sign)

    def proof(self, nonce: str | None, aud: str, *, by: str = "kid", typ: str = "openid4vci-proof+jwt",
              iat: float | None = None, alg: str | None = None, extra_header: dict[str, Any] | None = None) -> str:
        header: dict[str, Any] = {"alg": alg or self.alg, "typ": typ}
        if by in ("kid", "both"):
            header["kid"] = self.kid
        if by in ("jwk", "both"):
            header["jwk"] = self.jwk
        header.update(extra_header or {})
        payload: dict[str, Any] = {"aud": aud, "iat": int(iat if iat is not None else time.time())}
        if nonce is not None:
            payload["nonce"] = nonce
        return self.jwt(header, payload)


def form(**kw: str) -> dict[str, str]:
    return {k.replace("_", "-") if k == "pre_authorized_code" else k: v for k, v in kw.items()}


def present_sd_jwt(sd_jwt: str, holder: HolderKey, keep: list[str], nonce: str, aud: str,
                   iat: float | None = None) -> str:
    """The holder's presentation: only the disclosures of `keep`, and a KB-JWT over nonce, aud and sd_hash."""
    import hashlib
    import json as _json

    from keys.jose import b64u_decode

    parts = sd_jwt.split("~")
    kept = [d for d in parts[1:-1] if _json.loads(b64u_decode(d))[1] in keep]
    presented = parts[0] + "~" + "".join(d + "~" for d in kept)
    sd_hash = b64u(hashlib.sha256(presented.encode("ascii")).digest())
    kb = holder.jwt({"alg": holder.alg, "typ": "kb+jwt"},
                    {"iat": int(iat if iat is not None else time.time()), "aud": aud, "nonce": nonce,
                     "sd_hash": sd_hash})
    return presented + kb


def present_ldp(vc: dict[str, Any], holder: HolderKey, nonce: str, domain: str) -> dict[str, Any]:
    """A W3C VP with the holder's eddsa-rdfc-2022 authentication proof (challenge = nonce, domain)."""
    from datetime import UTC, datetime

    from proofs.dataintegrity import ProofOptions, add_proof
    from schemas.loader import default_loader

    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
          "holder": holder.did, "verifiableCredential": [vc]}
    options = ProofOptions(verification_method=holder.kid, created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           proof_purpose="authentication", challenge=nonce, domain=domain)
    return add_proof(vp, options, holder.sign, default_loader())


def di_vp_proof(holder: HolderKey, nonce: str, domain: str, holder_did: str | None = None) -> dict[str, Any]:
    """An OpenID4VCI `di_vp` key proof: an empty VP with the holder's authentication proof."""
    from datetime import UTC, datetime

    from proofs.dataintegrity import ProofOptions, add_proof
    from schemas.loader import default_loader

    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
          "holder": holder_did or holder.did}
    options = ProofOptions(verification_method=holder.kid, created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           proof_purpose="authentication", challenge=nonce, domain=domain)
    return add_proof(vp, options, holder.sign, default_loader())
