"""Purpose-bound shares (加注): a holder shares a certificate for a stated purpose and period.

- `create`: at most 3 active shares per holder; the purpose (1-200 printable characters) and the
  period (until a chosen time, at most 90 days ahead) are signed by the bureau into a
  `TitleShareCredential` (issuer.share) with its own revocation entry; a link `<base>/s/<token>` and a
  PDF copy (printing.share).
- `withdraw`: the holder sets the share's revocation bit; from then on it fails verification
  everywhere (the link, the PDF's attachment, any verifier reading the status list).
- `open_share`: the public link: the share verified as anyone would (signature, key, status of the
  certificate and of the share, the period), and the opening logged (time and outcome only).
- `list_for`: every share of the holder, with each time it was opened.

It must never show a share to anyone but its holder (the link shows the share itself, nothing more),
nor keep who opened a link.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from issuer.credential import new_credential_id
from issuer.share import build_share
from issuer.sign import sign_document
from proofs.dataintegrity import parse_datetime
from titlecred.db.models import Account, Certificate
from titlecred.db.models_wallet import Share, ShareOpen
from titlecred.services import audit, certificates, status, verification
from titlecred.services.clock import stamp
from titlecred.services.context import Registry
from titlecred.services.errors import Conflict, Forbidden, Invalid, NotFound
from titlecred.services.principal import Principal
from titlecred.services.tx import atomic, locked
from verifier.result import VerificationResult

MAX_ACTIVE = 3
MAX_PERIOD = timedelta(days=90)
MIN_PERIOD = timedelta(hours=1)


def token_of(registry: Registry, salt: str) -> str:
    mac = hmac.new(registry.config.lookup_secret, f"share:{salt}".encode(), "sha256").digest()
    return mac[:24].hex()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_of(registry: Registry, share: Share) -> str:
    return f"{registry.base_url}/s/{token_of(registry, share.token_salt)}"


def state_of(registry: Registry, share: Share) -> str:
    if share.withdrawn_at is not None:
        return "withdrawn"
    return "expired" if share.valid_until <= registry.now() else "active"


def _purpose(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 200 or not value.strip().isprintable():
        raise Invalid("invalid_purpose", "state the purpose in 1 to 200 printable characters", 422, "purpose")
    return value.strip()


def _until(registry: Registry, value: Any) -> datetime:
    until = parse_datetime(value) if isinstance(value, str) else None
    now = registry.now()
    if until is None:
        raise Invalid("invalid_period", "validUntil must be a date-time (e.g. 2026-12-31T00:00:00Z)", 422,
                      "validUntil")
    until = until.replace(microsecond=0)
    if until < now + MIN_PERIOD or until > now + MAX_PERIOD:
        raise Invalid("invalid_period", "a share lasts from one hour to 90 days", 422, "validUntil")
    return until


def create(session: Session, registry: Registry, actor: Principal, cert_id: int, *, purpose: Any,
           valid_until: Any) -> Share:
    if not actor.is_holder:
        raise Forbidden("only the certificate's holder shares it")
    text, until = _purpose(purpose), _until(registry, valid_until)
    now = registry.now()
    with atomic(session):
        # The holder's account row serializes their share-making, so that two at once cannot pass the
        # limit of 3 together (lock order: account, certificate, status lists, audit head).
        locked(session, select(Account).where(Account.id == actor.account_id))
        cert = certificates.locked_cert(session, cert_id)
        if not certificates.sees_full(actor, cert):
            raise Forbidden("this certificate is not yours")
        if cert.state != "active":
            raise Conflict("not_active", f"the certificate is {cert.state}; only an active one is shared")
        active = session.exec(select(func.count()).select_from(Share).where(
            Share.account_id == actor.account_id, col(Share.withdrawn_at).is_(None),
            col(Share.valid_until) > now)).one()
        if int(active) >= MAX_ACTIVE:
            raise Conflict("too_many_shares", f"at most {MAX_ACTIVE} shares are active at a time: withdraw one first")
        alloc = status.allocate(session, registry)
        share_status = next(e for e in alloc.entries if e["statusPurpose"] == "revocation")
        minimal = json.loads(cert.minimal_json)
        doc = build_share(minimal, purpose=text, valid_from=stamp(now), valid_until=stamp(until),
                          share_status=share_status, credential_id=new_credential_id())
        key = registry.keys.active()
        signed = sign_document(doc, key, created=stamp(now))
        salt = secrets.token_hex(16)
        row = Share(account_id=actor.account_id, certificate_id=cert_id, token_salt=salt,
                    token_hash=_hash(token_of(registry, salt)), purpose=text, credential_id=signed["id"],
                    credential_json=json.dumps(signed, ensure_ascii=False), status_list_id=alloc.revocation.list_id,
                    status_index=alloc.revocation.index, created_at=now, valid_until=until)
        session.add(row)
        session.flush()
        alloc.revocation.credential_id = signed["id"]
        session.add(alloc.revocation)
        entry = audit.append(session, at=now, actor=actor.actor, action="share.created",
                             subject=f"certificate:{cert.certificate_number}",
                             details={"shareId": row.id, "credentialId": signed["id"], "purpose": text,
                                      "validUntil": stamp(until), "keyId": key.verification_method})
        audit.record_credential(session, entry, signed)
    session.refresh(row)
    return row


def list_for(session: Session, actor: Principal) -> list[tuple[Share, list[ShareOpen]]]:
    rows = session.exec(select(Share).where(Share.account_id == actor.account_id)
                        .order_by(col(Share.id).desc())).all()
    out = []
    for row in rows:
        opens = session.exec(select(ShareOpen).where(ShareOpen.share_id == row.id)
                             .order_by(col(ShareOpen.at).desc()).limit(200)).all()
        out.append((row, list(opens)))
    return out


def get_own(session: Session, actor: Principal, share_id: int) -> Share:
    row = session.get(Share, share_id)
    if row is None or row.account_id != actor.account_id:
        raise NotFound("share")
    return row


def withdraw(session: Session, registry: Registry, actor: Principal, share_id: int) -> Share:
    with atomic(session):
        row = locked(session, select(Share).where(Share.id == share_id))
        if row is None or row.account_id != actor.account_id:
            raise NotFound("share")
        if row.withdrawn_at is not None:
            raise Conflict("already_withdrawn", "this share was already withdrawn")
        lists = status.lock_lists(session, [row.status_list_id])
        status.set_bit(session, registry, lists[row.status_list_id], row.status_index, True)
        row.withdrawn_at = registry.now()
        session.add(row)
        audit.append(session, at=registry.now(), actor=actor.actor, action="share.withdrawn",
                     subject=f"share:{row.id}", details={"shareId": row.id, "credentialId": row.credential_id})
    session.refresh(row)
    return row


@dataclass(frozen=True)
class Opened:
    share: Share
    credential: dict[str, Any]
    result: VerificationResult
    state: str


def open_share(session: Session, registry: Registry, token: str) -> Opened:
    """The public link: the share as signed, verified now, and this opening logged."""
    if not isinstance(token, str) or len(token) != 48:
        raise NotFound("share")
    row = session.exec(select(Share).where(Share.token_hash == _hash(token))).first()
    if row is None:
        raise NotFound("share")
    assert row.id is not None
    credential = json.loads(row.credential_json)
    result = verification.verify_vc(session, registry, credential)
    outcome = "valid" if result.verified else ("withdrawn" if row.withdrawn_at is not None else result.verdict)
    with atomic(session):
        session.add(ShareOpen(share_id=row.id, at=registry.now(), outcome=outcome[:24]))
    return Opened(row, credential, result, state_of(registry, row))


def certificate_of(session: Session, share: Share) -> Certificate:
    cert = session.get(Certificate, share.certificate_id)
    assert cert is not None
    return cert
