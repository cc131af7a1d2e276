"""Issuing a certificate to a holder's wallet (OpenID4VCI 1.0, pre-authorized code flow).

1. `create_offer`: the holder (signed in) asks to add a certificate to a wallet. An offer is stored
   (10 minutes, single use) and a 6-digit transaction code is sent to the holder's phone or e-mail
   through the code sender, so that a photographed QR code alone gets nothing.
2. `offer_object`: the wallet fetches the offer at its `credential_offer_uri` (until it is redeemed
   or expires). The pre-authorized code is an HMAC of the offer's key, never stored itself.
3. `redeem`: the token endpoint trades the code and the transaction code for an access token, once;
   five wrong transaction codes kill the offer.
4. `new_nonce` / `use_nonce`: the nonce endpoint's `c_nonce`, each used at most once, for 5 minutes.
5. `issue`: the credential endpoint checks the access token, the request and the key proof, and
   issues the certificate bound to the proved key: `ldp_vc` (the full credential with
   `credentialSubject.id` = the holder's DID) or `dc+sd-jwt` (every fact disclosable, `cnf.jwk`). Both
   carry the certificate's own status (the same revocation entry).

Every refusal is an `OAuthError` with the spec's error code. Each step is one transaction.
It must never issue a certificate that is not active, issue to anyone but the offer's holder, or let a
code, token or nonce be used twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, delete, select

from issuer.credential import new_credential_id
from issuer.sdjwt import title_sd_jwt
from issuer.sign import issue_bound
from keys.jose import JoseError, did_for_jwk, thumbprint
from titlecred.db.models import Account, Certificate, IssuedCredential
from titlecred.db.models_wallet import WalletNonce, WalletOffer, WalletToken
from titlecred.oid4vci import authorize, metadata
from titlecred.oid4vci.authorize import AuthRequest
from titlecred.oid4vci.errors import (
    OAuthError,
    invalid_grant,
    invalid_nonce,
    invalid_proof,
    invalid_request,
    invalid_token,
)
from titlecred.oid4vci.proofs import ProvedKey, check_jwt_proof
from titlecred.services import audit, certificates, ratelimit, token_status
from titlecred.services.context import Registry
from titlecred.services.errors import Conflict, Forbidden, Invalid
from titlecred.services.principal import Principal
from titlecred.services.senders import Channel, mask_destination
from titlecred.services.tx import atomic, locked

OFFER_TTL = timedelta(minutes=10)
TOKEN_TTL = timedelta(minutes=10)
NONCE_TTL = timedelta(minutes=5)
TX_CODE_LENGTH = 6
MAX_TX_TRIES = 5
log = logging.getLogger("titlecred.wallet")
TX_DESCRIPTION = "请输入发送到您手机或邮箱的 6 位交易码 (the 6-digit code sent to your phone or e-mail)"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _mac(registry: Registry, purpose: str, text: str) -> str:
    return hmac.new(registry.config.lookup_secret, f"oid4vci:{purpose}:{text}".encode(), "sha256").hexdigest()


def pre_authorized_code(registry: Registry, offer_key: str) -> str:
    """The offer's pre-authorized code: derived from its key, so that only its hash need be stored."""
    return _mac(registry, "code", offer_key)


@dataclass(frozen=True)
class MadeOffer:
    offer_uri: str
    link: str
    expires_at: datetime
    sent_to: str
    configurations: list[str]


def _contact(account: Account) -> tuple[str, Channel]:
    if account.phone:
        return account.phone, "sms"
    if account.email:
        return account.email, "email"
    raise Conflict("no_contact", "add a phone number or e-mail address first: the transaction code is sent there")


