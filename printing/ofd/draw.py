"""The page's drawing, turned into OFD page objects.

The PDF writer's canvas (`printing.pdfdoc.Canvas`) records the page as a small, fixed vocabulary of
content-stream operators (q Q cm w rg RG gs m l c h re f S, and text as BT Tf Tc Td Tj ET with the
page font's glyph numbers). This module interprets exactly that vocabulary, so the OFD shows the same
page as the PDF without a second layout: paths become PathObjects (millimetres, origin top left,
coordinates relative to each object's Boundary), each text show becomes a TextObject whose TextCode
holds the Unicode text and whose DeltaX holds the same advances as the PDF's.

Anything outside the vocabulary is an internal error, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from printing.fonts import FontSet
from printing.pdfdoc import MM, PageFont

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
PT_TO_MM = 1 / MM


def fmt(value: float) -> str:
    text = f"{value:.3f}"
    if text[-1] == "0":
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _mul(m: Matrix, n: Matrix) -> Matrix:
    """m then n (PDF's row-vector convention: cm's matrix is m, the current one n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2, e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2)


@dataclass(frozen=True)
class PathObject:
    boundary: tuple[float, float, float, float]
    data: str
    stroke: bool
    fill: bool
    line_width: float
    stroke_color: tuple[float, float, float]
    fill_color: tuple[float, float, float]
    alpha: int


@dataclass(frozen=True)
class TextObject:
    boundary: tuple[float, float, float, float]
    bold: bool
    size: float  # mm
    color: tuple[float, float, float]
    x: float  # relative to the boundary
    y: float  # baseline, relative to the boundary
    text: str
    deltas: tuple[float, ...]


PageObject = PathObject | TextObject


@dataclass
class _State:
    ctm: Matrix = IDENTITY
    fill: tuple[float, float, float] = (0.0, 0.0, 0.0)
    stroke: tuple[float, float, float] = (0.0, 0.0, 0.0)
    width_pt: float = 1.0
    alpha: int = 255


