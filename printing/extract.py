"""Read a certificate back: the embedded credential and the text of a PDF, the QR text of a PDF page or
of a photo of a printout (PNG or JPEG).

Everything here reads files from strangers, so everything is bounded before any expensive work:
file size (PDF ≤ 10 MB, image ≤ 20 MB), pages (a certificate has exactly one), page size and the
number of objects on the page (rendering cost), pixels (≤ 20 megapixels, checked from the header before
decoding), the attachment's size, and time: `ExtractLimits.isolate` runs the whole reading in a child
process that is killed at the time limit (PDF renderers and barcode decoders are native code that a
thread cannot interrupt). Every refusal is a typed error with a stable `code` (printing.errors).

What it must never do: trust what it reads (the caller verifies it), or decode an image before
checking its size.
"""

from __future__ import annotations

import base64
import io
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from printing.errors import (
    ExtractError,
    ExtractTimeout,
    InputTooLarge,
    NoAttachment,
    NoQrCode,
    UnsupportedInput,
)
from printing.pdfscan import ScanLimits, scan_pdf
from proofs.compact import FORMAT_PREFIX

ATTACHMENT_NAME = "credential.jsonld"
ATTACHMENT_MIMES = ("application/ld+json", "application/json", "application/vc+ld+json")


@dataclass(frozen=True)
class ExtractLimits:
    max_pdf_bytes: int = 10 * 1024 * 1024
    max_image_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 20_000_000
    max_attachment_bytes: int = 64 * 1024
    max_page_objects: int = 20_000
    max_page_mm: float = 1000.0
    render_dpi: int = 150
    timeout_seconds: float = 10.0
    # Forms drawing forms: deeper than this is refused (a certificate page has none).
    max_form_depth: int = 8
    # The child's address space (RLIMIT_AS): a native decoder that runs away fails with an allocation
    # error instead of taking the machine's memory.
    max_memory_bytes: int = 1024 * 1024 * 1024
    # Read in a child process killed at the time limit (for input from strangers).
    isolate: bool = False


DEFAULT_LIMITS = ExtractLimits()


def sniff(data: bytes) -> str | None:
    """"pdf", "png", "jpeg" or None, from the first bytes."""
    if data[:5] == b"%PDF-" or (len(data) > 5 and b"%PDF-" in data[:1024]):
        return "pdf"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    return None


@dataclass(frozen=True)
class PdfContents:
    """What a certificate PDF carries: the attached credential (bytes), the page text, the QR text."""

    attachment: bytes | None
    attachment_name: str | None
    text: str
    qr_text: str | None
    keywords: str


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def check(self, what: str) -> None:
        if time.monotonic() > self.end:
            raise ExtractTimeout(f"reading the file took longer than {self.seconds:g} s ({what})")


def _open_pdf(data: bytes, limits: ExtractLimits) -> Any:
    import pypdfium2 as pdfium

    if len(data) > limits.max_pdf_bytes:
        raise InputTooLarge(f"the PDF is {len(data)} bytes; at most {limits.max_pdf_bytes} are read")
    if sniff(data) != "pdf":
        raise UnsupportedInput("the file is not a PDF")
    scan_pdf(data, ScanLimits(max_pixels=limits.max_pixels))
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        raise UnsupportedInput(f"the PDF cannot be opened ({e})") from None
    pages = len(pdf)
    if pages != 1:
        pdf.close()
        raise UnsupportedInput(f"a certificate is one page; this PDF has {pages}")
    return pdf


def _qr_from_pil(image: Any) -> str:
    import zxingcpp

    texts: list[str] = []
    formats: Any = zxingcpp.BarcodeFormat.QRCode
    for barcode in zxingcpp.read_barcodes(image, formats=formats, try_rotate=True, try_downscale=True):
        if barcode.valid and barcode.text and barcode.text not in texts:
            texts.append(barcode.text)
    ours = [t for t in texts if FORMAT_PREFIX in t]
    if len(ours) > 1:
        raise NoQrCode("the image shows more than one certificate QR code; photograph one certificate")
    if ours:
        return ours[0]
    if texts:
        raise NoQrCode("the QR code found is not a TitleCred certificate code")
    raise NoQrCode("no QR code could be read in the image (photograph the whole code, flat and in focus)")


