"""`render_pdf(full_credential, compact_qr_text) -> bytes`: the one-page A4 certificate.

The page prints `printing.layout.page_items` (and nothing else as text), draws the frame in the level's
colour, the issuer's seal and the QR code of the compact signed form, and embeds the full signed
credential as an attachment (`credential.jsonld`, application/ld+json), so that a wallet or
`titlecred verify CERT.pdf` can take it out and check the page against it.

Speed: fonts are parsed once per process (`printing.fonts.font_set`), glyphs and the drawing of the
frame and of each issuer's seal are computed once and reused; a page is then assembled in a few
milliseconds (the QR encoder is most of it).

What it must never do: print the full ID number, print a character as an empty box (a missing glyph is
`GlyphMissing`; a name is printed in pinyin only when the credential says so), or clip text.
"""

from __future__ import annotations

import json
import math
import threading
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from printing import qr
from printing.errors import GlyphMissing, NotACertificate
from printing.fonts import FontSet, clusters, font_set
from printing.layout import (
    CELL_PAD_X,
    CONTENT_X0,
    CONTENT_X1,
    ELICENSE_TOP,
    ELICENSE_X,
    FRAME_INNER,
    FRAME_OUTER,
    LABEL_W,
    PAGE_H,
    PAGE_W,
    PT_TO_MM,
    QR_SIZE,
    QR_X,
    QR_Y,
    SEAL_CX,
    SEAL_CY,
    SEAL_R,
    TITLE,
    Fitted,
    LevelStyle,
    PageItem,
    fact_rows,
    fit,
    level_style,
    normalize_text,
    page_items,
    plan_table,
)
from printing.pdfdoc import MM, Attachment, Canvas, PageFont, num, write_document
from printing.seal import draw_seal
from proofs.dataintegrity import parse_datetime

ATTACHMENT_NAME = "credential.jsonld"
ATTACHMENT_MIME = "application/ld+json"
LAYOUT_VERSION = "1"

BLACK = (0.0, 0.0, 0.0)
INK = (0.12, 0.12, 0.14)
LABEL_INK = (0.22, 0.22, 0.26)
RED_INK = (0.78, 0.06, 0.08)
WHITE = (1.0, 1.0, 1.0)
# Where a CJK line's visual centre sits above its baseline, as a share of the size (em box −0.12..0.88).
_CENTRE_ABOVE_BASELINE = 0.38
LEADING = 1.35


def _mix(rgb: tuple[float, float, float], share: float) -> tuple[float, float, float]:
    """`share` of the colour over white."""
    return (1 - share * (1 - rgb[0]), 1 - share * (1 - rgb[1]), 1 - share * (1 - rgb[2]))


# --- the static background, drawn once per level style ------------------------------------------------


