"""Errors of the issuer layer, each with a stable code (shared with the CLI's --json and the API)."""


class IssuerError(Exception):
    code = "issuer_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class InvalidRecord(IssuerError):
    """A certificate record that cannot become a credential; `code` names the rule it breaks."""

    code = "invalid_record"


class NotIJson(IssuerError):
    """A document outside I-JSON (RFC 7493): conforming verifiers could canonicalize it differently."""

    code = "not_ijson"
