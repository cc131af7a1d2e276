"""Structured logs: one JSON object per line (time, level, logger, message, and the record's extras).

`TITLECRED_LOG_FORMAT=text` gives plain lines instead; `TITLECRED_LOG_LEVEL` (default info) the level.
What is logged is decided where it is logged, and never includes personal data: the access log
writes route templates (titlecred.api.accesslog), errors their kind and an incident id
(titlecred.api.problems). As a last guard, anything that looks like a resident ID number in a message
is masked here before it is written.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime

_ID_LIKE = re.compile(r"(?<![0-9])([1-9][0-9]{5})(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])[0-9]{2}[0-9]{3}[0-9Xx](?![0-9])")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def scrub(text: str) -> str:
    return _ID_LIKE.sub(lambda m: m.group(1) + "*" * 12, text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        out: dict[str, object] = {"time": at, "level": record.levelname.lower(), "logger": record.name,
                                  "message": scrub(record.getMessage())}
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, int | float | bool) or value is None else scrub(str(value))
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = record.exc_info[0].__name__  # the kind only: a traceback may hold data
        return json.dumps(out, ensure_ascii=False)


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def configure_logging() -> None:
    level = os.environ.get("TITLECRED_LOG_LEVEL", "info").upper()
    handler = logging.StreamHandler()
    if os.environ.get("TITLECRED_LOG_FORMAT", "json") == "text":
        handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True


def log_config() -> dict[str, object]:
    """uvicorn's own logging config, made to go through ours (root handler)."""
    return {"version": 1, "disable_existing_loggers": False,
            "loggers": {"uvicorn": {"level": os.environ.get("TITLECRED_LOG_LEVEL", "info").upper()}}}
