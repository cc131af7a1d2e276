"""Holder sign-in by a one-time code sent by SMS or e-mail, and the holder's contact details.

- A holder account may carry a mainland mobile number (1[3-9] and 9 digits) and an e-mail address,
  each unique: set by the admin who creates the account, or by the holder (`set_contact`).
- `request_code(identifier, channel)`: the identifier is the username, the phone number or the e-mail
  address (never the ID number). A 6-digit code, valid `otp_ttl` (10 minutes), is sent through
  `registry.sender`; it is stored as an HMAC bound to the account, and a new request replaces the
  previous code. The answer is the same whether or not such an account exists or has that channel:
  requests are limited per client and per identifier (429, the same for every identifier); past the
  per-account limit, nothing is sent and nothing is said.
- `verify_code(identifier, code)`: a session token exactly like a password login's. Any failure is
  `invalid_code` (401); after `otp_max_tries` wrong codes the code is dead and a new one is needed.
  Failed checks are limited per client.
Both pad their answer to `lookup_floor`, like the consent lookup, so timing does not tell either.

What it must never do: store a code in the clear, send or log an ID number, or answer differently for
an account that does not exist.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time

from sqlmodel import Session, select

from titlecred.db.models import Account, OtpChallenge
from titlecred.services import audit, ratelimit
from titlecred.services.auth import IssuedToken, _make_token
from titlecred.services.config import RegistryConfig
from titlecred.services.context import Registry
from titlecred.services.errors import Conflict, Invalid, Unauthorized
from titlecred.services.principal import Principal, require_holder
from titlecred.services.senders import Channel
from titlecred.services.tx import atomic, insert_ignore, locked

log = logging.getLogger("titlecred.otp")

CHANNELS = ("sms", "email")
CODE_DIGITS = 6
_PHONE = re.compile(r"1[3-9][0-9]{9}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
MAX_EMAIL = 254
MAX_IDENTIFIER = 254


# ------------------------------------------------------------------ contact details


def normalize_phone(value: object, field: str = "phone") -> str:
    """A mainland mobile number as 11 digits (spaces, dashes and a +86 prefix are dropped)."""
    text = re.sub(r"[\s-]", "", value) if isinstance(value, str) else ""
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if not _PHONE.fullmatch(text):
        raise Invalid("invalid_phone", f"{field} must be a mainland mobile number (11 digits starting 13-19)",
                      422, field)
    return text


def normalize_email(value: object, field: str = "email") -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if len(text) > MAX_EMAIL or not text.isprintable() or not _EMAIL.fullmatch(text):
        raise Invalid("invalid_email", f"{field} must be an e-mail address like name@example.org", 422, field)
    return text


def check_contact_free(session: Session, phone: str | None, email: str | None, account_id: int | None) -> None:
    for column, value in ((Account.phone, phone), (Account.email, email)):
        if value is None:
            continue
        other = session.exec(select(Account.id).where(column == value)).first()
        if other is not None and other != account_id:
            raise Conflict("contact_taken", "that phone number or e-mail address is another account's")


def set_contact(session: Session, registry: Registry, actor: Principal, *, phone: str | None,
                email: str | None) -> Account:
    """The holder's own phone and e-mail for sign-in codes (None clears one)."""
    require_holder(actor)
    new_phone = normalize_phone(phone) if phone is not None else None
    new_email = normalize_email(email) if email is not None else None
    with atomic(session):
        account = locked(session, select(Account).where(Account.id == actor.account_id))
        assert account is not None
        check_contact_free(session, new_phone, new_email, account.id)
        changed = [name for name, old, new in (("phone", account.phone, new_phone), ("email", account.email, new_email))
                   if old != new]
        account.phone, account.email = new_phone, new_email
        session.add(account)
        if changed:
            audit.append(session, at=registry.now(), actor=actor.actor, action="account.contact_changed",
                         subject=f"account:{account.id}", details={"changed": changed})
    return account


# ------------------------------------------------------------------ codes


def _code_hmac(config: RegistryConfig, account_id: int, code: str) -> str:
    message = f"otp:{account_id}:{code}".encode("ascii")
    return hmac.new(config.lookup_secret, message, hashlib.sha256).hexdigest()


def normalize_identifier(value: object) -> str:
    """Username, phone or e-mail as looked up (never an error: no answer may depend on it)."""
    if not isinstance(value, str):
        return ""
    text = value.strip()[:MAX_IDENTIFIER]
    if "@" in text:
        return text.lower()
    try:
        return normalize_phone(text)
    except Invalid:
        return text.lower()


def _find_holder(session: Session, identifier: str) -> Account | None:
    if not identifier:
        return None
    if "@" in identifier:
        column = Account.email
    elif _PHONE.fullmatch(identifier):
        column = Account.phone
    else:
        column = Account.username
    account = session.exec(select(Account).where(column == identifier)).first()
    if account is None or not account.active or account.role != "holder":
        return None
    return account


