"""The errors of OpenID4VCI 1.0 and OAuth 2.0 (RFC 6749 §5.2), as the spec names them.

Token endpoint: invalid_request, invalid_grant, unsupported_grant_type, invalid_client.
Credential endpoint (OpenID4VCI §8.3.1.2): invalid_credential_request, unknown_credential_configuration,
unknown_credential_identifier, invalid_proof, invalid_nonce, credential_request_denied; a bad access
token is `invalid_token` with 401 and a WWW-Authenticate challenge (RFC 6750).
"""

from __future__ import annotations


class OAuthError(Exception):
    """An error answered as `{"error": code, "error_description": ...}` with an HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_proof(description: str) -> OAuthError:
    return OAuthError("invalid_proof", description)


def invalid_nonce(description: str) -> OAuthError:
    return OAuthError("invalid_nonce", description)


def invalid_token(description: str) -> OAuthError:
    return OAuthError("invalid_token", description, 401)
