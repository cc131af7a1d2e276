"""A minimal PDF 1.7 writer for one-page certificates: objects, a drawing canvas, one CJK font.

Only what a certificate needs, written exactly (ISO 32000-1): a page of vector drawing and text, one
Type 0 font (Identity-H, a CID-keyed CFF program holding only the page's glyphs, and a ToUnicode
CMap so that the text extracts exactly, characters above U+FFFF included), one embedded file
(associated file, PDF/A-3 style) and the document information. Coordinates given to the canvas are
millimetres from the top-left corner of the page; the writer turns them into PDF points.

It never reads a clock: output is a pure function of its input, so the same certificate gives the same
bytes.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from printing.cff import build_cid_cff
from printing.errors import GlyphMissing
from printing.fonts import FontSet, Glyph, PathOp

MM = 72 / 25.4
A4_WIDTH_MM = 210.0
A4_HEIGHT_MM = 297.0

RGB = tuple[float, float, float]


def num(value: float) -> str:
    """A PDF number: at most 3 decimals, no trailing zeros, no '-0'."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def pdf_name(value: str) -> str:
    out = []
    for char in value:
        code = ord(char)
        if 0x21 <= code <= 0x7E and char not in "#()<>[]{}/%":
            out.append(char)
        else:
            out.extend(f"#{b:02X}" for b in char.encode("utf-8"))
    return "/" + "".join(out)


def text_string(value: str) -> str:
    """A PDF text string: ASCII as a literal, anything else as UTF-16BE hex with a byte-order mark."""
    if value.isascii() and value.isprintable():
        escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return f"({escaped})"
    return "<FEFF" + value.encode("utf-16-be").hex().upper() + ">"


class Writer:
    """Numbered objects in, a PDF file out (classic cross-reference table)."""

    def __init__(self) -> None:
        self._objects: list[bytes | None] = [None]

    def reserve(self) -> int:
        self._objects.append(None)
        return len(self._objects) - 1

    def put(self, number: int, body: bytes | str) -> int:
        self._objects[number] = body.encode("latin-1") if isinstance(body, str) else body
        return number

    def add(self, body: bytes | str) -> int:
        return self.put(self.reserve(), body)

    def add_stream(self, entries: str, data: bytes, *, compress: bool = True, level: int = 6) -> int:
        if compress:
            data = zlib.compress(data, level)
            entries += " /Filter /FlateDecode"
        head = f"<< {entries} /Length {len(data)} >>\nstream\n".encode("latin-1")
        return self.add(head + data + b"\nendstream")

    def add_deflated_stream(self, entries: str, deflated: bytes) -> int:
        """A stream whose data is already zlib-compressed (cached parts of a page)."""
        head = f"<< {entries} /Filter /FlateDecode /Length {len(deflated)} >>\nstream\n".encode("latin-1")
        return self.add(head + deflated + b"\nendstream")

    def finish(self, root: int, info: int) -> bytes:
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = [0] * len(self._objects)
        for number in range(1, len(self._objects)):
            body = self._objects[number]
            if body is None:
                raise ValueError(f"PDF object {number} was reserved but never written")
            offsets[number] = len(out)
            out += f"{number} 0 obj\n".encode("latin-1") + body + b"\nendobj\n"
        file_id = hashlib.md5(bytes(out), usedforsecurity=False).hexdigest().upper()
        xref_at = len(out)
        out += f"xref\n0 {len(self._objects)}\n0000000000 65535 f \n".encode("latin-1")
        for number in range(1, len(self._objects)):
            out += f"{offsets[number]:010d} 00000 n \n".encode("latin-1")
        out += (
            f"trailer\n<< /Size {len(self._objects)} /Root {root} 0 R /Info {info} 0 R "
            f"/ID [<{file_id}> <{file_id}>] >>\nstartxref\n{xref_at}\n%%EOF\n"
        ).encode("latin-1")
        return bytes(out)


