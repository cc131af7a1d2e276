"""Holder sign-in by a one-time code sent by SMS or e-mail, and the holder's contact details.

- A holder account may carry a mainland mobile number (1[3-9] and 9 digits) and an e-mail address,
  each unique: set by the admin who creates the account (the employer vouches for it), or by the holder
  (`set_contact`). A holder's new phone or e-mail takes effect only once the code sent to the new
  address is entered (`confirm_contact`; valid `otp_ttl`, `otp_max_tries` tries; requests limited per
  account and per address), and the old address is told of the change: a stolen session cannot quietly
  redirect the holder's sign-in codes. Removing one takes effect at once (the old address is told).
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
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from titlecred.db.models import Account, ContactChange, OtpChallenge
from titlecred.services import audit, ratelimit
from titlecred.services.auth import IssuedToken, _make_token
from titlecred.services.config import RegistryConfig
from titlecred.services.context import Registry
from titlecred.services.errors import Conflict, Invalid, Unauthorized
from titlecred.services.principal import Principal, require_holder
from titlecred.services.senders import Channel, mask_destination
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


FIELDS: dict[str, Channel] = {"phone": "sms", "email": "email"}


@dataclass(frozen=True)
class ContactResult:
    """The account after `set_contact`, and the new addresses waiting for their code (this request's)."""

    account: Account
    pending: list[ContactChange]


def pending_changes(session: Session, registry: Registry, actor: Principal) -> list[ContactChange]:
    """The holder's new phone or e-mail still waiting for its code (live: unused, unexpired, tries left)."""
    require_holder(actor)
    now = registry.now()
    rows = session.exec(select(ContactChange).where(ContactChange.account_id == actor.account_id)
                        .order_by(col(ContactChange.channel).desc())).all()
    return [r for r in rows if _live(registry.config, r, now)]


def _live(config: RegistryConfig, row: ContactChange, now: datetime) -> bool:
    return row.used_at is None and row.expires_at > now and row.tries < config.otp_max_tries


def field_of(row: ContactChange) -> str:
    return "phone" if row.channel == "sms" else "email"


def _contact_hmac(config: RegistryConfig, account_id: int, channel: str, destination: str, code: str) -> str:
    message = f"contact:{account_id}:{channel}:{destination}:{code}".encode()
    return hmac.new(config.lookup_secret, message, hashlib.sha256).hexdigest()


def _confirm_message(code: str, minutes: int) -> str:
    return (f"【TitleCred】验证码 {code}，用于确认将本号码/邮箱设为您的登录联系方式，"
            f"{minutes} 分钟内有效，请勿告诉他人。Your code to confirm this address for sign-in is {code}; "
            f"valid {minutes} minutes. If you did not ask for it, ignore this.")


def _notice_message(field: str, new: str | None) -> str:
    what_zh, what_en = ("手机号", "phone number") if field == "phone" else ("电子邮箱", "e-mail address")
    if new is None:
        return (f"【TitleCred】您账户的{what_zh}已被删除。如非本人操作，请立即修改密码并联系发证机关。"
                f"The {what_en} of your account was removed. If this was not you, change your password "
                "now and contact the issuing bureau.")
    masked = mask_destination(new)
    return (f"【TitleCred】有人申请将您账户的{what_zh}更换为 {masked}，输入发往新地址的验证码后生效。"
            f"如非本人操作，请立即修改密码并联系发证机关。A change of your account's {what_en} to {masked} "
            "was requested; it takes effect once the code sent there is entered. If this was not you, "
            "change your password now and contact the issuing bureau.")


def _send(registry: Registry, destination: str, channel: Channel, message: str) -> None:
    try:
        registry.sender.send(destination, channel, message)
    except Exception as exc:
        log.warning("sending a contact message failed (%s)", type(exc).__name__)


def set_contact(session: Session, registry: Registry, actor: Principal, *, phone: str | None,
                email: str | None) -> ContactResult:
    """The holder's own phone and e-mail for sign-in codes.

    None clears one, at once. A new phone or e-mail does not replace the account's yet: a code is sent to
    the new address (and a notice to the old one, where there is one), and `confirm_contact` with that
    code makes the change. So a stolen session cannot redirect the holder's sign-in codes. A value equal
    to the account's current one changes nothing (and leaves a pending change of it alone).
    """
    require_holder(actor)
    wanted: dict[str, str | None] = {"phone": normalize_phone(phone) if phone is not None else None,
                                     "email": normalize_email(email) if email is not None else None}
    config = registry.config
    account = session.get(Account, actor.account_id)
    assert account is not None and account.id is not None
    account_id = account.id
    current = {"phone": account.phone, "email": account.email}
    to_confirm = {f: v for f, v in wanted.items() if v is not None and v != current[f]}
    check_contact_free(session, to_confirm.get("phone"), to_confirm.get("email"), account_id)
    session.rollback()  # end the read before counting
    now = registry.now()
    if to_confirm:
        # Codes cost the bureau and land on someone's phone: limited per account and per address.
        # Committed at once, whatever follows.
        with atomic(session):
            limits = [(ratelimit.key(config, "contact-address", v), config.otp_per_identifier)
                      for v in to_confirm.values()]
            ratelimit.hit_all(session, now, [
                (ratelimit.key(config, "contact-account", str(account_id)), config.otp_per_account), *limits])
    codes: dict[str, str] = {}
    pending: list[ContactChange] = []
    with atomic(session):
        account = locked(session, select(Account).where(Account.id == account_id))
        assert account is not None
        current = {"phone": account.phone, "email": account.email}
        check_contact_free(session, to_confirm.get("phone"), to_confirm.get("email"), account_id)
        cleared = [f for f in FIELDS if wanted[f] is None and current[f] is not None]
        for f in cleared:
            setattr(account, f, None)
            session.execute(delete(ContactChange).where(col(ContactChange.account_id) == account_id,
                                                        col(ContactChange.channel) == FIELDS[f]))
        session.add(account)
        for f, destination in to_confirm.items():
            channel = FIELDS[f]
            code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
            insert_ignore(session, ContactChange, {"account_id": account_id, "channel": channel, "destination": "",
                                                   "code_hmac": "", "created_at": now, "expires_at": now, "tries": 0})
            row = locked(session, select(ContactChange).where(ContactChange.account_id == account_id,
                                                              ContactChange.channel == channel))
            assert row is not None
            row.destination = destination
            row.code_hmac = _contact_hmac(config, account_id, channel, destination, code)
            row.created_at, row.expires_at, row.tries, row.used_at = now, now + config.otp_ttl, 0, None
            session.add(row)
            pending.append(row)
            codes[f] = code
        if cleared:
            audit.append(session, at=now, actor=actor.actor, action="account.contact_changed",
                         subject=f"account:{account_id}", details={"changed": cleared, "cleared": True})
        if to_confirm:
            audit.append(session, at=now, actor=actor.actor, action="account.contact_change_requested",
                         subject=f"account:{account_id}", details={"fields": sorted(to_confirm)})
    minutes = int(config.otp_ttl.total_seconds() // 60)
    for f, code in codes.items():
        _send(registry, to_confirm[f], FIELDS[f], _confirm_message(code, minutes))
    for f in FIELDS:
        old = current[f]
        if old is not None and (f in to_confirm or f in cleared):
            _send(registry, old, FIELDS[f], _notice_message(f, to_confirm.get(f)))
    return ContactResult(account, pending)


def confirm_contact(session: Session, registry: Registry, actor: Principal, *, field: str, code: str) -> Account:
    """Make a pending new phone or e-mail the account's, given the code sent to it.

    Any wrong, expired or used code is `Invalid(invalid_code)`; after `otp_max_tries` wrong codes the
    pending change is dead (ask again). An address another account took meanwhile is `contact_taken`.
    """
    require_holder(actor)
    if field not in FIELDS:
        raise Invalid("invalid_field", "field must be phone or email", 422, "field")
    channel = FIELDS[field]
    config, now = registry.config, registry.now()
    given = code.strip() if isinstance(code, str) else ""
    well_formed = len(given) == CODE_DIGITS and given.isascii() and given.isdigit()
    done = False
    with atomic(session):
        account = locked(session, select(Account).where(Account.id == actor.account_id))
        assert account is not None and account.id is not None
        row = locked(session, select(ContactChange).where(ContactChange.account_id == account.id,
                                                          ContactChange.channel == channel))
        if row is not None and _live(config, row, now):
            digest = _contact_hmac(config, account.id, channel, row.destination,
                                   given if well_formed else "0" * CODE_DIGITS)
            if well_formed and hmac.compare_digest(row.code_hmac, digest):
                check_contact_free(session, row.destination if field == "phone" else None,
                                   row.destination if field == "email" else None, account.id)
                setattr(account, field, row.destination)
                row.used_at = now
                session.add(account)
                audit.append(session, at=now, actor=actor.actor, action="account.contact_changed",
                             subject=f"account:{account.id}", details={"changed": [field], "confirmed": True})
                done = True
            else:
                row.tries += 1
            session.add(row)
    if not done:
        raise Invalid("invalid_code", "the code is wrong or has expired; ask for a new one", 422, "code")
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