def _background(style: LevelStyle) -> list[str]:
    c = Canvas()
    c.save()
    # A faint guilloche rosette behind the facts: hard to redraw by hand, no trouble to read through.
    c.stroke_color(_mix(style.frame, 0.16))
    c.line_width(0.12)
    cx, cy = PAGE_W / 2, 148.0
    for i in range(48):  # circles through the centre: no hole in the middle
        a = 2 * math.pi * i / 48
        c.circle(cx + 33 * math.cos(a), cy + 33 * math.sin(a), 33)
    # The frame: a heavy outer line, a fine inner line in the accent colour, a chain between them.
    c.stroke_color(style.frame)
    c.line_width(1.6)
    c.rect(FRAME_OUTER, FRAME_OUTER, PAGE_W - 2 * FRAME_OUTER, PAGE_H - 2 * FRAME_OUTER)
    c.stroke_color(style.accent)
    c.line_width(0.35)
    c.rect(FRAME_INNER, FRAME_INNER, PAGE_W - 2 * FRAME_INNER, PAGE_H - 2 * FRAME_INNER)
    c.fill_color(style.accent)
    mid = (FRAME_OUTER + 0.8 + FRAME_INNER - 0.18) / 2
    d = 0.7

    def diamond(x: float, y: float) -> None:
        c.polygon([(x, y - d), (x + d, y), (x, y + d), (x - d, y)], "f")

    steps_x = int((PAGE_W - 2 * mid) // 5)
    for i in range(steps_x + 1):
        x = mid + i * (PAGE_W - 2 * mid) / steps_x
        diamond(x, mid)
        diamond(x, PAGE_H - mid)
    steps_y = int((PAGE_H - 2 * mid) // 5)
    for i in range(1, steps_y):
        y = mid + i * (PAGE_H - 2 * mid) / steps_y
        diamond(mid, y)
        diamond(PAGE_W - mid, y)
    # Corner brackets inside the inner line.
    c.stroke_color(style.frame)
    c.line_width(0.6)
    k, inset = 9.0, FRAME_INNER + 2.2
    for x, y, sx, sy in ((inset, inset, 1, 1), (PAGE_W - inset, inset, -1, 1), (inset, PAGE_H - inset, 1, -1),
                         (PAGE_W - inset, PAGE_H - inset, -1, -1)):
        c.raw(f"{c.x(x)} {c.y(y + sy * k)} m {c.x(x)} {c.y(y)} l {c.x(x + sx * k)} {c.y(y)} l S")
        c.fill_color(style.frame)
        c.polygon([(x + sx * 2.2, y + sy * 1.2), (x + sx * 3.2, y + sy * 2.2), (x + sx * 2.2, y + sy * 3.2),
                   (x + sx * 1.2, y + sy * 2.2)], "f")
    # The rule under the title.
    c.stroke_color(style.accent)
    c.line_width(0.3)
    c.line(62, 55.5, 100, 55.5)
    c.line(110, 55.5, 148, 55.5)
    c.fill_color(style.accent)
    c.polygon([(105, 53.7), (107.3, 55.5), (105, 57.3), (102.7, 55.5)], "f")
    c.restore()
    return c.ops


_cache_lock = threading.Lock()


@lru_cache(maxsize=8)
def background_ops(style: LevelStyle) -> tuple[str, ...]:
    """The frame and rosette of a level style (drawn first), as content-stream operators."""
    return tuple(_background(style))


@lru_cache(maxsize=8)
def _background_stream(style: LevelStyle) -> bytes:
    """The frame and rosette of a level style, as a compressed content stream (drawn first)."""
    return zlib.compress("\n".join(background_ops(style)).encode("latin-1"), 6)


@lru_cache(maxsize=256)
def seal_ops(issuer: str) -> tuple[str, ...]:
    """An issuer's seal (drawn last, over the issuer's name), as content-stream operators."""
    canvas = Canvas()
    canvas.save()
    canvas.gstate("Seal")
    draw_seal(canvas, issuer, SEAL_CX, SEAL_CY, SEAL_R)
    canvas.restore()
    return tuple(canvas.ops)


@lru_cache(maxsize=256)
def _seal_stream(issuer: str) -> bytes:
    """An issuer's seal, as a compressed content stream."""
    return zlib.compress("\n".join(seal_ops(issuer)).encode("latin-1"), 6)


# --- the page -----------------------------------------------------------------------------------------


class _Page:
    def __init__(self, fonts: FontSet) -> None:
        self.fonts = fonts
        self.canvas = Canvas()
        self.font = PageFont(fonts)
        self.drawn: list[str] = []

    def measure(self, unit: str, bold: bool) -> int | None:
        return self.fonts.width(unit, bold)

    def width(self, units: list[str], size: float, bold: bool, spacing_pt: float = 0.0) -> float:
        total = sum(self.fonts.width(u, bold) or 1000 for u in units)
        return total * size / 1000 * PT_TO_MM + spacing_pt * PT_TO_MM * len(units)

    def text(self, units: list[str], x: float, baseline: float, size: float, *, bold: bool = False,
             color: tuple[float, float, float] = INK, spacing_pt: float = 0.0) -> None:
        if not units:
            return
        self.canvas.raw(f"{color[0]:.3f} {color[1]:.3f} {color[2]:.3f} rg")
        self.canvas.text(self.font, units, x, baseline, size, bold=bold, spacing_pt=spacing_pt)
        self.drawn.append("".join(units))

    def centred(self, text: str, cx: float, baseline: float, size: float, **kw: Any) -> None:
        units = clusters(text)
        spacing = kw.get("spacing_pt", 0.0)
        w = self.width(units, size, kw.get("bold", False), spacing) - spacing * PT_TO_MM
        self.text(units, cx - w / 2, baseline, size, **kw)

    def block(self, fitted: Fitted, x0: float, x1: float, top: float, height: float, *, bold: bool,
              color: tuple[float, float, float], align: str = "left") -> None:
        """Lines of `fitted` centred vertically in the box (top, height) between x0 and x1."""
        size = fitted.size_pt
        line_h = size * LEADING * PT_TO_MM
        first_centre = top + (height - line_h * len(fitted.lines)) / 2 + line_h / 2
        for i, line in enumerate(fitted.lines):
            baseline = first_centre + i * line_h + _CENTRE_ABOVE_BASELINE * size * PT_TO_MM
            if align == "center":
                x = (x0 + x1) / 2 - self.width(line, size, bold) / 2
            else:
                x = x0
            self.text(line, x, baseline, size, bold=bold, color=color)


def _check_printable(fonts: FontSet, credential: dict[str, Any]) -> None:
    """Every printed character has a glyph somewhere, or `GlyphMissing` (never an empty box)."""
    for row in fact_rows(credential):
        missing = fonts.uncovered(row.value, bold=row.bold)
        if missing:
            hint = (" (the issuer should record namePrintedAsPinyin: true so that the page prints the pinyin)"
                    if row.key == "name" else "")
            raise GlyphMissing(f"no installed font can print {len(missing)} character(s) of {row.key} "
                               f"({', '.join(f'U+{ord(m[0]):04X}' for m in missing)}){hint}")
    name = credential["issuer"]["name"]
    if fonts.uncovered(name) or fonts.uncovered(name, bold=True):
        raise GlyphMissing("no installed font can print every character of the issuer's name")


def _validate(full: Any) -> dict[str, Any]:
    if not isinstance(full, dict):
        raise NotACertificate("the credential must be a JSON object")
    types = full.get("type")
    subject = full.get("credentialSubject")
    if not isinstance(types, list) or "ProfessionalTitleCredential" not in types or \
            "MinimalTitleCredential" in types:
        raise NotACertificate("render_pdf prints the full professional title credential (not the minimal form)")
    if not isinstance(subject, dict) or "idNumber" not in subject:
        raise NotACertificate("the full credential has no credentialSubject with idNumber")
    if "proof" not in full:
        raise NotACertificate("the credential is not signed (no proof): only a signed credential is printed")
    issuer = full.get("issuer")
    if not isinstance(issuer, dict) or not isinstance(issuer.get("name"), str):
        raise NotACertificate("the credential's issuer has no name to print and seal")
    if parse_datetime(full.get("validFrom")) is None:
        raise NotACertificate("the credential has no validFrom date-time (the issue date)")
    for key in ("name", "namePinyin", "gender", "reportingUnit", "qualification", "series", "specialty",
                "level", "reviewBody", "reviewChannel", "dateQualified", "certificateNumber"):
        if not isinstance(subject.get(key), str) or not subject[key]:
            raise NotACertificate(f"credentialSubject.{key} is missing")
    return full


def _validate_minimal(minimal: Any, full: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(minimal, dict) or "MinimalTitleCredential" not in (minimal.get("type") or []):
        raise NotACertificate("only the certificate's minimal credential may replace the attachment")
    if minimal.get("fullCredential") != full.get("id") or "proof" not in minimal:
        raise NotACertificate("the attachment must be this certificate's signed minimal credential")
    return minimal


def _pdf_date(valid_from: str) -> str:
    parsed = parse_datetime(valid_from)
    assert parsed is not None
    return "D:" + parsed.strftime("%Y%m%d%H%M%S") + "Z"


@dataclass
class ComposedPage:
    """One certificate page laid out once, for every output format (PDF here, OFD in `printing.ofd`):
    the page's own drawing (text through `font`), the cached background and seal, all as the content
    operators of `printing.pdfdoc.Canvas` (millimetres from the top left, turned into points)."""

    full: dict[str, Any]
    attached: dict[str, Any]
    canvas: Canvas
    font: PageFont
    style: LevelStyle
    issuer: str
    items: list[PageItem]

    @property
    def background(self) -> tuple[str, ...]:
        return background_ops(self.style)

    @property
    def seal(self) -> tuple[str, ...]:
        return seal_ops(self.issuer)


def render_pdf(full_credential: dict[str, Any], compact_qr_text: str, *,
               attach: dict[str, Any] | None = None) -> bytes:
    """The certificate of `full_credential` (signed, full form) as a one-page A4 PDF, with
    `compact_qr_text` (from issuer.compact) as its QR code and the credential attached.

    `attach` replaces the attached credential, for a reader who may not hold the full one (an
    employer gets the minimal form: the page prints the ID number masked either way)."""
    page = compose_page(full_credential, compact_qr_text, attach=attach)
    full, attached, subject = page.full, page.attached, page.full["credentialSubject"]
    with _cache_lock:
        background = _background_stream(page.style)
        seal = _seal_stream(page.issuer)
    data = json.dumps(attached, ensure_ascii=False, indent=2).encode("utf-8")
    number_text = str(subject["certificateNumber"])
    date = _pdf_date(str(full["validFrom"]))
    return write_document(
        page.canvas, page.font,
        title=f"{TITLE} {number_text}",
        subject=f"{subject['qualification']} · {full['issuer']['name']}",
        author=str(full["issuer"]["name"]),
        keywords=f"TitleCred certificate; layout {LAYOUT_VERSION}",
        date=date,
        attachment=Attachment(ATTACHMENT_NAME, data, ATTACHMENT_MIME,
                              f"The {'full' if attach is None else 'minimal'} signed credential (W3C Verifiable "
                              "Credential) of this certificate", date),
        ext_gstates={"Seal": "/Type /ExtGState /BM /Multiply /ca 0.92 /CA 0.92"},
        before=[background],
        after=[seal],
    )


def compose_page(full_credential: dict[str, Any], compact_qr_text: str, *,
                 attach: dict[str, Any] | None = None) -> ComposedPage:
    """Check the credential and lay out its page (see `render_pdf`)."""
    full = _validate(full_credential)
    attached = full if attach is None else _validate_minimal(attach, full)
    fonts = font_set()
    _check_printable(fonts, full)
    symbol = qr.make_symbol(compact_qr_text)
    subject = full["credentialSubject"]
    style = level_style(str(subject["level"]))
    items = page_items(full)
    text_of = {item.role: item.text for item in items}
    page = _Page(fonts)
    c = page.canvas

    # Title, subtitle, the reissue mark, the number, the statement.
    page.centred(TITLE, PAGE_W / 2, 42.0, 25.0, bold=fonts.has_bold, color=style.frame, spacing_pt=3.0)
    page.centred(text_of["subtitle"], PAGE_W / 2, 50.0, 7.5, color=_mix(style.frame, 0.75), spacing_pt=0.9)
    if "reissue" in text_of:
        c.save()
        c.stroke_color(RED_INK)
        c.line_width(0.7)
        c.rect(159.0, 19.5, 23.0, 11.5)
        c.line_width(0.25)
        c.rect(160.2, 20.7, 20.6, 9.1)
        c.restore()
        page.centred(text_of["reissue"], 170.5, 27.9, 16.0, bold=True, color=RED_INK, spacing_pt=5.0)
    number = clusters(text_of["number"])
    label = clusters(text_of["number_label"])
    number_w = page.width(number, 12.0, True)
    label_w = page.width(label, 11.0, False)
    page.text(label, CONTENT_X1 - number_w - label_w, 67.0, 11.0, color=LABEL_INK)
    page.text(number, CONTENT_X1 - number_w, 67.0, 12.0, bold=True, color=INK)
    statement = fit(text_of["statement"], CONTENT_X1 - CONTENT_X0 - 8.0, 11.5, 9.0, False, page.measure)
    page.block(statement, CONTENT_X0 + 8.0, CONTENT_X1, 72.5, 7.0, bold=False, color=INK)

    # The facts table.
    rows = plan_table(fact_rows(full), page.measure)
    top, bottom = rows[0].top, rows[-1].top + rows[-1].height
    c.save()
    c.fill_color(style.tint)
    c.rect(CONTENT_X0, top, LABEL_W, bottom - top, "f")
    c.stroke_color(_mix(style.frame, 0.55))
    c.line_width(0.2)
    for r in rows[1:]:
        c.line(CONTENT_X0, r.top, CONTENT_X1, r.top)
    c.line(CONTENT_X0 + LABEL_W, top, CONTENT_X0 + LABEL_W, bottom)
    c.stroke_color(style.frame)
    c.line_width(0.45)
    c.rect(CONTENT_X0, top, CONTENT_X1 - CONTENT_X0, bottom - top)
    c.restore()
    for r in rows:
        page.block(r.label, CONTENT_X0, CONTENT_X0 + LABEL_W, r.top, r.height, bold=False, color=LABEL_INK,
                   align="center")
        color = RED_INK if r.row.red else INK
        page.block(r.value, CONTENT_X0 + LABEL_W + CELL_PAD_X, CONTENT_X1 - CELL_PAD_X, r.top, r.height,
                   bold=r.row.bold and fonts.has_bold, color=color)

    # The QR code: white quiet zone, then the dark modules as rectangles.
    module = QR_SIZE / symbol.size
    quiet = module * qr.QUIET_ZONE_MODULES
    c.save()
    c.fill_color(WHITE)
    c.rect(QR_X - quiet, QR_Y - quiet, QR_SIZE + 2 * quiet, QR_SIZE + 2 * quiet, "f")
    c.fill_color(BLACK)
    # Module units, origin at the symbol's top-left corner, y down.
    c.raw(f"{num(module * MM)} 0 0 {num(-module * MM)} {c.x(QR_X)} {c.y(QR_Y)} cm", qr.content_ops(symbol))
    c.restore()
    page.centred(text_of["qr_caption"], QR_X + QR_SIZE / 2, QR_Y + QR_SIZE + quiet + 3.6, 10.0,
                 bold=fonts.has_bold, color=style.frame, spacing_pt=2.0)
    page.centred(text_of["qr_note"], QR_X + QR_SIZE / 2, QR_Y + QR_SIZE + quiet + 8.2, 7.5, color=LABEL_INK)

    # The issuer, the issue date, and the seal over them.
    x0 = 78.0
    issuer_label = clusters(text_of["issuer_label"])
    lw = page.width(issuer_label, 11.5, False)
    issuer = fit(text_of["issuer"], CONTENT_X1 - x0 - lw, 11.5, 9.0, False, page.measure, max_lines=2)
    issuer_top = 222.0
    line_h = issuer.size_pt * LEADING * PT_TO_MM
    page.text(issuer_label, x0, issuer_top + line_h / 2 + _CENTRE_ABOVE_BASELINE * 11.5 * PT_TO_MM, 11.5,
              color=LABEL_INK)
    page.block(issuer, x0 + lw, CONTENT_X1, issuer_top, line_h * len(issuer.lines), bold=False, color=INK)
    date_top = issuer_top + max(line_h * len(issuer.lines), 6.0) + 4.0
    date_base = date_top + 2.5 + _CENTRE_ABOVE_BASELINE * 11.5 * PT_TO_MM
    page.text(clusters(text_of["date_label"]), x0, date_base, 11.5, color=LABEL_INK)
    page.text(clusters(text_of["date"]), x0 + lw, date_base, 11.5, color=INK)

    if "elicense" in text_of:
        id_label = clusters(text_of["elicense_label"])
        id_lw = page.width(id_label, 7.5, False)
        ident = fit(text_of["elicense"], CONTENT_X1 - ELICENSE_X - id_lw, 7.5, 5.5, False, page.measure,
                    max_lines=2)
        id_line_h = ident.size_pt * LEADING * PT_TO_MM
        page.text(id_label, ELICENSE_X, ELICENSE_TOP + id_line_h / 2 + _CENTRE_ABOVE_BASELINE * 7.5 * PT_TO_MM,
                  7.5, color=LABEL_INK)
        page.block(ident, ELICENSE_X + id_lw, CONTENT_X1, ELICENSE_TOP, id_line_h * len(ident.lines), bold=False,
                   color=INK)

    footer = fit(text_of["footer"], CONTENT_X1 - CONTENT_X0, 8.0, 6.5, False, page.measure, max_lines=2)
    page.block(footer, CONTENT_X0, CONTENT_X1, 271.5, 6.0, bold=False, color=_mix(style.frame, 0.8),
               align="center")

    _check_order(page.drawn, items)
    return ComposedPage(full, attached, c, page.font, style, text_of["issuer"], items)


def _check_order(drawn: list[str], items: list[PageItem]) -> None:
    """The page must print exactly `page_items`, in order: the verifier relies on it."""
    if normalize_text("".join(drawn)) != normalize_text("".join(i.text for i in items)):
        raise RuntimeError("internal error: the page's text differs from its page items")