def read_pdf(data: bytes, limits: ExtractLimits = DEFAULT_LIMITS, *, want_qr: bool = True) -> PdfContents:
    """The attachment, text and QR text of a one-page certificate PDF (the QR read from the page
    rendered at `limits.render_dpi`, as a scanner would read the printout)."""
    if limits.isolate:
        return _isolated("pdf", data, limits, want_qr)
    deadline = _Deadline(limits.timeout_seconds)
    pdf = _open_pdf(data, limits)
    try:
        page = pdf[0]
        width, height = page.get_size()
        if max(width, height) * 25.4 / 72 > limits.max_page_mm:
            raise InputTooLarge(f"the page is larger than {limits.max_page_mm:g} mm")
        count = 0
        # Every level counts: forms drawn by forms multiply (10 draws over 9 levels is 10^9 objects).
        for obj in page.get_objects(max_depth=limits.max_form_depth + 1):
            count += 1
            if count > limits.max_page_objects:
                raise InputTooLarge(f"the page has more than {limits.max_page_objects} objects")
            if obj.level >= limits.max_form_depth:
                raise InputTooLarge(f"the page nests forms deeper than {limits.max_form_depth} levels")
        attachment, name = _attachment(pdf, limits)
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        textpage.close()
        deadline.check("text")
        keywords = pdf.get_metadata_value("Keywords") or ""
        qr_text = None
        if want_qr:
            scale = limits.render_dpi / 72
            if width * scale * height * scale > limits.max_pixels:
                raise InputTooLarge("the page would render to more pixels than allowed")
            image = page.render(scale=scale, grayscale=True).to_pil()
            deadline.check("rendering the page")
            try:
                qr_text = _qr_from_pil(image)
            except NoQrCode:
                qr_text = None
            deadline.check("reading the QR code")
        page.close()
        return PdfContents(attachment, name, text, qr_text, keywords)
    finally:
        pdf.close()


def _attachment(pdf: Any, limits: ExtractLimits) -> tuple[bytes | None, str | None]:
    found: list[tuple[bytes, str]] = []
    for i in range(pdf.count_attachments()):
        attachment = pdf.get_attachment(i)
        name = attachment.get_name()
        subtype = ""
        try:
            subtype = attachment.get_subtype() or ""
        except Exception:  # noqa: S110 - a missing /Subtype is not an error
            pass
        if name != ATTACHMENT_NAME and subtype not in ATTACHMENT_MIMES:
            continue
        data = attachment.get_data()
        raw = bytes(data)
        if len(raw) > limits.max_attachment_bytes:
            raise InputTooLarge(f"the attached credential is larger than {limits.max_attachment_bytes} bytes")
        found.append((raw, name))
    if len(found) > 1:
        raise UnsupportedInput("the PDF carries more than one credential attachment")
    return found[0] if found else (None, None)


def pdf_attachment(data: bytes, limits: ExtractLimits = DEFAULT_LIMITS) -> bytes:
    """The embedded credential (JSON bytes); `NoAttachment` if there is none."""
    contents = read_pdf(data, limits, want_qr=False)
    if contents.attachment is None:
        raise NoAttachment(f"the PDF carries no credential attachment ({ATTACHMENT_NAME})")
    return contents.attachment


def pdf_text(data: bytes, limits: ExtractLimits = DEFAULT_LIMITS) -> str:
    return read_pdf(data, limits, want_qr=False).text


