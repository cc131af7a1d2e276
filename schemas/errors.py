"""Errors of the schemas layer; each carries a stable machine code reused by the CLI and the API."""


class SchemaLayerError(Exception):
    """Base class: `code` is stable and machine-readable, the message is one human line."""

    code = "schema_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownContext(SchemaLayerError):
    code = "unknown_context"


class SchemaViolation(SchemaLayerError):
    code = "schema_violation"
