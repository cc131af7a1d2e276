"""The certificate's QR code: the compact signed form's link, as vector modules on the page.

zxing-cpp's encoder (libzint) makes the symbol: it splits the text into the cheapest segments (the
link in byte mode, the base43 payload in alphanumeric mode) and picks the best mask, in about 2 ms.
segno does the same in pure Python in ~50 ms for a version 20 symbol (mask evaluation), more than
the whole page's 20 ms budget, so it is not used here.

The symbol is drawn as filled rectangles (one per run of dark modules in a row), so it is sharp at any
resolution: it must decode from the page rendered at 150 dpi. Error correction M or better, version
20 at most (refused above: phones struggle with denser symbols printed at ~40 mm).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import zxingcpp

from printing.errors import QrTooLarge

MAX_VERSION = 20
QUIET_ZONE_MODULES = 4
_DARK = bytes(1 if value < 128 else 0 for value in range(256))  # zxing's image: 0 dark, 255 light


@dataclass(frozen=True)
class QrSymbol:
    text: str
    size: int  # modules per side, quiet zone not included
    rows: tuple[bytes, ...]  # one byte per module: 1 dark, 0 light
    ec_level: str

    def is_dark(self, row: int, column: int) -> bool:
        return self.rows[row][column] == 1

    @property
    def version(self) -> int:
        return (self.size - 17) // 4


def make_symbol(text: str, *, max_version: int = MAX_VERSION) -> QrSymbol:
    """Encode `text` at error correction level M (or better); `QrTooLarge` above `max_version`."""
    try:
        barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    except Exception as e:  # the encoder's own error for text beyond any QR version
        raise QrTooLarge(f"the QR text ({len(text)} characters) does not fit any QR code: {e}") from None
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    size = image.shape[0]
    pixels = bytes(memoryview(image))  # type: ignore[arg-type]  # zxing-cpp's Image has the buffer protocol
    modules = pixels.translate(_DARK)
    rows = tuple(modules[r * size:(r + 1) * size] for r in range(size))
    symbol = QrSymbol(text, size, rows, barcode.ec_level)
    if symbol.version > max_version:
        raise QrTooLarge(f"the QR text needs a version {symbol.version} QR code; at most {max_version} "
                         "prints legibly")
    if symbol.ec_level not in ("M", "Q", "H"):
        raise QrTooLarge(f"the QR code came out at error correction {symbol.ec_level}; M or better is required")
    return symbol


_RUN = re.compile(rb"\x01+")


def dark_runs(symbol: QrSymbol) -> list[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules."""
    runs: list[tuple[int, int, int]] = []
    for r, row in enumerate(symbol.rows):
        runs.extend((r, m.start(), m.end() - m.start()) for m in _RUN.finditer(row))
    return runs


def content_ops(symbol: QrSymbol) -> str:
    """The dark modules as PDF rectangles in module units, (0, 0) at the symbol's top-left corner, y down
    (the caller sets the matrix): small integers, so the operators are short and cheap to write."""
    return " ".join(f"{c} {r} {n} 1 re" for r, c, n in dark_runs(symbol)) + " f"
