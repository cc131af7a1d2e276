"""Consent-gated lookup (the Tianjin model, made private): a verifier learns a certificate's minimal
facts and status only with the certificate number, the holder's ID number and a one-time consent code
the holder made.

- Consent codes: 8 characters of Crockford's base32 (40 bits), shown once as `K7QM-2XPD` and read
  back case-insensitively with or without the dash (O → 0, I and L → 1). Stored only as an HMAC under
  the lookup secret. Valid `consent_min` .. `consent_max` (5 minutes .. 7 days), optionally bound to a
  verifier (then only a lookup naming that verifier may use it), consumed by the first successful
  lookup, revocable. Only for the holder's own active or suspended certificates.
- The lookup answers with the stored minimal credential (the ID number masked) and a status verdict
  read from the database at that moment: active, suspended, revoked, superseded (reissued) or expired.
- Every refusal is one error (`lookup_refused`, 403, one message), whatever was wrong, malformed ID
  numbers included; every path does the same work (both HMACs, the same three queries) and every
  answer, success or refusal, is padded to `lookup_floor`.
- Rate limits before any work: failed lookups per client (its address, stored as an HMAC; IPv6 by
  /64) and per certificate number and live consent code (an HMAC of the number as sent, existing or
  not, so a limit reached says nothing about existence; with the holder's newest live code, so that
  a stranger's failures never lock the holder out: a fresh code starts a fresh budget, see
  `_certificate_bucket`). A success gives its attempts back.
- Every lookup naming an existing certificate is logged for its holder (time, outcome, the verifier
  as named, or the API caller's organization); a success is also an audit entry.

What it must never do: answer, or answer differently, without all three matching; store or log a
client address, an ID number or a code in the clear; tell in an error or a log which input was wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlmodel import Session, col, select

from titlecred.db.models import Certificate, ConsentCode, LookupLog, Organization, Person
from titlecred.errors import AppError
from titlecred.services import audit, certificates, ratelimit
from titlecred.services.clock import parse_stamp, stamp
from titlecred.services.config import RegistryConfig
from titlecred.services.context import Registry
from titlecred.services.errors import Conflict, Invalid, NotFound
from titlecred.services.persons import id_lookup_hash, normalize_id
from titlecred.services.principal import Principal, require_holder
from titlecred.services.tx import atomic, locked

# Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
MAX_VERIFIER = 200
MAX_NUMBER = 64
ConsentState = Literal["active", "used", "expired", "revoked"]
LookupStatus = Literal["active", "suspended", "revoked", "superseded", "expired"]
Outcome = Literal["answered", "refused"]
# What the lookup computes for an input that cannot match, so that it still does the same work.
_NO_ID = "000000000000000000"
_NO_CODE = "0" * CODE_LENGTH


class LookupRefused(AppError):
    """The one answer to every lookup that does not match (deliberately says nothing more)."""

    def __init__(self) -> None:
        super().__init__("lookup_refused", "no answer: the certificate number, ID number and consent code do not "
                         "together match a valid consent", 403)


# ------------------------------------------------------------------ codes


def new_code() -> str:
    """A fresh code as shown to the holder: `XXXX-XXXX`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_code(value: object) -> str | None:
    """The code's 8 characters, or None if `value` cannot be a code."""
    if not isinstance(value, str) or len(value) > 32:
        return None
    text = value.strip().upper().translate(_FOLD)
    if len(text) != CODE_LENGTH or any(ch not in ALPHABET for ch in text):
        return None
    return text


def code_hmac(config: RegistryConfig, code: str) -> str:
    return hmac.new(config.lookup_secret, f"consent:{code}".encode("ascii"), hashlib.sha256).hexdigest()


def _verifier_text(value: object) -> str | None:
    """A verifier's name as given, tidied: single spaces, printable, bounded (never an error)."""
    if not isinstance(value, str):
        return None
    text = " ".join("".join(ch for ch in value if ch.isprintable()).split())[:MAX_VERIFIER]
    return text or None


