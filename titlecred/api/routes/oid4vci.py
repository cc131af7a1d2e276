"""OpenID4VCI 1.0 over HTTP: issuer and authorization-server metadata, offers, token, nonce, credential;
the Token Status List form of the revocation lists; the holder's "add to wallet" offer.

The OAuth endpoints answer errors as OAuth does (`{"error", "error_description"}`, application/json,
`Cache-Control: no-store`), not as problem+json: wallets parse those. The holder's own route
(`POST /api/certificates/{id}/wallet-offers`) is a normal API route with problem+json errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from proofs.bounds import Limits, parse_json
from proofs.errors import ProofLayerError
from titlecred.api import models as m
from titlecred.api.deps import Id, PrincipalDep, RegistryDep, SessionDep
from titlecred.oid4vci import metadata
from titlecred.oid4vci.di_vp import check_di_vp
from titlecred.oid4vci.errors import OAuthError, invalid_request
from titlecred.services import token_status, wallet_issuance

router = APIRouter(responses=m.PROBLEMS)
NO_STORE = {"Cache-Control": "no-store"}
MAX_FORM_BYTES = 8 * 1024
REQUEST_LIMITS = Limits(max_bytes=64 * 1024, max_depth=12, max_nodes=2_000, max_string=32 * 1024,
                        max_blank_nodes=32)


def oauth_error(e: OAuthError) -> JSONResponse:
    headers = dict(NO_STORE)
    if e.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{e.error}"'
    return JSONResponse(e.body(), status_code=e.status, headers=headers)


def oauth(fn: Callable[[], Any]) -> Response:
    try:
        out = fn()
    except OAuthError as e:
        return oauth_error(e)
    return out if isinstance(out, Response) else JSONResponse(out, headers=NO_STORE)


@router.get("/.well-known/openid-credential-issuer", tags=["wallets"],
            summary="OpenID4VCI 1.0 credential issuer metadata", response_model=dict[str, Any])
def issuer_metadata(registry: RegistryDep) -> JSONResponse:
    return JSONResponse(metadata.issuer_metadata(registry.base_url, registry.profile.name),
                        headers={"Cache-Control": "public, max-age=300"})


@router.get("/.well-known/oauth-authorization-server", tags=["wallets"],
            summary="OAuth 2.0 authorization server metadata (RFC 8414) of the issuer", response_model=dict[str, Any])
def as_metadata(registry: RegistryDep) -> JSONResponse:
    return JSONResponse(metadata.authorization_server_metadata(registry.base_url),
                        headers={"Cache-Control": "public, max-age=300"})


@router.get("/oid4vci/offers/{offer_key}", tags=["wallets"], summary="A credential offer (its credential_offer_uri)",
            response_model=dict[str, Any])
def offer(offer_key: str, session: SessionDep, registry: RegistryDep) -> Response:
    obj = wallet_issuance.offer_object(session, registry, offer_key)
    if obj is None:
        return oauth_error(OAuthError("invalid_request", "no such offer, or it was used or has expired", 404))
    return JSONResponse(obj, headers=NO_STORE)


async def _form(request: Request, max_bytes: int = MAX_FORM_BYTES) -> dict[str, str]:
    body = await request.body()
    if len(body) > max_bytes:
        raise invalid_request("the request is too large")
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise invalid_request("the token request must be application/x-www-form-urlencoded")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise invalid_request("the form cannot be read") from None
    if any(len(v) > 1 for v in parsed.values()):
        raise invalid_request("a parameter is repeated")
    return {k: v[0] for k, v in parsed.items()}


@router.post("/oid4vci/token", tags=["wallets"], summary="Token endpoint (pre-authorized code with tx_code)",
             response_model=dict[str, Any])
async def token(request: Request, session: SessionDep, registry: RegistryDep) -> Response:
    try:
        form = await _form(request)
    except OAuthError as e:
        return oauth_error(e)

    def run() -> dict[str, Any]:
        issued = wallet_issuance.redeem(session, registry, form)
        return {"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in}

    return oauth(run)


@router.post("/oid4vci/nonce", tags=["wallets"], summary="Nonce endpoint: a fresh c_nonce for key proofs",
             response_model=dict[str, Any])
def nonce(request: Request, session: SessionDep, registry: RegistryDep) -> Response:
    client = request.client.host if request.client else "unknown"

    def run() -> dict[str, Any]:
        value, ttl = wallet_issuance.new_nonce(session, registry, client)
        return {"c_nonce": value, "c_nonce_expires_in": ttl}

    return oauth(run)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@router.post("/oid4vci/credential", tags=["wallets"], summary="Credential endpoint: a credential bound to the "
             "proved key (ldp_vc or dc+sd-jwt)", response_model=dict[str, Any])
async def credential(request: Request, session: SessionDep, registry: RegistryDep) -> Response:
    token_value = _bearer(request)
    raw = await request.body()
    try:
        # Bounded (size, depth, nodes; duplicate keys refused) before anything reads it.
        body: Any = parse_json(raw, REQUEST_LIMITS) if raw else None
    except ProofLayerError:
        body = None
    return oauth(lambda: wallet_issuance.issue(session, registry, token_value, body, check_di_vp))


@router.get("/status/{list_id}/token", tags=["status"], summary="A revocation list as an IETF Token Status List "
            "(statuslist+jwt): the status of SD-JWT VCs", response_model=str)
def status_list_token(list_id: str, session: SessionDep, registry: RegistryDep) -> Response:
    text = token_status.status_token(session, registry, list_id)
    max_age = int(registry.config.status_max_age.total_seconds())
    return Response(text.encode("ascii"), media_type="application/statuslist+jwt",
                    headers={"Cache-Control": f"public, max-age={max_age}"})


class WalletOfferIn(BaseModel):
    configurations: list[str] | None = Field(default=None, max_length=4,
                                             description="credential_configuration_ids to offer (default: both)")


class WalletOfferOut(BaseModel):
    offerUri: str
    link: str = Field(description="openid-credential-offer://?credential_offer_uri=... (QR code, same-device link)")
    expiresAt: str
    txCodeSentTo: str = Field(description="where the transaction code went, masked")
    configurations: list[str]


@router.post("/api/certificates/{cert_id}/wallet-offers", tags=["wallets"], status_code=201,
             summary="Holder: offer this certificate to a wallet (OpenID4VCI pre-authorized code; the "
             "transaction code is sent to the holder)", response_model=WalletOfferOut)
def create_offer(cert_id: Id, session: SessionDep, registry: RegistryDep, actor: PrincipalDep,
                 body: WalletOfferIn | None = None) -> WalletOfferOut:
    made = wallet_issuance.create_offer(session, registry, actor, cert_id, body.configurations if body else None)
    return WalletOfferOut(offerUri=made.offer_uri, link=made.link,
                          expiresAt=made.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"), txCodeSentTo=made.sent_to,
                          configurations=made.configurations)
