"""Credential issuer metadata (OpenID4VCI 1.0 §12.2) and OAuth authorization server metadata (RFC 8414).

Two credential configurations of one certificate: `title_ldp_vc` (our W3C credential, Data Integrity
eddsa-rdfc-2022, bound by `credentialSubject.id` to a did:key or did:jwk) and `title_dc_sd_jwt` (SD-JWT
VC, bound by `cnf.jwk`). Key proofs: `jwt` with EdDSA or ES256, and `di_vp` (a Verifiable Presentation
with an eddsa-rdfc-2022 authentication proof).
"""

from __future__ import annotations

from typing import Any

from issuer.credential import CONTEXT, FULL_TYPE
from issuer.sdjwt import TITLE_VCT
from keys.jose import HOLDER_ALGS

LDP_VC = "title_ldp_vc"
SD_JWT = "title_dc_sd_jwt"
CONFIGURATIONS = (LDP_VC, SD_JWT)
PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"

# (claim, 中文, English): the subject facts a wallet shows, in this order.
CLAIMS = (
    ("name", "姓名", "Name"), ("namePinyin", "姓名拼音", "Name (pinyin)"), ("gender", "性别", "Gender"),
    ("idNumber", "身份证号码", "Resident ID number"), ("reportingUnit", "呈报单位", "Reporting unit"),
    ("qualification", "资格名称", "Qualification"), ("series", "系列", "Series"),
    ("specialty", "专业", "Specialty"), ("level", "级别", "Level"), ("levelCode", "级别代码", "Level code"),
    ("reviewBody", "评审机构", "Review body"), ("reviewChannel", "取得途径", "Channel"),
    ("dateQualified", "取得时间", "Date qualified"), ("certificateNumber", "证书编号", "Certificate number"),
)
DISPLAY = [{"name": "专业技术职称证书", "locale": "zh-CN"}, {"name": "Professional title certificate", "locale": "en"}]


def _claims(prefix: list[str]) -> list[dict[str, Any]]:
    return [{"path": [*prefix, name], "display": [{"name": zh, "locale": "zh-CN"}, {"name": en, "locale": "en"}]}
            for name, zh, en in CLAIMS]


def endpoints(base_url: str) -> dict[str, str]:
    return {
        "credential_endpoint": f"{base_url}/oid4vci/credential",
        "nonce_endpoint": f"{base_url}/oid4vci/nonce",
        "token_endpoint": f"{base_url}/oid4vci/token",
        "authorization_endpoint": f"{base_url}/oid4vci/authorize",
    }


def issuer_metadata(base_url: str, issuer_name: str, *, di_vp: bool = True) -> dict[str, Any]:
    ep = endpoints(base_url)
    proof_types: dict[str, Any] = {"jwt": {"proof_signing_alg_values_supported": list(HOLDER_ALGS)}}
    if di_vp:
        proof_types["di_vp"] = {"proof_signing_alg_values_supported": ["eddsa-rdfc-2022"]}
    return {
        "credential_issuer": base_url,
        "authorization_servers": [base_url],
        "credential_endpoint": ep["credential_endpoint"],
        "nonce_endpoint": ep["nonce_endpoint"],
        "display": [{"name": issuer_name, "locale": "zh-CN"}],
        "credential_configurations_supported": {
            LDP_VC: {
                "format": "ldp_vc",
                "scope": LDP_VC,
                "cryptographic_binding_methods_supported": ["did:key", "did:jwk"],
                "credential_signing_alg_values_supported": ["eddsa-rdfc-2022"],
                "proof_types_supported": proof_types,
                "credential_definition": {"@context": list(CONTEXT), "type": list(FULL_TYPE)},
                "credential_metadata": {"display": DISPLAY, "claims": _claims(["credentialSubject"])},
            },
            SD_JWT: {
                "format": "dc+sd-jwt",
                "scope": SD_JWT,
                "vct": TITLE_VCT,
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": ["EdDSA"],
                "proof_types_supported": {"jwt": proof_types["jwt"]},
                "credential_metadata": {"display": DISPLAY, "claims": _claims([])},
            },
        },
    }


def authorization_server_metadata(base_url: str, *, authorization_code: bool = True) -> dict[str, Any]:
    ep = endpoints(base_url)
    out: dict[str, Any] = {
        "issuer": base_url,
        "token_endpoint": ep["token_endpoint"],
        "grant_types_supported": [PRE_AUTH_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": ["code"],
        "scopes_supported": list(CONFIGURATIONS),
    }
    if authorization_code:
        out["grant_types_supported"].append("authorization_code")
        out["authorization_endpoint"] = ep["authorization_endpoint"]
        out["code_challenge_methods_supported"] = ["S256"]
    return out


def credential_offer(base_url: str, configurations: list[str], pre_authorized_code: str,
                     tx_code_length: int, tx_description: str) -> dict[str, Any]:
    """The credential offer object (§4.1.1), pre-authorized code grant with a numeric transaction code."""
    return {
        "credential_issuer": base_url,
        "credential_configuration_ids": list(configurations),
        "grants": {PRE_AUTH_GRANT: {
            "pre-authorized_code": pre_authorized_code,
            "tx_code": {"input_mode": "numeric", "length": tx_code_length, "description": tx_description},
        }},
    }


def offer_link(offer_uri: str) -> str:
    """`openid-credential-offer://?credential_offer_uri=...`: what the QR code and the same-device link hold."""
    from urllib.parse import quote

    return "openid-credential-offer://?credential_offer_uri=" + quote(offer_uri, safe="")
