"""What counts as printable text in a name or title: Python's rule, extended to CJK ideographs that
are newer than the interpreter's Unicode database.

Python 3.11 carries Unicode 14, so the CJK Unified Ideographs Extension H (Unicode 15.0) and I
(Unicode 15.1) are "unassigned" to `str.isprintable()`, yet they hold real personal-name characters
(the reason they were encoded). A browser with a newer database accepts them; refusing them here
would make the two verifiers disagree and leave those holders without a certificate.
"""

from __future__ import annotations

# (first, last) code points of CJK blocks assigned after Unicode 14.
NEWER_CJK: tuple[tuple[int, int], ...] = (
    (0x31350, 0x323AF),  # Extension H, Unicode 15.0
    (0x2EBF0, 0x2EE5D),  # Extension I, Unicode 15.1
)


def _newer_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in NEWER_CJK)


def is_printable(text: str) -> bool:
    """`text.isprintable()`, except that ideographs of the newer CJK extensions are printable too."""
    return text.isprintable() or all(ch.isprintable() or _newer_cjk(ch) for ch in text)