@dataclass
class PageFont:
    """The glyphs one page uses, numbered as CIDs in order of first use."""

    fonts: FontSet
    cids: dict[tuple[str, bool], int] = field(default_factory=dict)
    glyphs: list[Glyph] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def encode(self, clusters: Iterable[str], bold: bool) -> str:
        """The hex string of CIDs that shows `clusters` (Identity-H: two bytes per glyph)."""
        out = []
        for cluster in clusters:
            key = (cluster, bold)
            cid = self.cids.get(key)
            if cid is None:
                glyph = self.fonts.glyph(cluster, bold)
                if glyph is None:
                    raise GlyphMissing(
                        f"no installed font has a glyph for {cluster!r} (U+{ord(cluster[0]):04X}); "
                        "the certificate fonts cannot print this text exactly"
                    )
                self.glyphs.append(glyph)
                self.texts.append(cluster)
                cid = len(self.glyphs)
                self.cids[key] = cid
            out.append(f"{cid:04X}")
        return "".join(out)

    def _to_unicode(self) -> bytes:
        lines = [
            "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
            "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange",
        ]
        entries = [f"<{cid:04X}> <{text.encode('utf-16-be').hex().upper()}>"
                   for cid, text in enumerate(self.texts, start=1)]
        for start in range(0, len(entries), 100):  # at most 100 entries per block (PDF §9.10.3)
            chunk = entries[start:start + 100]
            lines.append(f"{len(chunk)} beginbfchar")
            lines.extend(chunk)
            lines.append("endbfchar")
        lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
        return "\n".join(lines).encode("ascii")

    def write(self, writer: Writer, base_name: str) -> int:
        """Write the Type 0 font and its parts; returns the Type 0 font's object number."""
        tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(
            "".join(f"{t}{int(b)}" for (t, b) in self.cids).encode("utf-8")).digest()[:6])
        font_name = f"{tag}+{base_name}"
        program = build_cid_cff(font_name, self.glyphs, self.fonts.private)
        font_file = writer.add_stream("/Subtype /CIDFontType0C", program)
        descriptor = writer.add(
            f"<< /Type /FontDescriptor /FontName /{font_name} /Flags 6 /FontBBox [-1000 -1000 2000 1500] "
            f"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 733 /StemV 80 "
            f"/Style << /Panose <0801020206030500000000> >> /FontFile3 {font_file} 0 R >>"
        )
        widths = " ".join(str(g.width) for g in self.glyphs)
        cid_font = writer.add(
            f"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /{font_name} "
            f"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
            f"/FontDescriptor {descriptor} 0 R /DW 1000 /W [1 [{widths}]] >>"
        )
        to_unicode = writer.add_stream("", self._to_unicode())
        return writer.add(
            f"<< /Type /Font /Subtype /Type0 /BaseFont /{font_name} /Encoding /Identity-H "
            f"/DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"
        )


class Canvas:
    """Content-stream operators for one page, in millimetres from the top-left corner."""

    def __init__(self, height_mm: float = A4_HEIGHT_MM) -> None:
        self.height = height_mm
        self.ops: list[str] = []

    # -- coordinates
    def x(self, mm: float) -> str:
        return num(mm * MM)

    def y(self, mm: float) -> str:
        return num((self.height - mm) * MM)

    def raw(self, *ops: str) -> None:
        self.ops.extend(ops)

    # -- graphics state
    def save(self) -> None:
        self.ops.append("q")

    def restore(self) -> None:
        self.ops.append("Q")

    def fill_color(self, rgb: RGB) -> None:
        self.ops.append(f"{num(rgb[0])} {num(rgb[1])} {num(rgb[2])} rg")

    def stroke_color(self, rgb: RGB) -> None:
        self.ops.append(f"{num(rgb[0])} {num(rgb[1])} {num(rgb[2])} RG")

    def line_width(self, mm: float) -> None:
        self.ops.append(f"{num(mm * MM)} w")

    def gstate(self, name: str) -> None:
        self.ops.append(f"/{name} gs")

    # -- shapes
    def rect(self, x: float, y: float, w: float, h: float, op: str = "S") -> None:
        self.ops.append(f"{self.x(x)} {self.y(y + h)} {num(w * MM)} {num(h * MM)} re {op}")

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.ops.append(f"{self.x(x1)} {self.y(y1)} m {self.x(x2)} {self.y(y2)} l S")

    def circle(self, cx: float, cy: float, r: float, op: str = "S") -> None:
        k = 0.5523 * r  # four Bézier quarter arcs
        x, y = cx, cy
        pts = [
            (x + r, y), (x + r, y - k, x + k, y - r, x, y - r), (x - k, y - r, x - r, y - k, x - r, y),
            (x - r, y + k, x - k, y + r, x, y + r), (x + k, y + r, x + r, y + k, x + r, y),
        ]
        ops = [f"{self.x(pts[0][0])} {self.y(pts[0][1])} m"]
        for p in pts[1:]:
            ops.append(" ".join(f"{self.x(p[i])} {self.y(p[i + 1])}" for i in range(0, 6, 2)) + " c")
        ops.append(op)
        self.ops.append(" ".join(ops))

    def polygon(self, points: Sequence[tuple[float, float]], op: str = "f") -> None:
        first, *rest = points
        ops = [f"{self.x(first[0])} {self.y(first[1])} m"]
        ops += [f"{self.x(px)} {self.y(py)} l" for px, py in rest]
        ops.append(f"h {op}")
        self.ops.append(" ".join(ops))

    def glyph_path(self, ops: Sequence[PathOp], x: float, y: float, size_mm: float, angle_cos: float = 1.0,
                   angle_sin: float = 0.0) -> None:
        """A glyph outline (1/1000 em, y up) drawn as a filled shape with its origin at (x, y), rotated
        counter-clockwise by the angle whose cosine and sine are given (the seal's text)."""
        s = size_mm / 1000

        def at(gx: float, gy: float) -> str:
            px = x + (gx * angle_cos - gy * angle_sin) * s
            py = y - (gx * angle_sin + gy * angle_cos) * s
            return f"{self.x(px)} {self.y(py)}"

        out = []
        for op in ops:
            kind = op[0]
            if kind == "M":
                out.append(f"{at(op[1], op[2])} m")
            elif kind == "L":
                out.append(f"{at(op[1], op[2])} l")
            elif kind == "C":
                out.append(f"{at(op[1], op[2])} {at(op[3], op[4])} {at(op[5], op[6])} c")
            else:
                out.append("h")
        if out:
            out.append("f")
            self.ops.append(" ".join(out))

    # -- text
    def text(self, font: PageFont, clusters: Sequence[str], x: float, y_baseline: float, size_pt: float,
             *, bold: bool = False, spacing_pt: float = 0.0) -> None:
        """Show `clusters` with the baseline at y (mm from the top); spacing is added after each glyph."""
        hex_codes = font.encode(clusters, bold)
        tc = f"{num(spacing_pt)} Tc "  # character spacing is text state: it outlives BT/ET, so always set
        self.ops.append(f"BT /F1 {num(size_pt)} Tf {tc}{self.x(x)} {self.y(y_baseline)} Td <{hex_codes}> Tj ET")

    def content(self) -> bytes:
        return "\n".join(self.ops).encode("latin-1")


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    mime: str
    description: str
    mod_date: str  # PDF date "D:YYYYMMDDHHMMSSZ"


