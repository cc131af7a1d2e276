"""The OpenID4VP 1.0 authorization request a verifier shows (QR code / `openid4vp://` link).

Unsigned, by value, with the `redirect_uri:` client identifier prefix (§5.9.3): `client_id` is
`redirect_uri:<response_uri>`, the response mode `direct_post`, so the wallet POSTs its `vp_token` to
our response endpoint. The `nonce` (fresh, random) is what the holder's proof must cover; the same
`client_id` is the audience (KB-JWT `aud`) or the domain (Data Integrity `domain`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from keys.jose import HOLDER_ALGS

CLIENT_METADATA = {
    "vp_formats_supported": {
        "dc+sd-jwt": {"sd-jwt_alg_values": ["EdDSA"], "kb-jwt_alg_values": list(HOLDER_ALGS)},
        "ldp_vc": {"proof_type_values": ["DataIntegrityProof"], "cryptosuite_values": ["eddsa-rdfc-2022"]},
    },
}


def response_uri(base_url: str) -> str:
    return f"{base_url}/oid4vp/response"


def client_id(base_url: str) -> str:
    return "redirect_uri:" + response_uri(base_url)


def authorization_request(base_url: str, *, nonce: str, state: str, dcql_query: dict[str, Any]) -> dict[str, Any]:
    return {
        "response_type": "vp_token",
        "client_id": client_id(base_url),
        "response_mode": "direct_post",
        "response_uri": response_uri(base_url),
        "nonce": nonce,
        "state": state,
        "dcql_query": dcql_query,
        "client_metadata": CLIENT_METADATA,
    }


def request_link(params: dict[str, Any]) -> str:
    """`openid4vp://?...`: every parameter in the query, objects as JSON."""
    flat = {k: json.dumps(v, separators=(",", ":"), ensure_ascii=False) if isinstance(v, dict) else v
            for k, v in params.items()}
    return "openid4vp://?" + urlencode(flat)