def create_offer(session: Session, registry: Registry, actor: Principal, cert_id: int,
                 configurations: list[str] | None = None) -> MadeOffer:
    if not actor.is_holder:
        raise Forbidden("only the certificate's holder adds it to a wallet")
    cert = certificates.get(session, actor, cert_id)
    if cert.state != "active":
        raise Conflict("not_active", f"the certificate is {cert.state}; only an active one goes to a wallet")
    configs = list(configurations or metadata.CONFIGURATIONS)
    if not configs or len(set(configs)) != len(configs) or any(c not in metadata.CONFIGURATIONS for c in configs):
        raise Invalid("invalid_configuration", "configurations must be among " + ", ".join(metadata.CONFIGURATIONS),
                      422, "configurations")
    account = session.get(Account, actor.account_id)
    assert account is not None and cert.id is not None
    destination, channel = _contact(account)
    now = registry.now()
    offer_key = secrets.token_urlsafe(24)
    tx_code = f"{secrets.randbelow(10 ** TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}"
    with atomic(session):
        session.add(WalletOffer(offer_key=offer_key, code_hash=_sha256(pre_authorized_code(registry, offer_key)),
                                tx_code_hmac=_mac(registry, "tx", f"{offer_key}:{tx_code}"),
                                account_id=actor.account_id, certificate_id=cert.id, configurations=",".join(configs),
                                created_at=now, expires_at=now + OFFER_TTL))
        audit.append(session, at=now, actor=actor.actor, action="wallet.offer_created",
                     subject=f"certificate:{cert.certificate_number}",
                     details={"certificateId": cert.id, "configurations": configs})
    minutes = int(OFFER_TTL.total_seconds() // 60)
    message = f"【职称证书】添加到钱包的交易码: {tx_code}, {minutes} 分钟内有效, 请勿告诉他人。"
    try:
        registry.sender.send(destination, channel, message)
    except Exception as exc:  # the offer stands; the holder can make another
        log.warning("sending a wallet transaction code failed (%s)", type(exc).__name__)
    uri = f"{registry.base_url}/oid4vci/offers/{offer_key}"
    return MadeOffer(uri, metadata.offer_link(uri), now + OFFER_TTL, mask_destination(destination), configs)


def offer_object(session: Session, registry: Registry, offer_key: str) -> dict[str, Any] | None:
    """The credential offer behind a `credential_offer_uri`, while it can still be redeemed."""
    if not isinstance(offer_key, str) or len(offer_key) > 64:
        return None
    row = session.exec(select(WalletOffer).where(WalletOffer.offer_key == offer_key,
                                                 WalletOffer.flow == "pre_authorized")).first()
    if row is None or row.redeemed_at is not None or row.expires_at <= registry.now() or \
            row.failed_tries >= MAX_TX_TRIES:
        return None
    return metadata.credential_offer(registry.base_url, row.configurations.split(","),
                                     pre_authorized_code(registry, offer_key), TX_CODE_LENGTH, TX_DESCRIPTION)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


AUTH_CODE_TTL = timedelta(minutes=5)


def grant_authorization_code(session: Session, registry: Registry, actor: Principal, cert_id: int,
                             request: AuthRequest) -> str:
    """The holder (signed in) chose a certificate: a code for the wallet, returned as the redirect URL."""
    if not actor.is_holder:
        raise Forbidden("only the certificate's holder adds it to a wallet")
    cert = certificates.get(session, actor, cert_id)
    if cert.state != "active" or not certificates.sees_full(actor, cert):
        raise Conflict("not_active", f"the certificate is {cert.state}; only an active one goes to a wallet")
    assert cert.id is not None
    code = secrets.token_urlsafe(32)
    now = registry.now()
    with atomic(session):
        session.add(WalletOffer(offer_key=secrets.token_urlsafe(24), code_hash=_sha256(code), tx_code_hmac="",
                                account_id=actor.account_id, certificate_id=cert.id,
                                configurations=",".join(request.configurations), created_at=now,
                                expires_at=now + AUTH_CODE_TTL, flow="authorization_code",
                                client_id=request.client_id, redirect_uri=request.redirect_uri,
                                code_challenge=request.code_challenge))
        audit.append(session, at=now, actor=actor.actor, action="wallet.authorized",
                     subject=f"certificate:{cert.certificate_number}",
                     details={"certificateId": cert.id, "configurations": request.configurations,
                              "clientId": request.client_id})
    params = {"code": code, "iss": registry.base_url}
    if request.state is not None:
        params["state"] = request.state
    return authorize.redirect(request.redirect_uri, params)


def _redeem_code(session: Session, registry: Registry, form: dict[str, str]) -> IssuedToken:
    code = form.get("code")
    if not code:
        raise invalid_request("code is missing")
    now = registry.now()
    with atomic(session):
        row = locked(session, select(WalletOffer).where(WalletOffer.code_hash == _sha256(code),
                                                        WalletOffer.flow == "authorization_code"))
        if row is None or row.redeemed_at is not None or row.expires_at <= now:
            raise invalid_grant("the authorization code is unknown, used or expired")
        if form.get("redirect_uri") != row.redirect_uri:
            raise invalid_grant("redirect_uri does not match the authorization request")
        if form.get("client_id") not in (None, row.client_id):
            raise invalid_grant("client_id does not match the authorization request")
        if not authorize.pkce_ok(form.get("code_verifier"), row.code_challenge):
            raise invalid_grant("the PKCE code_verifier does not match the code_challenge")
        token = secrets.token_urlsafe(32)
        row.redeemed_at = now
        session.add(row)
        assert row.id is not None
        session.add(WalletToken(token_hash=_sha256(token), offer_id=row.id, created_at=now,
                                expires_at=now + TOKEN_TTL))
    return IssuedToken(token, int(TOKEN_TTL.total_seconds()))


def redeem(session: Session, registry: Registry, form: dict[str, str]) -> IssuedToken:
    """The token endpoint: the pre-authorized code grant, or the authorization code grant with PKCE."""
    grant = form.get("grant_type")
    if not grant:
        raise invalid_request("grant_type is missing")
    if grant == "authorization_code":
        return _redeem_code(session, registry, form)
    if grant != metadata.PRE_AUTH_GRANT:
        raise OAuthError("unsupported_grant_type", f"grant_type {grant!r} is not supported here")
    code = form.get("pre-authorized_code")
    if not code:
        raise invalid_request("pre-authorized_code is missing")
    now = registry.now()
    refusal: OAuthError | None = None
    with atomic(session):
        row = locked(session, select(WalletOffer).where(WalletOffer.code_hash == _sha256(code),
                                                        WalletOffer.flow == "pre_authorized"))
        if row is None:
            raise invalid_grant("the pre-authorized code is unknown")
        if row.redeemed_at is not None:
            raise invalid_grant("the pre-authorized code was already used: make a new offer")
        if row.expires_at <= now:
            raise invalid_grant("the offer has expired: make a new offer")
        if row.failed_tries >= MAX_TX_TRIES:
            raise invalid_grant("too many wrong transaction codes: make a new offer")
        tx_code = form.get("tx_code")
        if not tx_code:
            raise invalid_request("tx_code is missing: enter the code sent to your phone or e-mail")
        expected = row.tx_code_hmac
        if not hmac.compare_digest(expected, _mac(registry, "tx", f"{row.offer_key}:{tx_code}")):
            row.failed_tries += 1
            session.add(row)
            refusal = invalid_grant("the transaction code is wrong")
        else:
            token = secrets.token_urlsafe(32)
            row.redeemed_at = now
            session.add(row)
            assert row.id is not None
            session.add(WalletToken(token_hash=_sha256(token), offer_id=row.id, created_at=now,
                                    expires_at=now + TOKEN_TTL))
    if refusal is not None:  # the failed try is committed first, then refused
        raise refusal
    return IssuedToken(token, int(TOKEN_TTL.total_seconds()))


NONCE_RATE = (120, timedelta(minutes=1))  # per client address: the endpoint is open and writes a row


def new_nonce(session: Session, registry: Registry, client: str = "unknown") -> tuple[str, int]:
    now = registry.now()
    nonce = secrets.token_urlsafe(24)
    with atomic(session):
        decision = ratelimit.hit(session, ratelimit.key(registry.config, "oid4vci-nonce",
                                                        ratelimit.client_bucket(client)), *NONCE_RATE, now)
        if not decision.allowed:
            raise OAuthError("rate_limited", f"too many nonces; try again in {decision.retry_after_seconds} s", 429)
        session.exec(delete(WalletNonce).where(col(WalletNonce.expires_at) < now - NONCE_TTL))
        session.add(WalletNonce(nonce_hash=_sha256(nonce), created_at=now, expires_at=now + NONCE_TTL))
    return nonce, int(NONCE_TTL.total_seconds())


def use_nonce(session: Session, registry: Registry, nonce: str) -> bool:
    """Mark a nonce used; True only the first time, before it expires (one UPDATE: no race)."""
    now = registry.now()
    with atomic(session):
        result = session.execute(update(WalletNonce).where(
            col(WalletNonce.nonce_hash) == _sha256(nonce), col(WalletNonce.used_at).is_(None),
            col(WalletNonce.expires_at) > now).values(used_at=now))
    return int(getattr(result, "rowcount", 0) or 0) == 1


def _offer_for_token(session: Session, registry: Registry, access_token: str | None) -> WalletOffer:
    if not access_token:
        raise invalid_token("send the access token as 'Authorization: Bearer <token>'")
    row = session.exec(select(WalletToken).where(WalletToken.token_hash == _sha256(access_token))).first()
    if row is None or row.expires_at <= registry.now():
        raise invalid_token("the access token is unknown or has expired")
    offer = session.get(WalletOffer, row.offer_id)
    assert offer is not None
    return offer


def _request_proof(body: dict[str, Any], config_id: str) -> tuple[str, Any]:
    if "proof" in body:
        raise OAuthError("invalid_credential_request", "OpenID4VCI 1.0 takes key proofs in 'proofs' (the single "
                         "'proof' of the drafts is not accepted)")
    proofs = body.get("proofs")
    if not isinstance(proofs, dict) or len(proofs) != 1:
        raise OAuthError("invalid_credential_request", "proofs must be an object with exactly one proof type")
    ((kind, values),) = proofs.items()
    allowed = ("jwt", "di_vp") if config_id == metadata.LDP_VC else ("jwt",)
    if kind not in allowed:
        raise invalid_proof(f"proof type {kind!r} is not supported for {config_id} (supported: {', '.join(allowed)})")
    if not isinstance(values, list) or len(values) != 1:
        raise OAuthError("invalid_credential_request", "exactly one key proof (batch issuance is not offered)")
    return kind, values[0]


def issue(session: Session, registry: Registry, access_token: str | None, body: Any,
          check_di_vp: Any = None) -> dict[str, Any]:
    """The credential endpoint: {"credentials": [{"credential": ...}]}."""
    offer = _offer_for_token(session, registry, access_token)
    if not isinstance(body, dict):
        raise OAuthError("invalid_credential_request", "the credential request must be a JSON object")
    if "credential_identifier" in body:
        raise OAuthError("unknown_credential_identifier", "this issuer gives no credential identifiers; "
                         "ask by credential_configuration_id")
    config_id = body.get("credential_configuration_id")
    if not isinstance(config_id, str):
        raise OAuthError("invalid_credential_request", "credential_configuration_id is missing")
    if config_id not in offer.configurations.split(","):
        raise OAuthError("unknown_credential_configuration", f"{config_id!r} was not offered")
    kind, proof = _request_proof(body, config_id)
    now = registry.now()
    if kind == "jwt":
        proved = check_jwt_proof(proof, audience=registry.base_url, now=now)
    else:
        if check_di_vp is None:
            raise invalid_proof("di_vp proofs are not accepted")
        proved = check_di_vp(proof, audience=registry.base_url, now=now)
    if not use_nonce(session, registry, proved.nonce):
        raise invalid_nonce("the proof's nonce is unknown, expired or already used: get a new one")
    return _issue_bound(session, registry, offer, config_id, proved, kind)


def _issue_bound(session: Session, registry: Registry, offer: WalletOffer, config_id: str, proved: ProvedKey,
                 proof_kind: str) -> dict[str, Any]:
    now = registry.now()
    with atomic(session):
        cert = locked(session, select(Certificate).where(Certificate.id == offer.certificate_id))
        assert cert is not None
        if cert.state != "active":
            raise OAuthError("credential_request_denied", f"the certificate is {cert.state}")
        key = registry.keys.active()
        full = json.loads(cert.full_json)
        try:
            holder_did = did_for_jwk(proved.jwk)
        except JoseError as e:
            raise invalid_proof(e.message) from None
        if config_id == metadata.LDP_VC:
            credential: Any = issue_bound(full, key, holder_did=holder_did, now=now, credential_id=new_credential_id())
            text = json.dumps(credential, ensure_ascii=False)
            digest, cred_id = audit.credential_hash(credential), credential["id"]
        else:
            credential = title_sd_jwt(subject=full["credentialSubject"], issuer_did=registry.profile.did,
                                      kid=key.verification_method, sign=key.sign, holder_jwk=proved.jwk,
                                      issued_at=int(now.timestamp()),
                                      status_uri=token_status.token_uri(registry, cert.revocation_list_id),
                                      status_index=cert.revocation_index)
            text, cred_id = json.dumps(credential), None
            digest = _sha256(credential.split("~", 1)[0])
        row = IssuedCredential(credential_id=cred_id, account_id=offer.account_id, json_text=text, hash=digest,
                               key_id=key.verification_method, issued_at=now)
        session.add(row)
        session.flush()
        entry = audit.append(session, at=now, actor=f"account:{offer.account_id}:wallet",
                             action="wallet.credential_issued", subject=f"certificate:{cert.certificate_number}",
                             details={"certificateId": cert.id, "issuedCredentialId": row.id,
                                      "configuration": config_id, "credentialId": cred_id, "hash": digest,
                                      "keyId": key.verification_method, "proofType": proof_kind,
                                      "holderKeyThumbprint": thumbprint(proved.jwk)})
        if config_id == metadata.LDP_VC:
            audit.record_credential(session, entry, credential)
    return {"credentials": [{"credential": credential}]}