@dataclass
class Interpreter:
    """Runs canvas operators and collects page objects; `height_mm` flips PDF's y axis back."""

    fonts: FontSet
    font: PageFont
    height_mm: float
    alphas: dict[str, int] = field(default_factory=dict)  # ExtGState name → alpha 0..255
    objects: list[PageObject] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._glyph_of = {cid: key for key, cid in self.font.cids.items()}
        self._state = _State()
        self._stack: list[_State] = []
        self._path: list[tuple[str, list[tuple[float, float]]]] = []
        self._text: dict[str, float] = {}

    def _to_mm(self, x: float, y: float) -> tuple[float, float]:
        a, b, c, d, e, f = self._state.ctm
        px, py = a * x + c * y + e, b * x + d * y + f
        return px * PT_TO_MM, self.height_mm - py * PT_TO_MM

    def _rect(self, x: float, y: float, w: float, h: float) -> None:
        p0, p2 = self._to_mm(x, y), self._to_mm(x + w, y + h)
        _a, b, c, _d, _e, _f = self._state.ctm
        if b == 0 and c == 0:  # axis-aligned (every rectangle of the page, the QR modules among them)
            p1, p3 = (p2[0], p0[1]), (p0[0], p2[1])
        else:
            p1, p3 = self._to_mm(x + w, y), self._to_mm(x, y + h)
        self._path += [("M", [p0]), ("L", [p1]), ("L", [p2]), ("L", [p3]), ("C", [])]

    def run(self, ops: Iterable[str]) -> None:
        for op in ops:
            self._run_one(op)

    def _run_one(self, text: str) -> None:
        args: list[str] = []
        for token in text.split():
            if token[0] in "-.0123456789" or token[0] in "</":
                args.append(token)
                continue
            self._operator(token, args)
            args = []
        if args:
            raise ValueError(f"internal error: operands without an operator in {text[:40]!r}")

    def _operator(self, op: str, args: list[str]) -> None:
        st = self._state
        nums = [float(a) for a in args if a[0] not in "</"]
        if op == "q":
            self._stack.append(_State(st.ctm, st.fill, st.stroke, st.width_pt, st.alpha))
        elif op == "Q":
            self._state = self._stack.pop()
        elif op == "cm":
            st.ctm = _mul((nums[0], nums[1], nums[2], nums[3], nums[4], nums[5]), st.ctm)
        elif op == "w":
            st.width_pt = nums[0]
        elif op == "rg":
            st.fill = (nums[0], nums[1], nums[2])
        elif op == "RG":
            st.stroke = (nums[0], nums[1], nums[2])
        elif op == "gs":
            st.alpha = self.alphas.get(args[0].lstrip("/"), 255)
        elif op == "m":
            self._path.append(("M", [self._to_mm(nums[0], nums[1])]))
        elif op == "l":
            self._path.append(("L", [self._to_mm(nums[0], nums[1])]))
        elif op == "c":
            self._path.append(("B", [self._to_mm(nums[i], nums[i + 1]) for i in (0, 2, 4)]))
        elif op == "h":
            self._path.append(("C", []))
        elif op == "re":
            self._rect(nums[0], nums[1], nums[2], nums[3])
        elif op in ("f", "S", "B"):
            self._paint(stroke=op in ("S", "B"), fill=op in ("f", "B"))
        elif op == "BT":
            self._text = {}
        elif op == "Tf":
            self._text["size"] = nums[0]
        elif op == "Tc":
            self._text["spacing"] = nums[0]
        elif op == "Td":
            self._text["x"], self._text["y"] = nums[0], nums[1]
        elif op == "Tj":
            self._show(args[0])
        elif op == "ET":
            self._text = {}
        else:
            raise ValueError(f"internal error: the OFD writer does not know the operator {op!r}")

    def _paint(self, *, stroke: bool, fill: bool) -> None:
        path, self._path = self._path, []
        points = [p for _, pts in path for p in pts]
        if not points:
            return
        st = self._state
        scale = (abs(st.ctm[0] * st.ctm[3] - st.ctm[1] * st.ctm[2])) ** 0.5
        width = st.width_pt * scale * PT_TO_MM
        pad = width / 2 + 0.2 if stroke else 0.2
        x0 = min(p[0] for p in points) - pad
        y0 = min(p[1] for p in points) - pad
        x1 = max(p[0] for p in points) + pad
        y1 = max(p[1] for p in points) + pad
        parts = []
        for kind, pts in path:
            parts.append(kind)
            parts.extend(f"{fmt(px - x0)} {fmt(py - y0)}" for px, py in pts)
        self.objects.append(PathObject((x0, y0, x1 - x0, y1 - y0), " ".join(parts), stroke, fill, width,
                                       st.stroke, st.fill, st.alpha))

    def _show(self, hex_codes: str) -> None:
        codes = hex_codes.strip("<>")
        keys = [self._glyph_of[int(codes[i:i + 4], 16)] for i in range(0, len(codes), 4)]
        size_pt = self._text["size"]
        spacing = self._text.get("spacing", 0.0)
        bold = keys[0][1]
        x, baseline = self._to_mm(self._text["x"], self._text["y"])
        deltas: list[float] = []
        text = ""
        advance = 0.0
        for n, (cluster, _bold) in enumerate(keys):
            step = ((self.fonts.width(cluster, bold) or 1000) * size_pt / 1000 + spacing) * PT_TO_MM
            text += cluster
            deltas.extend([0.0] * (len(cluster) - 1))  # a variation selector sits on its base
            if n < len(keys) - 1:
                deltas.append(step)
            advance += step
        size = size_pt * PT_TO_MM
        top = baseline - size
        boundary = (x, top, max(advance, 0.1), size * 1.3)
        self.objects.append(TextObject(boundary, bold, size, self._state.fill, 0.0, baseline - top, text,
                                       tuple(deltas)))
