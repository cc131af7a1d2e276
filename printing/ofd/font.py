"""TrueType (glyf) subsets of the certificate fonts for OFD.

OFD readers parse embedded fonts through their glyf tables, so the page's glyphs (Noto Serif CJK is
CFF-based; HanaMin, for the CJK extensions, is TrueType) are turned into one small TrueType font per
style: cubic outlines become quadratic ones with fontTools' cu2qu (max error 1/1000 em), the cmap maps
each character to its glyph (format 14 variation sequences included), advances are the PDF's.

Each glyph's quadratic outline is converted once per process and kept (`_outline`); a page's font is
then built from the kept outlines.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.recordingPen import RecordingPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import newTable
from fontTools.ttLib.tables._g_l_y_f import Glyph

from printing.errors import GlyphMissing
from printing.fonts import FontSet

UPEM = 1000
ASCENT = 880
DESCENT = -120
_lock = threading.Lock()
_outlines: dict[tuple[str, bool], RecordingPen] = {}
# Compiled glyf data and left side bearing of each glyph: compiling coordinates is most of the cost.
_compiled: dict[tuple[str, bool], tuple[bytes, int]] = {}
# A fixed head.created/modified (2016-01-01): the font, and so the OFD, is a pure function of the page.
_FIXED_TIME = 3_534_364_800


def _outline(fonts: FontSet, cluster: str, bold: bool) -> RecordingPen:
    key = (cluster, bold)
    cached = _outlines.get(key)
    if cached is not None:
        return cached
    ops = fonts.outline(cluster, bold)
    recording = RecordingPen()
    pen = Cu2QuPen(recording, max_err=1.0, reverse_direction=True)
    open_contour = False
    for op in ops:
        if op[0] == "M":
            if open_contour:
                pen.closePath()
            pen.moveTo((op[1], op[2]))
            open_contour = True
        elif op[0] == "L":
            pen.lineTo((op[1], op[2]))
        elif op[0] == "C":
            pen.curveTo((op[1], op[2]), (op[3], op[4]), (op[5], op[6]))
        else:
            pen.closePath()
            open_contour = False
    if open_contour:
        pen.closePath()
    with _lock:
        _outlines[key] = recording
    return recording


def _compiled_glyph(fonts: FontSet, cluster: str, bold: bool) -> tuple[bytes, int]:
    key = (cluster, bold)
    hit = _compiled.get(key)
    if hit is not None:
        return hit
    pen = TTGlyphPen(None)
    _outline(fonts, cluster, bold).replay(pen)
    glyph = pen.glyph()
    glyph.recalcBounds(None)
    lsb = int(getattr(glyph, "xMin", 0))
    data = glyph.compile(None, recalcBBoxes=False)
    with _lock:
        _compiled[key] = (data, lsb)
    return data, lsb


def glyph_name(index: int) -> str:
    return f"g{index}"


def build_font(fonts: FontSet, clusters: Sequence[str], *, bold: bool, family: str) -> bytes:
    """A TrueType font whose glyph i+1 draws clusters[i] (in `bold` or regular), mapped in its cmap."""
    order = [".notdef"] + [glyph_name(i + 1) for i in range(len(clusters))]
    glyphs = {}
    metrics: dict[str, tuple[int, int]] = {}
    notdef = TTGlyphPen(None)
    glyphs[".notdef"] = notdef.glyph()
    metrics[".notdef"] = (UPEM, 0)
    cmap: dict[int, str] = {}
    uvs: list[tuple[int, int, str]] = []
    for i, cluster in enumerate(clusters):
        name = order[i + 1]
        width = fonts.width(cluster, bold)
        if width is None:
            raise GlyphMissing(f"no installed font has a glyph for U+{ord(cluster[0]):04X}")
        data, lsb = _compiled_glyph(fonts, cluster, bold)
        glyphs[name] = Glyph(data)
        metrics[name] = (width, lsb)
        if len(cluster) == 2:
            uvs.append((ord(cluster[0]), ord(cluster[1]), name))
            cmap.setdefault(ord(cluster[0]), name)
        else:
            cmap[ord(cluster)] = name  # a plain character wins over a variation sequence's base
    builder = FontBuilder(UPEM, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap(cmap, uvs=uvs or None)
    # As FontBuilder.setupGlyf, with glyphs already compiled (and checked quadratic when they were).
    builder.font["loca"] = newTable("loca")
    builder.font["glyf"] = newTable("glyf")
    builder.font["glyf"].glyphs = glyphs
    builder.font["glyf"].glyphOrder = order
    builder.font.recalcBBoxes = False  # the glyphs' bounds were computed when they were compiled
    builder.font.recalcTimestamp = False
    builder.setupHorizontalMetrics(metrics)
    builder.setupHead(unitsPerEm=UPEM, created=_FIXED_TIME, modified=_FIXED_TIME,
                      xMin=-1000, yMin=-1000, xMax=2000, yMax=1500)
    builder.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT)
    style = "Bold" if bold else "Regular"
    builder.setupNameTable({"familyName": family, "styleName": style,
                            "psName": f"{family}-{style}", "uniqueFontIdentifier": f"TitleCred:{family}-{style}"})
    builder.setupOS2(sTypoAscender=ASCENT, sTypoDescender=DESCENT, sTypoLineGap=0, usWinAscent=ASCENT,
                     usWinDescent=-DESCENT, usWeightClass=700 if bold else 400, fsType=0,
                     ulCodePageRange1=1 << 18)  # GB 2312
    builder.setupPost()
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()
