"""The typed errors services raise; each has a stable `code` and an HTTP-like `status`.

The API turns them into problem+json (`type` = https://w3id.org/titlecred/problems/<code>), the CLI
into one line `error[code]: message`. Messages must never contain a full resident ID number.
"""

from __future__ import annotations

from typing import Any

from issuer.errors import IssuerError
from keys.errors import KeyMaterialError
from proofs.errors import ProofLayerError
from schemas.errors import SchemaLayerError
from schemas.identifiers import IdentifierError
from schemas.titles import TitleDataError
from titlecred.errors import AppError

# Every layer's typed errors: each has a stable `code` and a message free of personal data. (Not
# "anything with a .code": SQLAlchemy's errors have one too, and SQL parameters in their message.)
TYPED_ERRORS: tuple[type[Exception], ...] = (AppError, IssuerError, KeyMaterialError, ProofLayerError,
                                             SchemaLayerError, IdentifierError, TitleDataError)


class NotFound(AppError):
    def __init__(self, what: str, message: str | None = None) -> None:
        super().__init__("not_found", message or f"{what} not found", 404)


class Forbidden(AppError):
    def __init__(self, message: str = "your role or organization may not do this", code: str = "forbidden") -> None:
        super().__init__(code, message, 403)


class Unauthorized(AppError):
    def __init__(self, message: str = "authentication required", code: str = "unauthorized") -> None:
        super().__init__(code, message, 401)


class Conflict(AppError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, 409)


class Invalid(AppError):
    """Input that is well-formed but breaks a rule (422), or malformed (400 when `status` says so)."""

    def __init__(self, code: str, message: str, status: int = 422, field: str | None = None) -> None:
        super().__init__(code, message, status)
        self.field = field


class InvalidRows(AppError):
    """A bulk upload with bad rows: every bad row with its line number and reason (nothing stored)."""

    def __init__(self, errors: list[dict[str, Any]], total: int) -> None:
        super().__init__("invalid_rows", f"{len(errors)} of {total} rows are invalid; nothing was stored "
                         "(fix them, or pass keep_valid=true to store the valid rows)", 422)
        self.errors = errors
