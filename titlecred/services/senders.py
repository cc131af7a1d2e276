"""How one-time sign-in codes reach a holder: a pluggable `CodeSender` (SMS or e-mail).

- `ConsoleSender` (development, the default): writes the message through the `titlecred.otp` logger
  (to stderr), with the destination partly masked. The code itself is printed there: that is its purpose.
- `MemorySender`: keeps every message in a list; tests (and the browser tests) read the codes from it.
  A real sender that delivers to memory, not a mock.
- `make_sender(name)`: the sender named by the setting TITLECRED_CODE_SENDER (console | memory). An
  SMTP or SMS gateway sender goes here too, when the bureau has one.

What a sender must never do: receive or print a resident ID number (messages hold the code and a
sentence, nothing else), or raise on a delivery detail the caller could turn into an answer that tells
whether an account exists.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Literal, Protocol

from titlecred.errors import AppError

Channel = Literal["sms", "email"]
log = logging.getLogger("titlecred.otp")


class CodeSender(Protocol):
    def send(self, destination: str, channel: Channel, message: str) -> None: ...


def mask_destination(destination: str) -> str:
    """`138****5678`, `z***@example.org`: enough to tell one's own phone or mailbox, no more."""
    if "@" in destination:
        local, _, domain = destination.partition("@")
        return (local[:1] + "***@" + domain) if local else "***@" + domain
    if len(destination) >= 7:
        return destination[:3] + "*" * (len(destination) - 7) + destination[-4:]
    return "*" * len(destination)


class ConsoleSender:
    """Development: the message on stderr (and the `titlecred.otp` logger), the destination masked."""

    def send(self, destination: str, channel: Channel, message: str) -> None:
        # A warning: it must stand out, and with no logging configured Python still prints warnings
        # to stderr, so a developer always sees the code.
        log.warning("development code sender: %s to %s: %s", channel, mask_destination(destination), message)


@dataclass(frozen=True)
class SentMessage:
    destination: str
    channel: Channel
    message: str


class MemorySender:
    """Keeps what it sends, in order; thread-safe (the API serves requests from a thread pool)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: list[SentMessage] = []

    def send(self, destination: str, channel: Channel, message: str) -> None:
        with self._lock:
            self._sent.append(SentMessage(destination, channel, message))

    @property
    def sent(self) -> list[SentMessage]:
        with self._lock:
            return list(self._sent)

    def last_to(self, destination: str) -> SentMessage | None:
        with self._lock:
            return next((m for m in reversed(self._sent) if m.destination == destination), None)

    def clear(self) -> None:
        with self._lock:
            self._sent.clear()


def make_sender(name: str) -> CodeSender:
    if name == "console":
        return ConsoleSender()
    if name == "memory":
        return MemorySender()
    raise AppError("invalid_setting", "the code sender must be console or memory")
