"""Read an OFD certificate's page back: its text, and its QR code (the OFD draws it as vector paths).

The QR code is found as the page's one black-filled path of many square subpaths (the modules), drawn
into a bitmap at 8 pixels per millimetre with a white quiet zone, and decoded with zxing-cpp, as a
scanner would read the printed page. Bounded: at most 20,000 subpaths, a symbol at most 80 mm wide.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

NS = "{http://www.ofdspec.org/2016}"
CONTENT = "Doc_0/Pages/Page_0/Content.xml"
MAX_SUBPATHS = 20_000
MAX_SIZE_MM = 80.0
PX_PER_MM = 8
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def _content(parts: Mapping[str, bytes]) -> etree._Element:
    return etree.fromstring(parts[CONTENT], _PARSER)


def page_text(parts: Mapping[str, bytes]) -> str:
    """Every TextCode of the page, in document order."""
    return "".join(code.text or "" for code in _content(parts).iter(f"{NS}TextCode"))


def _qr_path(root: etree._Element) -> tuple[list[float], str] | None:
    for obj in root.iter(f"{NS}PathObject"):
        fill = obj.find(f"{NS}FillColor")
        if obj.get("Fill") != "true" or fill is None or fill.get("Value") != "0 0 0":
            continue
        data = obj.findtext(f"{NS}AbbreviatedData") or ""
        if data.count("M") < 50:
            continue
        box = [float(v) for v in str(obj.get("Boundary", "")).split()]
        if len(box) == 4:
            return box, data
    return None


def qr_text(parts: Mapping[str, bytes]) -> str | None:
    """The text of the page's QR code, or None if there is none that can be read."""
    from PIL import Image, ImageDraw

    from printing.errors import ExtractError
    from printing.extract import _qr_from_pil

    found = _qr_path(_content(parts))
    if found is None:
        return None
    box, data = found
    if data.count("M") > MAX_SUBPATHS or not (0 < box[2] <= MAX_SIZE_MM and 0 < box[3] <= MAX_SIZE_MM):
        return None
    margin = 8.0
    size = (int((box[2] + 2 * margin) * PX_PER_MM), int((box[3] + 2 * margin) * PX_PER_MM))
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    tokens = data.split()
    i = 0
    points: list[tuple[float, float]] = []
    try:
        while i < len(tokens):
            op = tokens[i]
            if op in ("M", "L"):
                x, y = float(tokens[i + 1]), float(tokens[i + 2])
                points.append(((x + margin) * PX_PER_MM, (y + margin) * PX_PER_MM))
                i += 3
            elif op == "C":
                if len(points) >= 3:
                    draw.polygon(points, fill=0)
                points = []
                i += 1
            else:
                return None  # curves: not a QR code drawn by this writer
    except (IndexError, ValueError):
        return None
    try:
        return _qr_from_pil(image)
    except ExtractError:
        return None
