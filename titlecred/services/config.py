"""Registry settings beyond `titlecred.settings`: the lookup secret, password hashing, lifetimes.

Read once at start-up (`load_registry_config`), validated there, and passed in; services never read
the environment themselves. Environment variables:

TITLECRED_LOOKUP_SECRET   secret for the HMAC of ID numbers (lookups); without it one is created once
                          in TITLECRED_HOME/secrets/lookup-secret (losing it makes holders unfindable)
TITLECRED_ARGON2          password hashing cost "time,memory_kib,parallelism" (default 3,65536,2)
TITLECRED_SESSION_HOURS   lifetime of a login's bearer token (default 8)
TITLECRED_VERIFY_ANY_ISSUER  "1" (default): POST /credentials/verify trusts any issuer whose key
                          resolves (did:key), as the W3C interop suites need; "0": only this bureau
TITLECRED_CODE_SENDER     how one-time sign-in codes are sent: "console" (default, development: the
                          code is written to stderr) or "memory" (kept in memory, for tests)
TITLECRED_TRUST_FORWARDED_FOR  "1": the client address for rate limits is the last X-Forwarded-For
                          entry (only behind a proxy that sets it); "0" (default): the peer address

This module must never log or print a secret.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from titlecred.errors import AppError
from titlecred.settings import Settings


@dataclass(frozen=True)
class Argon2Params:
    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 2


@dataclass(frozen=True)
class Limit:
    """At most `count` counted attempts per `window` (a sliding window, see services.ratelimit)."""

    count: int
    window: timedelta


CODE_SENDERS = ("console", "memory")


@dataclass(frozen=True)
class RegistryConfig:
    lookup_secret: bytes = field(repr=False)
    argon2: Argon2Params = Argon2Params()
    session_ttl: timedelta = timedelta(hours=8)
    max_failed_logins: int = 5
    lockout: timedelta = timedelta(minutes=15)
    # Status list publication: caches may keep a copy this long (Cache-Control max-age, and `ttl`) ...
    status_max_age: timedelta = timedelta(minutes=5)
    # ... and the signed list is valid this long (validUntil); it is re-signed after half of it.
    status_valid_for: timedelta = timedelta(hours=6)
    status_list_bits: int = 131_072
    # Stop giving out indexes of a list once this share is used, so random picks rarely collide.
    status_fill_limit: float = 0.5
    verify_any_issuer: bool = True
    # Paper → electronic conversion (Ningxia 原人社函〔2021〕85号 一(一)): senior titles obtained before 2020.
    conversion_levels: tuple[str, ...] = ("正高级", "副高级")
    conversion_before: str = "2020-01-01"
    max_upload_rows: int = 5000
    # Consent-gated lookup: every answer (and every sign-in code request or check) takes at least this
    # long, so that what was wrong, or whether a certificate exists, does not show in the timing.
    lookup_floor: timedelta = timedelta(milliseconds=250)
    # Failed lookups per client address and per certificate number (existing or not).
    lookup_per_client: Limit = Limit(10, timedelta(hours=1))
    lookup_per_certificate: Limit = Limit(5, timedelta(days=1))
    consent_min: timedelta = timedelta(minutes=5)
    consent_max: timedelta = timedelta(days=7)
    # One-time sign-in codes: lifetime, wrong tries before the code is dead, and how often one may ask.
    otp_ttl: timedelta = timedelta(minutes=10)
    otp_max_tries: int = 5
    otp_per_client: Limit = Limit(10, timedelta(hours=1))
    otp_per_identifier: Limit = Limit(5, timedelta(hours=1))
    otp_per_account: Limit = Limit(5, timedelta(hours=1))
    otp_verify_per_client: Limit = Limit(20, timedelta(hours=1))
    code_sender: str = "console"
    trust_forwarded_for: bool = False


def _secret_file(settings: Settings, name: str) -> bytes:
    path = settings.home / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return path.read_bytes().strip()


def _argon2_from_env(value: str | None) -> Argon2Params:
    if not value:
        return Argon2Params()
    try:
        t, m, p = (int(x) for x in value.split(","))
    except ValueError:
        raise AppError("invalid_setting", "TITLECRED_ARGON2 must be 'time,memory_kib,parallelism'") from None
    if t < 1 or p < 1 or m < 8 * p:
        raise AppError("invalid_setting", "TITLECRED_ARGON2 values are out of range")
    return Argon2Params(t, m, p)


def load_registry_config(settings: Settings) -> RegistryConfig:
    env_secret = os.environ.get("TITLECRED_LOOKUP_SECRET")
    secret = env_secret.encode("utf-8") if env_secret else _secret_file(settings, "lookup-secret")
    if len(secret) < 16:
        raise AppError("invalid_setting", "the lookup secret must be at least 16 characters")
    try:
        hours = float(os.environ.get("TITLECRED_SESSION_HOURS", "8"))
    except ValueError:
        raise AppError("invalid_setting", "TITLECRED_SESSION_HOURS must be a number") from None
    sender = os.environ.get("TITLECRED_CODE_SENDER") or "console"
    if sender not in CODE_SENDERS:
        raise AppError("invalid_setting", "TITLECRED_CODE_SENDER must be one of " + ", ".join(CODE_SENDERS))
    return RegistryConfig(
        lookup_secret=secret,
        argon2=_argon2_from_env(os.environ.get("TITLECRED_ARGON2")),
        session_ttl=timedelta(hours=hours),
        verify_any_issuer=os.environ.get("TITLECRED_VERIFY_ANY_ISSUER", "1") != "0",
        code_sender=sender,
        trust_forwarded_for=os.environ.get("TITLECRED_TRUST_FORWARDED_FOR", "0") == "1",
    )
