"""The revocation lists again, as IETF Token Status Lists (the status of SD-JWT VCs).

An SD-JWT VC of a certificate points at the certificate's own revocation entry (`idx` = its index in
`revocation-N`, `uri` = `<base>/status/revocation-N/token`), so the W3C credentials and the SD-JWT VC of
one certificate are revoked by the same bit. The token list has 2 bits per entry: 1 (INVALID) where the
revocation bit is set, 2 (SUSPENDED) where the certificate whose revocation entry it is is suspended
(the suspension bit lives in another list at another index; the certificate row joins the two).

Each token is a JWT (`typ: statuslist+jwt`) signed by the bureau's active key, `sub` its own URI,
`exp` as for the W3C lists, `ttl` the cache lifetime. Built on request: 128 Ki entries make 32 KB
before compression, a few milliseconds.

`DatabaseTokenStatusSource` is the verifier's source over these (no network).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from keys.jose import sign_compact
from schemas import tokenstatus
from titlecred.db.models import Certificate
from titlecred.services import status
from titlecred.services.context import Registry
from titlecred.services.errors import NotFound
from verifier.sdjwt import FetchedToken

BITS = 2


def token_uri(registry: Registry, list_id: str) -> str:
    return registry.status_list_url(list_id) + "/token"


def status_token(session: Session, registry: Registry, list_id: str) -> str:
    lst = status.published(session, registry, list_id)
    if lst.purpose != "revocation":
        raise NotFound("status list token (only revocation lists have one)")
    values = tokenstatus.empty(lst.size_bits, BITS)
    for byte_index, byte in enumerate(lst.bits):
        if byte:
            for bit in range(8):
                if byte & (0x80 >> bit):
                    tokenstatus.set_value(values, byte_index * 8 + bit, tokenstatus.INVALID, BITS)
    suspended = session.exec(select(Certificate.revocation_index).where(
        Certificate.revocation_list_id == list_id, col(Certificate.state) == "suspended")).all()
    for index in suspended:
        tokenstatus.set_value(values, index, tokenstatus.SUSPENDED, BITS)
    now = registry.now()
    key = registry.keys.active()
    uri = token_uri(registry, list_id)
    payload = {"sub": uri, "iss": registry.profile.did, "iat": int(now.timestamp()),
               "exp": int((now + registry.config.status_valid_for).timestamp()),
               "ttl": int(registry.config.status_max_age.total_seconds()),
               "status_list": tokenstatus.encode(values, BITS)}
    return sign_compact({"alg": "EdDSA", "typ": "statuslist+jwt", "kid": key.verification_method}, payload,
                        key.sign)


class DatabaseTokenStatusSource:
    def __init__(self, session: Session, registry: Registry) -> None:
        self._session = session
        self._registry = registry

    def fetch_token(self, uri: str) -> FetchedToken:
        now = self._registry.now()
        prefix = self._registry.base_url + "/status/"
        if not uri.startswith(prefix) or not uri.endswith("/token"):
            return FetchedToken(None, now, "not a status list of this registry (only its own lists are read)")
        try:
            return FetchedToken(status_token(self._session, self._registry, uri[len(prefix):-len("/token")]), now)
        except NotFound:
            return FetchedToken(None, now, "this registry has no such status list")
