"""The certificate's fonts: found once at start-up, parsed once, shared by every document.

A Song-style serif (宋体) for the page, with the correct Simplified Chinese glyph forms: the SC face of
Noto Serif CJK (Debian `fonts-noto-cjk`). Characters it lacks (the CJK extensions, where rare name
characters 生僻字 live) come from HanaMinA and HanaMinB (Debian `fonts-hanazono`), which between them
cover Extensions A to F. A character that none of them has is never printed as an empty box: the
renderer refuses it (`GlyphMissing`), and the issuer, which asks `covers()` at issuance, records that
the name is printed in pinyin instead (`namePrintedAsPinyin`).

Why the glyphs are cached here rather than in a PDF library: embedding a subset of a 20–30 MB CJK font
with fontTools' subsetter costs ~200 ms per document (measured with fpdf2 2.8.9, which also subsets the
parsed font in place, so it cannot be reused). Here each glyph is taken out of the parsed font once
(its charstring desubroutinized, ~0.6 ms), kept, and a page's font program is assembled from the kept
glyphs in microseconds (see `printing.cff`).

What it must never do: load fonts per document, or draw text it has no glyph for.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from fontTools.cffLib.transforms import desubroutinizeCharString
from fontTools.misc.psCharStrings import T2CharString
from fontTools.pens.basePen import BasePen
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

from printing.errors import FontsMissing, GlyphMissing

__all__ = [
    "FontFile",
    "FontPaths",
    "FontSet",
    "Glyph",
    "clusters",
    "covers",
    "find_fonts",
    "font_set",
    "uncovered",
]

# Where Debian (and most Linux distributions) put fonts; TITLECRED_FONT_DIRS (colon-separated) first.
DEFAULT_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
)
SERIF_FAMILY = "Noto Serif CJK SC"
# File names in the order preferred: the collection of fonts-noto-cjk, then the single-face OTFs of
# fonts-noto-cjk-extra / upstream releases.
_SERIF_REGULAR = ("NotoSerifCJK-Regular.ttc", "NotoSerifCJKsc-Regular.otf", "NotoSerifSC-Regular.otf")
_SERIF_BOLD = ("NotoSerifCJK-Bold.ttc", "NotoSerifCJKsc-Bold.otf", "NotoSerifSC-Bold.otf")
_EXT_A = ("HanaMinA.ttf",)
_EXT_B = ("HanaMinB.ttf",)

# Variation selectors: a name may carry an ideographic variation sequence (base + VS) that picks one
# exact glyph form; the pair is one unit of text, never split, and printed with one glyph.
_VS_RANGES = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))


def _is_selector(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _VS_RANGES)


def clusters(text: str) -> list[str]:
    """Split `text` into the units the page prints: one character, or one character and its selector."""
    out: list[str] = []
    for char in text:
        if out and _is_selector(ord(char)) and len(out[-1]) == 1:
            out[-1] += char
        else:
            out.append(char)
    return out


@dataclass(frozen=True)
class FontFile:
    path: Path
    index: int  # face number inside a collection (.ttc); 0 for a single font


@dataclass(frozen=True)
class FontPaths:
    serif: FontFile
    serif_bold: FontFile | None  # headings fall back to the regular face when absent
    ext_a: FontFile
    ext_b: FontFile


def _font_dirs(extra: Sequence[str | Path] | None, defaults: bool) -> list[Path]:
    dirs: list[str | Path] = list(extra or [])
    env = os.environ.get("TITLECRED_FONT_DIRS")
    if env and defaults:
        dirs += [d for d in env.split(os.pathsep) if d]
    if defaults:
        dirs += DEFAULT_FONT_DIRS
    out: list[Path] = []
    for d in dirs:
        p = Path(d).expanduser()
        if p.is_dir() and p not in out:
            out.append(p)
    return out


def _index_files(dirs: Iterable[Path]) -> dict[str, Path]:
    """File name → first path found (directories in the order given)."""
    found: dict[str, Path] = {}
    for root in dirs:
        for dirpath, _dirnames, filenames in os.walk(root, followlinks=True):
            for name in filenames:
                found.setdefault(name, Path(dirpath) / name)
    return found


def _face_index(path: Path, family: str) -> int | None:
    """The face of `path` whose family name is `family` (a .ttc holds JP, KR, SC, TC and HK faces)."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    try:
        for number, face in enumerate(collection.fonts):
            names = {rec.toUnicode() for rec in face["name"].names if rec.nameID in (1, 16)}
            if family in names:
                return number
    finally:
        collection.close()
    return None