def _verifier_key(value: str | None) -> bytes:
    return (value or "").casefold().encode("utf-8")


@dataclass(frozen=True)
class ConsentInfo:
    """A consent code as its holder sees it (never the code: it was shown once)."""

    id: int
    certificate_id: int
    certificate_number: str
    verifier: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    state: ConsentState


def _state(row: ConsentCode, now: datetime) -> ConsentState:
    if row.used_at is not None:
        return "used"
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_at <= now else "active"


def _info(row: ConsentCode, cert: Certificate, now: datetime) -> ConsentInfo:
    assert row.id is not None
    return ConsentInfo(id=row.id, certificate_id=row.certificate_id, certificate_number=cert.certificate_number,
                       verifier=row.verifier, created_at=row.created_at, expires_at=row.expires_at,
                       used_at=row.used_at, revoked_at=row.revoked_at, state=_state(row, now))


def describe(session: Session, registry: Registry, row: ConsentCode) -> ConsentInfo:
    """A consent code row as its holder sees it (with its certificate's number and its state now)."""
    cert = session.get(Certificate, row.certificate_id)
    assert cert is not None
    return _info(row, cert, registry.now())


def create_code(session: Session, registry: Registry, actor: Principal, cert_id: int, *,
                verifier: str | None = None, valid_minutes: int = 30) -> tuple[ConsentCode, str]:
    """A new consent code for one lookup of the holder's certificate: (the row, the code shown once)."""
    require_holder(actor)
    config = registry.config
    low, high = int(config.consent_min.total_seconds() // 60), int(config.consent_max.total_seconds() // 60)
    if isinstance(valid_minutes, bool) or not isinstance(valid_minutes, int) or not low <= valid_minutes <= high:
        raise Invalid("invalid_validity", f"validMinutes must be {low} to {high}", 422, "validMinutes")
    bound = None
    if verifier is not None:
        if not isinstance(verifier, str) or len(verifier) > MAX_VERIFIER or not verifier.isprintable():
            raise Invalid("invalid_field", f"verifier must be printable text of at most {MAX_VERIFIER} characters",
                          422, "verifier")
        bound = _verifier_text(verifier)
    now = registry.now()
    with atomic(session):
        cert = certificates.get(session, actor, cert_id)  # a holder's own, or Forbidden
        if cert.state not in ("active", "suspended"):
            raise Conflict("certificate_not_current", f"the certificate is {cert.state}; consent is given for "
                           "current certificates only")
        assert cert.id is not None
        while True:
            shown = new_code()
            digest = code_hmac(config, shown.replace("-", ""))
            if session.exec(select(ConsentCode.id).where(ConsentCode.code_hmac == digest)).first() is None:
                break
        row = ConsentCode(certificate_id=cert.id, person_id=cert.person_id, code_hmac=digest, verifier=bound,
                          created_at=now, expires_at=now + timedelta(minutes=valid_minutes))
        session.add(row)
        session.flush()
        audit.append(session, at=now, actor=actor.actor, action="consent.created",
                     subject=f"certificate:{cert.certificate_number}",
                     details={"consentId": row.id, "expiresAt": stamp(row.expires_at), "verifier": bound})
    return row, shown


def list_codes(session: Session, registry: Registry, actor: Principal, *, limit: int = 100,
               offset: int = 0) -> list[ConsentInfo]:
    """The holder's consent codes, newest first."""
    require_holder(actor)
    now = registry.now()
    rows = session.exec(select(ConsentCode, Certificate).join(Certificate,
                                                              col(Certificate.id) == ConsentCode.certificate_id)
                        .where(ConsentCode.person_id == actor.person_id)
                        .order_by(col(ConsentCode.id).desc()).offset(offset).limit(min(limit, 500))).all()
    return [_info(code, cert, now) for code, cert in rows]


def revoke_code(session: Session, registry: Registry, actor: Principal, code_id: int) -> ConsentInfo:
    """Withdraw an unused consent (a used, expired or revoked one is returned as it is)."""
    require_holder(actor)
    now = registry.now()
    with atomic(session):
        row = locked(session, select(ConsentCode).where(ConsentCode.id == code_id))
        if row is None or row.person_id != actor.person_id:
            raise NotFound("consent code")
        cert = session.get(Certificate, row.certificate_id)
        assert cert is not None
        if _state(row, now) == "active":
            row.revoked_at = now
            session.add(row)
            audit.append(session, at=now, actor=actor.actor, action="consent.revoked",
                         subject=f"certificate:{cert.certificate_number}", details={"consentId": row.id})
    return _info(row, cert, now)


# ------------------------------------------------------------------ the lookup


@dataclass(frozen=True)
class LookupAnswer:
    certificate_number: str
    status: LookupStatus
    # When the certificate entered that status (revoked, superseded, suspended), or its validUntil.
    status_since: datetime | None
    # When the status was read from the database.
    checked_at: datetime
    # The stored minimal credential, as signed (ID number masked).
    credential: dict[str, Any]


@dataclass(frozen=True)
class LookupEntry:
    """One lookup of a holder's certificate, as the holder sees it."""

    id: int
    at: datetime
    certificate_id: int
    certificate_number: str
    outcome: Outcome
    verifier: str | None


def normalize_number(value: object) -> str:
    """A certificate number as looked up: trimmed, upper case, bounded (anything else is just no match)."""
    if not isinstance(value, str):
        return ""
    return "".join(value.split()).upper()[:MAX_NUMBER]


def _verdict(cert: Certificate, credential: dict[str, Any], now: datetime) -> tuple[LookupStatus, datetime | None]:
    if cert.state == "revoked":
        return "revoked", cert.revoked_at
    if cert.state == "superseded":
        return "superseded", cert.revoked_at
    until = credential.get("validUntil")
    if isinstance(until, str):
        try:
            end = parse_stamp(until)
        except ValueError:
            end = None
        if end is not None and end <= now:
            return "expired", end
    if cert.state == "suspended":
        return "suspended", cert.suspended_at
    return "active", None


def lookup(session: Session, registry: Registry, *, certificate_number: str, id_number: str, consent_code: str,
           verifier: str | None, client: str, actor: Principal | None = None, padded: bool = True) -> LookupAnswer:
    """The minimal facts and status of a certificate, for a verifier holding the holder's consent.

    `client` is the caller's address (only its HMAC is kept, for the rate limit). `actor`: an
    authenticated organization's account; its organization is then the verifier. Raises
    `LookupRefused` (403) for any mismatch, `RateLimited` (429) over a limit. With `padded` (the
    default) the call takes at least `lookup_floor` however it ends; pass False only if the caller pads
    itself (the API does, without holding a thread).
    """
    started = time.monotonic()
    try:
        return _lookup(session, registry, certificate_number, id_number, consent_code, verifier, client, actor)
    finally:
        if padded:
            ratelimit.pad(registry.config.lookup_floor, started)


def _certificate_bucket(session: Session, number: str, now: datetime) -> str:
    """The per-certificate budget's name: the number, and the holder's newest live consent code.

    A budget per number alone let anyone who knows a number (it is printed on the paper) spend it
    and lock the holder's real lookups out for a day. Here guesses are counted against the code they
    could hit: a fresh code from the holder starts a fresh budget, and a stranger cannot make one.
    Enumeration stays bounded: at most `lookup_per_certificate` guesses per live code per window
    (40-bit codes), and a number with no live code (or none at all) shares one budget, so that the
    limit says nothing about whether the number exists.
    """
    live = session.exec(
        select(ConsentCode.id).join(Certificate, col(Certificate.id) == ConsentCode.certificate_id)
        .where(Certificate.certificate_number == number, col(ConsentCode.used_at).is_(None),
               col(ConsentCode.revoked_at).is_(None), ConsentCode.expires_at > now)
        .order_by(col(ConsentCode.id).desc()).limit(1)
    ).first()
    return number if live is None else f"{number}|consent:{live}"


def _lookup(session: Session, registry: Registry, certificate_number: str, id_number: str, consent_code: str,
            verifier: str | None, client: str, actor: Principal | None) -> LookupAnswer:
    config = registry.config
    now = registry.now()
    number = normalize_number(certificate_number)
    with atomic(session):
        counted = ratelimit.hit_all(session, now, [
            (ratelimit.key(config, "lookup-client", ratelimit.client_bucket(client)), config.lookup_per_client),
            (ratelimit.key(config, "lookup-certificate", _certificate_bucket(session, number, now)),
             config.lookup_per_certificate),
        ])

    org_id = None
    named = _verifier_text(verifier)
    try:
        id_norm: str | None = normalize_id(id_number)
    except Invalid:
        id_norm = None
    code_norm = normalize_code(consent_code)
    # Both HMACs and the same three queries on every path: the work done does not depend on what is wrong.
    id_digest = id_lookup_hash(config, id_norm or _NO_ID)
    code_digest = code_hmac(config, code_norm or _NO_CODE)
    answer: LookupAnswer | None = None
    # One transaction, ended before the answer is padded (on SQLite an open one holds the write lock).
    with atomic(session):
        if actor is not None and actor.is_staff:
            org = session.get(Organization, actor.org_id)
            if org is not None:
                org_id, named = org.id, org.name
        cert = session.exec(select(Certificate).where(Certificate.certificate_number == number)).first()
        person_id = session.exec(select(Person.id).where(Person.id_hmac == id_digest)).first()
        consent = locked(session, select(ConsentCode).where(ConsentCode.code_hmac == code_digest))
        checks = [
            id_norm is not None,
            code_norm is not None,
            cert is not None,
            person_id is not None and cert is not None and cert.person_id == person_id,
            consent is not None and cert is not None and consent.certificate_id == cert.id,
            consent is not None and hmac.compare_digest(consent.code_hmac, code_digest),
            consent is not None and consent.used_at is None and consent.revoked_at is None,
            consent is not None and consent.expires_at > now,
            consent is None or consent.verifier is None
            or hmac.compare_digest(_verifier_key(consent.verifier), _verifier_key(named)),
        ]
        ok = all(checks)
        if cert is not None:
            assert cert.id is not None
            entry = LookupLog(certificate_id=cert.id, at=now, outcome="answered" if ok else "refused",
                              verifier=named, org_id=org_id, consent_code_id=consent.id if ok and consent else None)
            session.add(entry)
        if ok:
            assert cert is not None and consent is not None
            consent.used_at = now
            session.add(consent)
            for decision in counted:
                # A lookup the holder consented to is not an attempt against anyone.
                ratelimit.release(session, decision)
            credential = json.loads(cert.minimal_json)
            state, since = _verdict(cert, credential, now)
            answer = LookupAnswer(certificate_number=cert.certificate_number, status=state, status_since=since,
                                  checked_at=now, credential=credential)
            audit.append(session, at=now, actor=actor.actor if actor else "public:lookup",
                         action="certificate.looked_up", subject=f"certificate:{cert.certificate_number}",
                         details={"consentId": consent.id, "verifier": named, "orgId": org_id, "status": state})
    if answer is None:
        raise LookupRefused()
    return answer


def lookup_log(session: Session, actor: Principal, limit: int = 100, offset: int = 0) -> list[LookupEntry]:
    """Every lookup of the holder's certificates, newest first."""
    require_holder(actor)
    rows = session.exec(select(LookupLog, Certificate)
                        .join(Certificate, col(Certificate.id) == LookupLog.certificate_id)
                        .where(Certificate.person_id == actor.person_id)
                        .order_by(col(LookupLog.id).desc()).offset(offset).limit(min(limit, 500))).all()
    out = []
    for entry, cert in rows:
        assert entry.id is not None
        out.append(LookupEntry(id=entry.id, at=entry.at, certificate_id=entry.certificate_id,
                               certificate_number=cert.certificate_number, outcome=cast(Outcome, entry.outcome),
                               verifier=entry.verifier))
    return out
