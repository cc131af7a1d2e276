"""`di_vp` key proofs (OpenID4VCI 1.0 Appendix F.2): a W3C Verifiable Presentation whose Data Integrity
proof (eddsa-rdfc-2022) proves the holder's key.

Checked: a VerifiablePresentation with the VC 2.0 context, bounded; exactly one proof, `proofPurpose`
authentication, `cryptosuite` eddsa-rdfc-2022, `domain` = this credential issuer, `challenge` = a
c_nonce (its single use is the caller's, after the signature), `created` fresh in both directions when
present; the verification method a did:key whose controller is the presentation's `holder`; the
signature. Failures are `invalid_proof`, a missing challenge `invalid_nonce`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from keys.did import DidResolver
from keys.errors import KeyMaterialError
from keys.jose import JoseError, jwk_from_did
from proofs.bounds import Limits, check_document
from proofs.dataintegrity import parse_datetime, verify_proofs
from proofs.errors import ProofLayerError
from proofs.purposes import authentication
from schemas.errors import SchemaLayerError
from schemas.loader import default_loader
from titlecred.oid4vci.errors import invalid_nonce, invalid_proof
from titlecred.oid4vci.proofs import MAX_AGE, SKEW, ProvedKey

LIMITS = Limits(max_bytes=16 * 1024, max_depth=8, max_nodes=400, max_string=4 * 1024, max_blank_nodes=16)
VC_V2 = "https://www.w3.org/ns/credentials/v2"


def check_di_vp(vp: Any, *, audience: str, now: datetime, max_age: timedelta = MAX_AGE,
                skew: timedelta = SKEW) -> ProvedKey:
    if not isinstance(vp, dict):
        raise invalid_proof("a di_vp proof is a Verifiable Presentation (a JSON object)")
    try:
        check_document(vp, LIMITS)
    except ProofLayerError as e:
        raise invalid_proof(f"the presentation is refused: {e.message}") from None
    ctx = vp.get("@context")
    types = vp.get("type")
    if not isinstance(ctx, list) or not ctx or ctx[0] != VC_V2 or \
            "VerifiablePresentation" not in (types if isinstance(types, list) else [types]):
        raise invalid_proof("a di_vp proof is a VerifiablePresentation with the VC 2.0 context")
    proof = vp.get("proof")
    if not isinstance(proof, dict):
        raise invalid_proof("the presentation must carry exactly one proof")
    if proof.get("proofPurpose") != "authentication" or proof.get("cryptosuite") != "eddsa-rdfc-2022":
        raise invalid_proof("the proof must be eddsa-rdfc-2022 with proofPurpose authentication")
    if proof.get("domain") != audience:
        raise invalid_proof(f"the proof's domain must be the credential issuer {audience}")
    challenge = proof.get("challenge")
    if not isinstance(challenge, str) or not challenge:
        raise invalid_nonce("the proof carries no challenge (the c_nonce)")
    created = parse_datetime(proof.get("created")) if "created" in proof else None
    if "created" in proof and (created is None or created > now + skew or created < now - max_age):
        raise invalid_proof("the proof's created time is missing or not fresh")
    vm = proof.get("verificationMethod")
    holder = vp.get("holder")
    holder_id = holder.get("id") if isinstance(holder, dict) else holder
    if not isinstance(vm, str) or not vm.startswith("did:key:") or vm.split("#")[0] != holder_id:
        raise invalid_proof("the proof's key must be a did:key of the presentation's holder")
    resolver = DidResolver(online=False)

    def resolve(method_id: str) -> Any:
        method = resolver.resolve_verification_method(method_id)
        if "authentication" not in method.relationships:
            raise ProofLayerError(f"key {method_id} is not an authentication method")
        return method.public_key.verify

    try:
        checks = verify_proofs(vp, resolve, default_loader(), authentication(challenge, audience), now)
        jwk = jwk_from_did(vm)
    except (ProofLayerError, SchemaLayerError, KeyMaterialError, JoseError) as e:
        raise invalid_proof(f"the proof cannot be checked: {getattr(e, 'message', e)}") from None
    if len(checks) != 1 or not checks[0].ok:
        raise invalid_proof("the presentation's proof does not verify: " + (checks[0].reason if checks else ""))
    return ProvedKey(jwk=jwk, nonce=challenge, kid=vm)