def image_qr_text(data: bytes, limits: ExtractLimits = DEFAULT_LIMITS) -> str:
    """The certificate QR text in a PNG or JPEG photo of a printout (or of a screen)."""
    if limits.isolate:
        return _isolated("image", data, limits, True).qr_text or ""
    from PIL import Image

    if len(data) > limits.max_image_bytes:
        raise InputTooLarge(f"the image is {len(data)} bytes; at most {limits.max_image_bytes} are read")
    kind = sniff(data)
    if kind not in ("png", "jpeg"):
        raise UnsupportedInput("the image must be a PNG or a JPEG")
    deadline = _Deadline(limits.timeout_seconds)
    try:
        opened = Image.open(io.BytesIO(data))
        width, height = opened.size  # from the header: nothing is decoded yet
        if width * height > limits.max_pixels:
            raise InputTooLarge(f"the image has {width * height} pixels; at most {limits.max_pixels} are read")
        if opened.format not in ("PNG", "JPEG"):
            raise UnsupportedInput("the image must be a PNG or a JPEG")
        image = opened.convert("L")
    except Image.DecompressionBombError:
        raise InputTooLarge(f"the image has more pixels than the {limits.max_pixels} that are read") from None
    except (OSError, ValueError) as e:
        raise UnsupportedInput(f"the image cannot be decoded ({type(e).__name__})") from None
    deadline.check("decoding the image")
    try:
        return _qr_from_pil(image)
    except NoQrCode:
        # Large photos: the code's modules may be many pixels wide and noisy; a smaller copy often reads.
        long_side = max(image.size)
        for target in (2400, 1600, 1000):
            if long_side > target * 1.2:
                deadline.check("reading the QR code")
                smaller = image.copy()
                smaller.thumbnail((target, target))
                try:
                    return _qr_from_pil(smaller)
                except NoQrCode:
                    continue
        raise


# --- isolation: a child process with a hard time limit -----------------------------------------------


def _isolated(kind: str, data: bytes, limits: ExtractLimits, want_qr: bool) -> PdfContents:
    child_limits = json.dumps({**asdict(limits), "isolate": False, "want_qr": want_qr})
    # The child imports this very code, wherever it was imported from (installed or a source tree).
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    memory = limits.max_memory_bytes

    def limit_memory() -> None:  # runs in the child, before it starts Python
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    proc = subprocess.Popen([sys.executable, "-m", "printing.extract", kind, child_limits], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, preexec_fn=limit_memory)
    try:
        stdout, _ = proc.communicate(data, timeout=limits.timeout_seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ExtractTimeout(f"reading the file took longer than {limits.timeout_seconds:g} s") from None
    finally:
        _record_child(proc)
    try:
        answer = json.loads(stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ExtractError("the reader process failed (it may have run out of memory)") from None
    if isinstance(answer, dict) and isinstance(answer.get("peak_rss_kib"), int):
        LAST_CHILD["peak_rss_kib"] = float(answer["peak_rss_kib"])
    if "error" in answer:
        raise _ERRORS.get(answer["error"]["code"], ExtractError)(answer["error"]["message"])
    attachment = answer.get("attachment")
    return PdfContents(
        base64.b64decode(attachment) if attachment is not None else None, answer.get("attachment_name"),
        answer.get("text", ""), answer.get("qr_text"), answer.get("keywords", ""),
    )


# The last reader child's exit code and peak resident memory in KiB (as it reported it on its way out),
# for the tests and the figures in docs/hostile-input.md.
LAST_CHILD: dict[str, float] = {}


def _record_child(proc: subprocess.Popen[bytes]) -> None:
    LAST_CHILD.clear()
    LAST_CHILD["returncode"] = float(proc.returncode if proc.returncode is not None else -1)


_ERRORS: dict[str, type[ExtractError]] = {cls.code: cls for cls in (
    ExtractError, ExtractTimeout, InputTooLarge, NoAttachment, NoQrCode, UnsupportedInput)}


def _child(kind: str, raw_limits: str) -> int:
    options = json.loads(raw_limits)
    want_qr = bool(options.pop("want_qr", True))
    limits = ExtractLimits(**options)
    data = sys.stdin.buffer.read(max(limits.max_pdf_bytes, limits.max_image_bytes) + 1)
    try:
        if kind == "pdf":
            contents = read_pdf(data, limits, want_qr=want_qr)
            out: dict[str, Any] = {
                "attachment": base64.b64encode(contents.attachment).decode("ascii")
                if contents.attachment is not None else None,
                "attachment_name": contents.attachment_name, "text": contents.text,
                "qr_text": contents.qr_text, "keywords": contents.keywords,
            }
        else:
            out = {"qr_text": image_qr_text(data, limits)}
    except ExtractError as e:
        out = {"error": {"code": e.code, "message": e.message}}
    except MemoryError:
        out = {"error": {"code": "input_too_large", "message": "reading the file needs more memory than allowed"}}
    out["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stdout.write(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], sys.argv[2]))