def write_document(
    canvas: Canvas,
    font: PageFont,
    *,
    title: str,
    subject: str,
    author: str,
    date: str,
    keywords: str = "",
    attachment: Attachment | None = None,
    ext_gstates: dict[str, str] | None = None,
    font_base_name: str = "TitleCredSerifSC",
    width_mm: float = A4_WIDTH_MM,
    height_mm: float = A4_HEIGHT_MM,
    before: Sequence[bytes] = (),
    after: Sequence[bytes] = (),
) -> bytes:
    """The PDF of one page. `before`/`after`: zlib-compressed content streams drawn before and after the
    canvas (parts of the page that are the same for many documents, compressed once)."""
    writer = Writer()
    catalog = writer.reserve()
    pages = writer.reserve()
    page = writer.reserve()
    font_obj = font.write(writer, font_base_name)
    streams = [writer.add_deflated_stream("", part) for part in before]
    streams.append(writer.add_stream("", canvas.content()))
    streams += [writer.add_deflated_stream("", part) for part in after]
    contents = " ".join(f"{number} 0 R" for number in streams)
    gs = ""
    if ext_gstates:
        gs = " /ExtGState << " + " ".join(f"/{k} << {v} >>" for k, v in ext_gstates.items()) + " >>"
    af = ""
    names = ""
    if attachment is not None:
        digest = hashlib.md5(attachment.data, usedforsecurity=False).hexdigest().upper()
        embedded = writer.add_stream(
            f"/Type /EmbeddedFile /Subtype {pdf_name(attachment.mime)} /Params << /Size {len(attachment.data)} "
            f"/ModDate {text_string(attachment.mod_date)} /CheckSum <{digest}> >>",
            attachment.data,
        )
        spec = writer.add(
            f"<< /Type /Filespec /F {text_string(attachment.name)} /UF {text_string(attachment.name)} "
            f"/EF << /F {embedded} 0 R /UF {embedded} 0 R >> /Desc {text_string(attachment.description)} "
            f"/AFRelationship /Source >>"
        )
        af = f" /AF [{spec} 0 R]"
        names = f" /Names << /EmbeddedFiles << /Names [{text_string(attachment.name)} {spec} 0 R] >> >>"
    writer.put(page, (
        f"<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 {num(width_mm * MM)} {num(height_mm * MM)}] "
        f"/Resources << /Font << /F1 {font_obj} 0 R >>{gs} >> /Contents [{contents}] >>"
    ))
    writer.put(pages, f"<< /Type /Pages /Kids [{page} 0 R] /Count 1 >>")
    writer.put(catalog, f"<< /Type /Catalog /Pages {pages} 0 R /Lang (zh-CN){names}{af} "
                        f"/ViewerPreferences << /DisplayDocTitle true >> >>")
    info = writer.add(
        f"<< /Title {text_string(title)} /Subject {text_string(subject)} /Author {text_string(author)} "
        f"/Keywords {text_string(keywords)} "
        f"/Producer (TitleCred) /Creator (TitleCred) /CreationDate {text_string(date)} "
        f"/ModDate {text_string(date)} >>"
    )
    return writer.finish(catalog, info)
