"""The issuer's red round seal (公章 style), drawn from its name: ring, star, name along the arc, and
"证书专用章" across the bottom.

Its text is drawn as glyph outlines (filled shapes), not as text: the seal is an image on the page,
and the page's extractable text stays exactly the printed facts. The drawing of one issuer's seal is
computed once and reused (the page's other content is drawn around it).

What it must never do: draw a seal for a name it cannot print exactly (a missing glyph is an error).
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache

from printing.fonts import FontSet, clusters, font_set
from printing.layout import SEAL_BOTTOM
from printing.pdfdoc import Canvas

SEAL_RED = (0.84, 0.07, 0.09)
_lock = threading.Lock()
# The arc the name runs along: centred on the top, 250° wide at most.
_ARC_SPAN_DEG = 250.0
_GLYPH_CENTRE = (500.0, 380.0)  # the ideograph box centre in font units (1/1000 em)


def _star(canvas: Canvas, cx: float, cy: float, r: float) -> None:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.382
        angle = math.radians(-90 + 36 * i)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    canvas.polygon(points, "f")


def _glyph_at(canvas: Canvas, fonts: FontSet, cluster: str, cx: float, cy: float, size: float,
              clockwise_deg: float) -> None:
    """Draw `cluster` centred on (cx, cy), `size` mm tall, turned clockwise by the angle (y down)."""
    theta = math.radians(clockwise_deg)
    cos, sin = math.cos(-theta), math.sin(-theta)  # counter-clockwise in glyph space (y up)
    s = size / 1000
    gx, gy = _GLYPH_CENTRE
    # The origin that puts the glyph's centre on (cx, cy) after rotation.
    ox = cx - (gx * cos - gy * sin) * s
    oy = cy + (gx * sin + gy * cos) * s
    canvas.glyph_path(fonts.outline(cluster, bold=True), ox, oy, size, cos, sin)


def _draw(name: str, cx: float, cy: float, r: float) -> list[str]:
    fonts = font_set()
    canvas = Canvas()
    canvas.save()
    canvas.fill_color(SEAL_RED)
    canvas.stroke_color(SEAL_RED)
    canvas.line_width(r * 0.055)
    canvas.circle(cx, cy, r - r * 0.0275)
    _star(canvas, cx, cy - r * 0.02, r * 0.27)
    units = clusters(name)
    text_r = r * 0.68
    n = max(len(units), 1)
    span = min(_ARC_SPAN_DEG, 20.0 * n + 40.0)
    step = span / n
    size = min(r * 0.24, 2 * math.pi * text_r * step / 360 * 0.92)
    for i, unit in enumerate(units):
        angle = -span / 2 + step * (i + 0.5)
        a = math.radians(angle)
        _glyph_at(canvas, fonts, unit, cx + text_r * math.sin(a), cy - text_r * math.cos(a), size, angle)
    bottom = clusters(SEAL_BOTTOM)
    b_size = r * 0.18
    x = cx - b_size * len(bottom) / 2 + b_size / 2
    for unit in bottom:
        _glyph_at(canvas, fonts, unit, x, cy + r * 0.50, b_size, 0.0)
        x += b_size
    canvas.restore()
    return canvas.ops


@lru_cache(maxsize=64)
def _cached(name: str, cx: float, cy: float, r: float) -> tuple[str, ...]:
    return tuple(_draw(name, cx, cy, r))


def draw_seal(canvas: Canvas, issuer_name: str, cx: float, cy: float, r: float) -> None:
    """Add the seal of `issuer_name`, centred on (cx, cy) with radius r (mm), to `canvas`."""
    with _lock:
        ops = _cached(issuer_name, cx, cy, r)
    canvas.raw(*ops)
