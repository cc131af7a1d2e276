"""Tables of the wallet protocols (OpenID4VCI issuance, OpenID4VP presentations).

- `WalletOffer`: a grant to one holder for one certificate. `flow` pre_authorized: a credential offer
  made from the holder portal: the opaque id in its `credential_offer_uri`, the pre-authorized code
  (SHA-256 only) and the transaction code (an HMAC), failed transaction-code tries (few, then dead).
  `flow` authorization_code: the code the authorization endpoint gave after the holder signed in and
  chose the certificate (SHA-256 only), with the wallet's client_id, redirect_uri and PKCE challenge.
  Both: when it expires, when it was redeemed (once).
- `WalletToken`: an access token (SHA-256 only) the token endpoint gave for one offer.
- `WalletNonce`: a `c_nonce` of the nonce endpoint (SHA-256 only): used at most once, before it expires.
- `VpRequest`: a verifier's presentation request: its DCQL query, nonce, state and client_id, and the
  verification result once the wallet answered (once).

It must never store a code, token or nonce in the clear.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from titlecred.db.models import when


class WalletOffer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    offer_key: str = Field(max_length=64, unique=True)
    code_hash: str = Field(max_length=64, unique=True)
    tx_code_hmac: str = Field(max_length=64)
    account_id: int = Field(foreign_key="account.id", index=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    configurations: str = Field(max_length=200)  # credential_configuration_ids, comma-separated
    created_at: datetime = when()
    expires_at: datetime = when()
    redeemed_at: datetime | None = when(nullable=True)
    failed_tries: int = 0
    flow: str = Field(default="pre_authorized", max_length=24)
    client_id: str | None = Field(default=None, max_length=300)
    redirect_uri: str | None = Field(default=None, max_length=500)
    code_challenge: str | None = Field(default=None, max_length=128)


class WalletToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    offer_id: int = Field(foreign_key="walletoffer.id", index=True)
    created_at: datetime = when()
    expires_at: datetime = when()


class WalletNonce(SQLModel, table=True):
    nonce_hash: str = Field(primary_key=True, max_length=64)
    created_at: datetime = when()
    expires_at: datetime = when()
    used_at: datetime | None = when(nullable=True)


class VpRequest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(max_length=64, unique=True)
    nonce: str = Field(max_length=64)
    client_id: str = Field(max_length=300)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    purpose: str | None = Field(default=None, max_length=200)
    dcql_json: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = when()
    expires_at: datetime = when()
    responded_at: datetime | None = when(nullable=True)
    result_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Share(SQLModel, table=True):
    """A purpose-bound share (加注) of a certificate: a signed copy stating the purpose and the period,
    reached by a link whose token is derived from `token_salt` (only its SHA-256 is looked up)."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    token_salt: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    purpose: str = Field(max_length=200)
    credential_id: str = Field(max_length=64, unique=True)
    credential_json: str = Field(sa_column=Column(Text, nullable=False))
    status_list_id: str = Field(max_length=32)
    status_index: int
    created_at: datetime = when()
    valid_until: datetime = when()
    withdrawn_at: datetime | None = when(nullable=True)


class ShareOpen(SQLModel, table=True):
    """Each time a share's link was opened (no address or other trace of who opened it is kept)."""

    id: int | None = Field(default=None, primary_key=True)
    share_id: int = Field(foreign_key="share.id", index=True)
    at: datetime = when()
    outcome: str = Field(max_length=24)
