"""Errors of the printing layer. Each has a stable `code` (reused by the CLI's --json and the API) and a
one-line human `message`. Messages never contain a resident ID number."""

from __future__ import annotations


class PrintingError(Exception):
    code = "printing_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FontsMissing(PrintingError):
    """A required font file is not installed; the message names the Debian package that provides it."""

    code = "fonts_missing"


class GlyphMissing(PrintingError):
    """Text that no installed font can draw (and no pinyin fallback was recorded for it)."""

    code = "glyph_missing"


class LayoutOverflow(PrintingError):
    """Text that cannot be fitted on the page even at the smallest allowed size."""

    code = "layout_overflow"


class QrTooLarge(PrintingError):
    """The QR text would need a QR version above the printable maximum."""

    code = "qr_too_large"


class NotACertificate(PrintingError):
    """The credential given to the renderer is not a full professional title credential."""

    code = "not_a_certificate"


class ExtractError(PrintingError):
    """A file could not be read back (base class of the extraction errors)."""

    code = "unreadable_input"


class InputTooLarge(ExtractError):
    """A file over the size, page or pixel bounds: refused before any expensive work."""

    code = "input_too_large"


class UnsupportedInput(ExtractError):
    """Not a PDF, PNG or JPEG (or a PDF that is not a one-page certificate)."""

    code = "unsupported_input"


class NoAttachment(ExtractError):
    """The PDF carries no embedded credential."""

    code = "no_attachment"


class NoQrCode(ExtractError):
    """No QR code could be found or decoded in the image."""

    code = "no_qr_code"


class ExtractTimeout(ExtractError):
    """Reading the file took longer than the time bound."""

    code = "extract_timeout"
