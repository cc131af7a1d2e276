"""Authentication: Argon2 password hashes for people, random bearer tokens for sessions and API clients.

- Passwords are hashed with Argon2id (argon2-cffi; cost from RegistryConfig). A login with an unknown
  username still runs one hash verification, so timing does not tell which usernames exist. After
  `max_failed_logins` failures an account is locked for `lockout`.
- Tokens are `tc_` + 43 random URL-safe characters (256 bits), shown once and stored as SHA-256 (a
  slow hash adds nothing for 256-bit random secrets). A login makes a `session` token that expires; an
  API token (for API clients) lasts until revoked or its optional expiry.

What it must never do: store or log a password or a token, put one in a URL, or say whether it was
the username or the password that was wrong.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from titlecred.db.models import Account, ApiToken, Organization
from titlecred.services import audit
from titlecred.services.config import RegistryConfig
from titlecred.services.context import Registry
from titlecred.services.errors import Forbidden, Invalid, NotFound, Unauthorized
from titlecred.services.principal import Principal
from titlecred.services.tx import atomic

TOKEN_PREFIX = "tc_"  # noqa: S105 (a prefix that marks our tokens in logs and scanners, not a secret)
MIN_PASSWORD = 12
MAX_PASSWORD = 256
# Refresh `last_used_at` at most this often: a write on every request would serialize readers.
LAST_USED_GRANULARITY = timedelta(minutes=1)

_hashers: dict[tuple[int, int, int], PasswordHasher] = {}


def hasher(config: RegistryConfig) -> PasswordHasher:
    key = (config.argon2.time_cost, config.argon2.memory_cost, config.argon2.parallelism)
    if key not in _hashers:
        _hashers[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1], parallelism=key[2])
    return _hashers[key]


def check_password_policy(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid("weak_password", f"a password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long",
                      field="password")
    if len(set(password)) < 5:
        raise Invalid("weak_password", "a password needs at least 5 different characters", field="password")


def hash_password(config: RegistryConfig, password: str) -> str:
    return hasher(config).hash(password)


def generate_password() -> str:
    # 16 characters from a 57-letter alphabet without look-alikes: about 93 bits.
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once
    row: ApiToken


def _make_token(session: Session, account: Account, kind: str, name: str, now: datetime,
                expires_at: datetime | None) -> IssuedToken:
    token = new_token()
    assert account.id is not None
    row = ApiToken(account_id=account.id, kind=kind, name=name, token_hash=token_hash(token),
                   prefix=token[:10], created_at=now, expires_at=expires_at)
    session.add(row)
    session.flush()
    return IssuedToken(token, row)


def login(session: Session, registry: Registry, username: str, password: str) -> tuple[IssuedToken, Account]:
    """A session bearer token for valid credentials; `Unauthorized(invalid_credentials)` otherwise."""
    now = registry.now()
    config = registry.config
    ph = hasher(config)
    failed = Unauthorized("the username or password is wrong", "invalid_credentials")
    with atomic(session):
        account = session.exec(select(Account).where(Account.username == username)).first()
        if account is None or not account.active:
            # Same work as a real check, so that timing does not reveal which usernames exist.
            _dummy_verify(config, password)
            raise failed
        if account.locked_until is not None and account.locked_until > now:
            raise Unauthorized("too many failed logins; the account is locked for a while", "account_locked")
        try:
            ph.verify(account.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            account.failed_logins += 1
            if account.failed_logins >= config.max_failed_logins:
                account.locked_until = now + config.lockout
                account.failed_logins = 0
            session.add(account)
            session.commit()  # the failure count must stick although the call fails
            raise failed from None
        account.failed_logins = 0
        account.locked_until = None
        if ph.check_needs_rehash(account.password_hash):
            account.password_hash = ph.hash(password)
        session.add(account)
        issued = _make_token(session, account, "session", "login", now, now + config.session_ttl)
    return issued, account


_DUMMY: dict[tuple[int, int, int], str] = {}


def _dummy_verify(config: RegistryConfig, password: str) -> None:
    ph = hasher(config)
    key = (config.argon2.time_cost, config.argon2.memory_cost, config.argon2.parallelism)
    if key not in _DUMMY:
        _DUMMY[key] = ph.hash(secrets.token_urlsafe(16))
    try:
        ph.verify(_DUMMY[key], password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass


def authenticate(session: Session, registry: Registry, token: str) -> Principal:
    """The principal of a bearer token; `Unauthorized` for an unknown, expired or revoked one."""
    now = registry.now()
    bad = Unauthorized("the bearer token is invalid or expired", "invalid_token")
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise bad
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).first()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise bad
    account = session.get(Account, row.account_id)
    if account is None or not account.active:
        raise bad
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY:
        with atomic(session):
            row.last_used_at = now
            session.add(row)
    return replace(principal_for(session, account), token_id=row.id)


def principal_for(session: Session, account: Account) -> Principal:
    """The principal of an account without a token (the CLI, acting as a local operator)."""
    org = session.get(Organization, account.org_id)
    assert org is not None and org.id is not None and account.id is not None
    return Principal(account_id=account.id, username=account.username, org_id=org.id, org_kind=org.kind,
                     role=account.role, person_id=account.person_id)


def logout(session: Session, registry: Registry, actor: Principal) -> None:
    with atomic(session):
        row = session.get(ApiToken, actor.token_id) if actor.token_id else None
        if row is not None and row.revoked_at is None:
            row.revoked_at = registry.now()
            session.add(row)


def change_password(session: Session, registry: Registry, actor: Principal, current: str, new: str) -> None:
    check_password_policy(new)
    with atomic(session):
        account = session.get(Account, actor.account_id)
        assert account is not None
        try:
            hasher(registry.config).verify(account.password_hash, current)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise Invalid("invalid_credentials", "the current password is wrong", 422, "currentPassword") from None
        account.password_hash = hash_password(registry.config, new)
        session.add(account)
        # Every other session ends: whoever knew the old password is logged out.
        for t in session.exec(select(ApiToken).where(ApiToken.account_id == account.id,
                                                     ApiToken.kind == "session",
                                                     col(ApiToken.revoked_at).is_(None))).all():
            if t.id != actor.token_id:
                t.revoked_at = registry.now()
                session.add(t)
        audit.append(session, at=registry.now(), actor=actor.actor, action="account.password_changed",
                     subject=f"account:{account.id}", details={})


def create_api_token(session: Session, registry: Registry, actor: Principal, name: str,
                     account_id: int | None = None, expires_days: int | None = None) -> IssuedToken:
    """An API token for `account_id` (default: the actor's own account; an admin may name one of its org's)."""
    now = registry.now()
    with atomic(session):
        target_id = account_id or actor.account_id
        account = session.get(Account, target_id)
        if account is None:
            raise NotFound("account")
        if target_id != actor.account_id and (actor.role != "admin" or account.org_id != actor.org_id):
            raise Forbidden("only the organization's admin may make tokens for its other accounts")
        if account.role == "holder":
            raise Forbidden("API tokens are for organizations' API clients, not for holders")
        expires = now + timedelta(days=expires_days) if expires_days else None
        issued = _make_token(session, account, "api", name, now, expires)
        audit.append(session, at=now, actor=actor.actor, action="token.created", subject=f"account:{account.id}",
                     details={"tokenId": issued.row.id, "name": name})
    return issued


def list_tokens(session: Session, actor: Principal) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.kind == "api")
    if actor.role == "admin":
        ids = select(Account.id).where(Account.org_id == actor.org_id)
        stmt = stmt.where(col(ApiToken.account_id).in_(ids))
    else:
        stmt = stmt.where(ApiToken.account_id == actor.account_id)
    return list(session.exec(stmt.order_by(col(ApiToken.id))).all())


def revoke_token(session: Session, registry: Registry, actor: Principal, token_id: int) -> ApiToken:
    with atomic(session):
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound("token")
        owner = session.get(Account, row.account_id)
        assert owner is not None
        if row.account_id != actor.account_id and (actor.role != "admin" or owner.org_id != actor.org_id):
            raise Forbidden("you may revoke your own tokens, or your organization's as its admin")
        if row.revoked_at is None:
            row.revoked_at = registry.now()
            session.add(row)
            audit.append(session, at=registry.now(), actor=actor.actor, action="token.revoked",
                         subject=f"account:{owner.id}", details={"tokenId": row.id})
    return row