def _message(code: str, minutes: int) -> str:
    return (f"【TitleCred】登录验证码 {code}，{minutes} 分钟内有效，请勿告诉他人。"
            f"Your sign-in code is {code}; valid {minutes} minutes. If you did not ask for it, ignore this.")


def request_code(session: Session, registry: Registry, *, identifier: str, channel: Channel, client: str,
                 padded: bool = True) -> None:
    """Send a sign-in code if the identifier names a holder with a contact for `channel`; else nothing.

    Raises only `RateLimited` (the same for every identifier) and `Invalid` for an unknown channel.
    """
    if channel not in CHANNELS:
        raise Invalid("invalid_channel", "channel must be sms or email", 422, "channel")
    started = time.monotonic()
    try:
        _request_code(session, registry, normalize_identifier(identifier), channel, client)
    finally:
        if padded:
            ratelimit.pad(registry.config.lookup_floor, started)


def _request_code(session: Session, registry: Registry, ident: str, channel: Channel, client: str) -> None:
    config = registry.config
    now = registry.now()
    with atomic(session):
        ratelimit.hit_all(session, now, [
            (ratelimit.key(config, "otp-client", ratelimit.client_bucket(client)), config.otp_per_client),
            (ratelimit.key(config, "otp-identifier", ident), config.otp_per_identifier),
        ])
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    # Every path ends its transaction here: callers pad the answer afterwards, and on SQLite an open
    # transaction would hold the database's write lock all that time.
    with atomic(session):
        account = _find_holder(session, ident)
        destination = None if account is None else (account.phone if channel == "sms" else account.email)
        if account is None or account.id is None or destination is None:
            return
        by_account = ratelimit.hit_limit(session, ratelimit.key(config, "otp-account", str(account.id)),
                                         config.otp_per_account, now)
        if not by_account.allowed:
            # Asked through its other identifiers too often: silently nothing, as for a stranger.
            return
        insert_ignore(session, OtpChallenge, {"account_id": account.id, "channel": channel, "code_hmac": "",
                                              "created_at": now, "expires_at": now, "tries": 0})
        challenge = locked(session, select(OtpChallenge).where(OtpChallenge.account_id == account.id))
        assert challenge is not None
        challenge.channel, challenge.code_hmac = channel, _code_hmac(config, account.id, code)
        challenge.created_at, challenge.expires_at = now, now + config.otp_ttl
        challenge.tries, challenge.used_at = 0, None
        session.add(challenge)
    try:
        registry.sender.send(destination, channel, _message(code, int(config.otp_ttl.total_seconds() // 60)))
    except Exception as exc:
        log.warning("sending a sign-in code failed (%s)", type(exc).__name__)


def verify_code(session: Session, registry: Registry, *, identifier: str, code: str, client: str,
                padded: bool = True) -> IssuedToken:
    """A session token for the right code; `Unauthorized(invalid_code)` for anything else."""
    started = time.monotonic()
    try:
        return _verify_code(session, registry, normalize_identifier(identifier), code, client)
    finally:
        if padded:
            ratelimit.pad(registry.config.lookup_floor, started)


def _verify_code(session: Session, registry: Registry, ident: str, code: str, client: str) -> IssuedToken:
    config = registry.config
    now = registry.now()
    with atomic(session):
        counted = ratelimit.hit_all(session, now, [
            (ratelimit.key(config, "otp-verify-client", ratelimit.client_bucket(client)),
             config.otp_verify_per_client),
        ])
    given = code.strip() if isinstance(code, str) else ""
    well_formed = len(given) == CODE_DIGITS and given.isascii() and given.isdigit()
    issued: IssuedToken | None = None
    with atomic(session):
        account = _find_holder(session, ident)
        account_id = account.id if account is not None and account.id is not None else 0
        digest = _code_hmac(config, account_id, given if well_formed else "0" * CODE_DIGITS)
        challenge = locked(session, select(OtpChallenge).where(OtpChallenge.account_id == account_id))
        live = (challenge is not None and challenge.used_at is None and challenge.expires_at > now
                and challenge.tries < config.otp_max_tries)
        matches = challenge is not None and hmac.compare_digest(challenge.code_hmac, digest)
        if challenge is not None and live and well_formed and matches and account is not None:
            challenge.used_at = now
            session.add(challenge)
            for decision in counted:
                ratelimit.release(session, decision)
            issued = _make_token(session, account, "session", "one-time code", now, now + config.session_ttl)
        elif challenge is not None and live:
            challenge.tries += 1
            session.add(challenge)
    if issued is None:
        raise Unauthorized("the code is wrong or has expired; ask for a new one", "invalid_code")
    return issued
