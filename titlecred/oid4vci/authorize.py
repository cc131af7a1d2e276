"""The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636; OpenID4VCI 1.0 §5): the
authorization request's parameters, checked, and the PKCE verification (pure).

Only S256 is accepted (`plain` would let whoever sees the request redeem the code). Which
credentials are asked for comes from `scope` (our configuration ids) or `authorization_details`
(`type: openid_credential`, `credential_configuration_id`). Errors found before the redirect_uri is
known to be usable are shown to the holder, never redirected (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from keys.jose import b64u
from titlecred.oid4vci.metadata import CONFIGURATIONS

_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


class AuthorizeError(Exception):
    def __init__(self, error: str, description: str, *, redirectable: bool) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirectable = redirectable


@dataclass(frozen=True)
class AuthRequest:
    client_id: str
    redirect_uri: str
    code_challenge: str
    configurations: list[str]
    state: str | None
    issuer_state: str | None

    def as_form(self) -> dict[str, str]:
        """The parameters again, for the consent form's hidden fields."""
        out = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
               "code_challenge": self.code_challenge, "code_challenge_method": "S256",
               "scope": " ".join(self.configurations)}
        if self.state is not None:
            out["state"] = self.state
        if self.issuer_state is not None:
            out["issuer_state"] = self.issuer_state
        return out


def _text(params: dict[str, str], name: str, limit: int = 500) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if len(value) > limit or not value.isprintable():
        raise AuthorizeError("invalid_request", f"{name} is too long or not printable", redirectable=False)
    return value


def _redirect_ok(uri: str) -> bool:
    parts = urlsplit(uri)
    # https, a wallet app's own scheme, or loopback http (RFC 8252); never javascript:/data:, no fragment.
    if not parts.scheme or parts.fragment or parts.scheme.lower() in ("javascript", "data", "file", "vbscript"):
        return False
    if parts.scheme == "http":
        return parts.hostname in ("127.0.0.1", "localhost", "::1")
    return (parts.scheme == "https" and bool(parts.netloc)) or parts.scheme not in ("https", "http")


def parse_request(params: dict[str, str]) -> AuthRequest:
    client_id = _text(params, "client_id", 300)
    redirect_uri = _text(params, "redirect_uri")
    if client_id is None:
        raise AuthorizeError("invalid_request", "client_id is missing", redirectable=False)
    if redirect_uri is None or not _redirect_ok(redirect_uri):
        raise AuthorizeError("invalid_request", "redirect_uri is missing or not acceptable", redirectable=False)
    if params.get("response_type") != "code":
        raise AuthorizeError("unsupported_response_type", "response_type must be code", redirectable=True)
    challenge = params.get("code_challenge") or ""
    if params.get("code_challenge_method") != "S256" or not _CHALLENGE.fullmatch(challenge):
        raise AuthorizeError("invalid_request", "PKCE is required: code_challenge with code_challenge_method S256",
                             redirectable=True)
    configs: list[str] = []
    scope = _text(params, "scope")
    if scope:
        configs += [s for s in scope.split() if s in CONFIGURATIONS]
    details = _text(params, "authorization_details", 4000)
    if details:
        try:
            parsed: Any = json.loads(details)
        except ValueError:
            raise AuthorizeError("invalid_authorization_details", "authorization_details is not JSON",
                                 redirectable=True) from None
        for d in parsed if isinstance(parsed, list) else []:
            if not isinstance(d, dict) or d.get("type") != "openid_credential" or \
                    d.get("credential_configuration_id") not in CONFIGURATIONS:
                raise AuthorizeError("invalid_authorization_details", "unknown credential configuration",
                                     redirectable=True)
            configs.append(d["credential_configuration_id"])
    configs = list(dict.fromkeys(configs))
    if not configs:
        raise AuthorizeError("invalid_scope", "ask for " + " or ".join(CONFIGURATIONS) + " in scope",
                             redirectable=True)
    return AuthRequest(client_id, redirect_uri, challenge, configs, _text(params, "state"),
                       _text(params, "issuer_state"))


def redirect(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def pkce_ok(verifier: str | None, challenge: str | None) -> bool:
    if not verifier or not challenge or not _VERIFIER.fullmatch(verifier):
        return False
    return b64u(hashlib.sha256(verifier.encode("ascii")).digest()) == challenge
