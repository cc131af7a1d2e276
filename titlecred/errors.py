"""Application-level errors; like every layer's errors they carry a stable machine `code`."""


class AppError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def error_code(exc: BaseException) -> str | None:
    """The stable code of any of our typed errors (every layer's errors have `code`), else None."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else None


def error_message(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) else str(exc)