def _pick(found: dict[str, Path], names: Sequence[str], family: str | None) -> FontFile | None:
    for name in names:
        path = found.get(name)
        if path is None:
            continue
        index = _face_index(path, family) if family else 0
        if index is not None:
            return FontFile(path, index)
    return None


def find_fonts(dirs: Sequence[str | Path] | None = None, *, defaults: bool = True) -> FontPaths:
    """Find the certificate fonts in `dirs`, then TITLECRED_FONT_DIRS and the system's font folders
    (unless `defaults` is False); `FontsMissing` names the Debian package of whatever is absent."""
    found = _index_files(_font_dirs(dirs, defaults))
    serif = _pick(found, _SERIF_REGULAR, SERIF_FAMILY)
    bold = _pick(found, _SERIF_BOLD, SERIF_FAMILY)
    ext_a = _pick(found, _EXT_A, None)
    ext_b = _pick(found, _EXT_B, None)
    missing = []
    if serif is None:
        missing.append(f"{SERIF_FAMILY} (Debian package fonts-noto-cjk)")
    if ext_a is None or ext_b is None:
        missing.append("HanaMinA and HanaMinB for the CJK extensions (Debian package fonts-hanazono)")
    if missing:
        raise FontsMissing(
            "the certificate fonts are not installed: " + "; ".join(missing)
            + ". Run scripts/setup, or: apt-get install fonts-noto-cjk fonts-hanazono "
            "(TITLECRED_FONT_DIRS adds folders to search)"
        )
    assert serif is not None and ext_a is not None and ext_b is not None
    return FontPaths(serif=serif, serif_bold=bold, ext_a=ext_a, ext_b=ext_b)


# --- Glyphs -------------------------------------------------------------------------------------------

# Every glyph of every page lives in one CID-keyed CFF font; its Private DICTs come from the source
# fonts (one per font DICT used), keyed by (slot, font-DICT index).
FdKey = tuple[int, int]


@dataclass(frozen=True)
class Glyph:
    """One glyph as a page embeds it: a desubroutinized Type 2 charstring, its font DICT, its advance."""

    fd: FdKey
    charstring: bytes
    width: int  # advance in 1/1000 em


# A path in 1/1000 em units, y up: ("M", x, y), ("L", x, y), ("C", x1, y1, x2, y2, x3, y3), ("Z",)
PathOp = tuple[Any, ...]


class _PathRecorder(BasePen):
    def __init__(self, glyph_set: Any) -> None:
        super().__init__(glyph_set)
        self.ops: list[PathOp] = []

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(("M", *pt))

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(("L", *pt))

    def _curveToOne(self, p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float]) -> None:
        self.ops.append(("C", *p1, *p2, *p3))

    def _closePath(self) -> None:
        self.ops.append(("Z",))


# Private DICT operators (CFF spec, Technical Note #5176 Table 23) that a page's font keeps.
_OP_SUBRS = 19


def _dict_entries(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Split CFF DICT data into (operands, operator) byte runs (TN #5176 §4)."""
    i, start, n = 0, 0, len(data)
    while i < n:
        b0 = data[i]
        if b0 <= 21:  # an operator ends the entry
            op_len = 2 if b0 == 12 else 1
            yield data[start:i], data[i:i + op_len]
            i += op_len
            start = i
        elif b0 == 28:
            i += 3
        elif b0 == 29:
            i += 5
        elif b0 == 30:  # real number: nibbles until one is 0xf
            i += 1
            while i < n and (data[i] & 0x0F) != 0x0F and (data[i] >> 4) != 0x0F:
                i += 1
            i += 1
        elif 32 <= b0 <= 246:
            i += 1
        elif 247 <= b0 <= 254:
            i += 2
        else:
            raise ValueError(f"unexpected byte {b0} in a CFF DICT")


def _without_subrs(private: bytes) -> bytes:
    return b"".join(ops + op for ops, op in _dict_entries(private) if op != bytes([_OP_SUBRS]))


def _int_operand(value: int) -> bytes:
    return b"\x1d" + int(value).to_bytes(4, "big", signed=True)


# The Private DICT of glyphs converted from TrueType outlines: widths are explicit (nominalWidthX 0),
# LanguageGroup 1 marks ideographs for rasterizers.
_SYNTHETIC_PRIVATE = _int_operand(1000) + b"\x14" + _int_operand(0) + b"\x15" + _int_operand(1) + b"\x0c\x11"


class _Slot:
    """One parsed font file. CFF fonts give their own charstrings; TrueType ones are converted."""

    def __init__(self, number: int, font: FontFile) -> None:
        self.number = number
        self.font = font
        self.tt = TTFont(str(font.path), fontNumber=font.index, lazy=True, recalcTimestamp=False)
        # Only the character map is read now: it is all that telling whether a name prints needs (asked at
        # every issuance); metrics and outlines are read when a page is first drawn.
        self.cmap: dict[int, str] = self.tt.getBestCmap() or {}
        self.uvs: dict[tuple[int, int], str | None] = {}
        for table in self.tt["cmap"].tables:
            if table.format == 14:
                for selector, pairs in table.uvsDict.items():
                    for base, name in pairs:
                        self.uvs[(base, selector)] = name

    @cached_property
    def upem(self) -> int:
        return int(self.tt["head"].unitsPerEm)

    @cached_property
    def hmtx(self) -> Any:
        return self.tt["hmtx"].metrics

    @cached_property
    def is_cff(self) -> bool:
        return "CFF " in self.tt

    @cached_property
    def top(self) -> Any:
        return self.tt["CFF "].cff.topDictIndex[0]

    @cached_property
    def glyph_set(self) -> Any:
        return self.tt.getGlyphSet()

    @cached_property
    def privates(self) -> dict[int, bytes]:
        privates: dict[int, bytes] = {}
        if self.is_cff:
            raw = self.tt.reader["CFF "]
            fd_array = getattr(self.top, "FDArray", None)
            if fd_array is not None:
                for index in range(len(fd_array)):
                    size, offset = fd_array[index].rawDict["Private"]
                    privates[index] = _without_subrs(raw[offset:offset + size])
            else:
                size, offset = self.top.rawDict["Private"]
                privates[0] = _without_subrs(raw[offset:offset + size])
        return privates

    def glyph_name(self, cluster: str) -> str | None:
        base = ord(cluster[0])
        if len(cluster) == 2:
            key = (base, ord(cluster[1]))
            if key not in self.uvs:
                return None
            name = self.uvs[key]
            return name if name is not None else self.cmap.get(base)  # None: the default glyph
        return self.cmap.get(base)

    def width(self, name: str) -> int:
        advance = self.hmtx[name][0]
        return advance if self.upem == 1000 else round(advance * 1000 / self.upem)

    def make_glyph(self, name: str) -> Glyph:
        width = self.width(name)
        if self.is_cff:
            charstrings = self.top.CharStrings
            if hasattr(charstrings, "getItemAndSelector"):
                cs, fd_index = charstrings.getItemAndSelector(name)
            else:
                cs, fd_index = charstrings[name], 0
            desubroutinizeCharString(cs)
            program = T2CharString(program=list(cs.program))
            program.compile()
            return Glyph((self.number, fd_index or 0), bytes(program.bytecode), width)
        pen = T2CharStringPen(width, self.glyph_set)
        scale = 1000 / self.upem
        self.glyph_set[name].draw(TransformPen(pen, (scale, 0, 0, scale, 0, 0)))
        charstring = pen.getCharString()
        charstring.compile()
        return Glyph((self.number, 0), bytes(charstring.bytecode), width)

    def private(self, fd_index: int) -> bytes:
        return self.privates[fd_index] if self.is_cff else _SYNTHETIC_PRIVATE

    def outline(self, name: str) -> tuple[PathOp, ...]:
        pen = _PathRecorder(None if self.is_cff else self.glyph_set)
        if self.is_cff:
            self.top.CharStrings[name].draw(pen)
        else:
            scale = 1000 / self.upem
            self.glyph_set[name].draw(TransformPen(pen, (scale, 0, 0, scale, 0, 0)))
        return tuple(pen.ops)


class FontSet:
    """The parsed fonts and the glyphs taken from them. Thread-safe; one per process (`font_set()`)."""

    def __init__(self, paths: FontPaths) -> None:
        self.paths = paths
        self._slots = [_Slot(0, paths.serif), _Slot(1, paths.ext_a), _Slot(2, paths.ext_b)]
        self._bold_chain = self._slots
        if paths.serif_bold is not None:
            self._slots.append(_Slot(3, paths.serif_bold))
            self._bold_chain = [self._slots[3], self._slots[1], self._slots[2]]
        self._regular_chain = self._slots[:3]
        self._lock = threading.Lock()
        self._glyphs: dict[tuple[str, bool], Glyph | None] = {}
        self._widths: dict[tuple[str, bool], int | None] = {}
        self._has: dict[tuple[str, bool], bool] = {}
        self._outlines: dict[tuple[str, bool], tuple[PathOp, ...]] = {}

    @property
    def has_bold(self) -> bool:
        return self.paths.serif_bold is not None

    def _find(self, cluster: str, bold: bool) -> tuple[_Slot, str] | None:
        for slot in self._bold_chain if bold else self._regular_chain:
            name = slot.glyph_name(cluster)
            if name is not None:
                return slot, name
        return None

    def width(self, cluster: str, bold: bool = False) -> int | None:
        """Advance of `cluster` in 1/1000 em, or None if no font has it."""
        key = (cluster, bold)
        try:
            return self._widths[key]
        except KeyError:
            pass
        with self._lock:
            hit = self._find(cluster, bold)
            value = hit[0].width(hit[1]) if hit else None
            self._widths[key] = value
        return value

    def glyph(self, cluster: str, bold: bool = False) -> Glyph | None:
        key = (cluster, bold)
        try:
            return self._glyphs[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._glyphs:
                hit = self._find(cluster, bold)
                self._glyphs[key] = hit[0].make_glyph(hit[1]) if hit else None
            return self._glyphs[key]

    def outline(self, cluster: str, bold: bool = False) -> tuple[PathOp, ...]:
        """The glyph's outline as path operations (1/1000 em, y up), for text drawn as shapes (the seal)."""
        key = (cluster, bold)
        cached = self._outlines.get(key)
        if cached is not None:
            return cached
        with self._lock:
            hit = self._find(cluster, bold)
            if hit is None:
                raise GlyphMissing(f"no installed font has a glyph for {cluster!r} (U+{ord(cluster[0]):04X})")
            ops = hit[0].outline(hit[1])
            self._outlines[key] = ops
        return ops

    def private(self, fd: FdKey) -> bytes:
        return self._slots[fd[0]].private(fd[1])

    def has(self, cluster: str, bold: bool = False) -> bool:
        """Whether a font has a glyph for `cluster` (from the character maps alone: no metrics read)."""
        key = (cluster, bold)
        found = self._has.get(key)
        if found is None:
            with self._lock:
                found = self._find(cluster, bold) is not None
                self._has[key] = found
        return found

    def uncovered(self, text: str, bold: bool = False) -> list[str]:
        """The clusters of `text` that no font can draw (whitespace other than U+0020/U+3000 included)."""
        return [c for c in clusters(text) if not self.has(c, bold)]

    def covers(self, text: str) -> bool:
        return not self.uncovered(text) and not self.uncovered(text, bold=True)

    def warm_up(self, text: str) -> None:
        """Take the glyphs of `text` out of the fonts now (e.g. the page's fixed words at start-up)."""
        for cluster in clusters(text):
            self.glyph(cluster)
            self.glyph(cluster, bold=True)


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _default_paths() -> FontPaths:
    return find_fonts()


_instance: FontSet | None = None


def font_set() -> FontSet:
    """The process-wide fonts, found and parsed on first use (~0.5 s), then shared."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = FontSet(_default_paths())
    return _instance


def covers(text: str) -> bool:
    """Can the certificate fonts print `text` exactly? The issuer asks this at issuance: if not, the
    name is printed in pinyin and the credential records it (`namePrintedAsPinyin`)."""
    return font_set().covers(text)


def uncovered(text: str) -> list[str]:
    """The characters (clusters) of `text` that no installed font can print."""
    return font_set().uncovered(text)
