"""A bounded look at a PDF's raw bytes before any PDF library opens it.

PDF libraries inflate a stream whole before anyone can ask how large it is (a 1 MB file can hold a
1 GB attachment), and they follow whatever the objects say. This scan reads the file as bytes and
refuses it, in milliseconds and in bounded memory, if any of these is over its bound:

- streams: every stream is inflated here first, chunk by chunk with a cap checked WHILE inflating
  (`zlib.decompressobj(...).decompress(data, max_length)`), never whole-then-measured; filters other
  than FlateDecode, DCTDecode and the ASCII ones are refused (LZW, RunLength, JBIG2, JPX and CCITT can
  expand just as much, and a certificate uses none);
- objects: their count, and the nesting depth of dictionaries and arrays (also inside object streams);
- form XObjects: their count (forms drawing forms multiply: 10 draws over 9 levels is 10^9 draws);
- images: width × height of every image XObject, from its dictionary, before any pixel is decoded.

The page count, the page's object tree (all levels) and the rendered area are checked after opening,
in `printing.extract`; the whole reading runs in a child process under an address-space limit.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from printing.errors import InputTooLarge, UnsupportedInput


@dataclass(frozen=True)
class ScanLimits:
    max_inflated_bytes: int = 16 * 1024 * 1024  # all streams together, inflated
    max_objects: int = 5_000
    max_depth: int = 32
    max_forms: int = 64
    max_form_draws: int = 10_000
    max_pixels: int = 20_000_000
    max_structure_bytes: int = 2 * 1024 * 1024  # outside streams (a certificate has a few KB)


_OBJ = re.compile(rb"(\d+)\s+(\d+)\s+obj\b")
_DO = re.compile(rb"/[^\s/\[\]<>()]+\s+Do\b")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")
_LENGTH = re.compile(rb"/Length\s+(\d+)(\s+(\d+)\s+R)?")
_INT_ENTRY = {k: re.compile(rb"/" + k + rb"\s+(\d+)") for k in (b"Width", b"Height")}
_SAFE_FILTERS = {b"FlateDecode", b"DCTDecode", b"ASCIIHexDecode", b"ASCII85Decode"}
_CHUNK = 64 * 1024


def scan_pdf(data: bytes, limits: ScanLimits = ScanLimits()) -> None:
    """Raise `InputTooLarge` or `UnsupportedInput` if the PDF's bytes exceed a bound."""
    objects = len(_OBJ.findall(data))
    if objects > limits.max_objects:
        raise InputTooLarge(f"the PDF has more than {limits.max_objects} objects")
    structure = _without_streams(data)
    if len(structure) > limits.max_structure_bytes:
        raise InputTooLarge(f"the PDF has more than {limits.max_structure_bytes} bytes outside its streams")
    budget = [limits.max_inflated_bytes]
    pos = 0
    parts = [structure]  # where dictionaries live: outside streams, and inside object streams
    most_draws = 0  # the most `Do` operators (XObjects drawn) in any one content stream
    for kw, start in _streams(data):
        head = data[max(data.rfind(b"obj", 0, kw), pos, 0):kw]
        end = _stream_end(data, head, start)
        pos = max(end, start)
        filters = _filters(head)
        if re.search(rb"/Subtype\s*/Image\b", head):
            width, height = (_int_entry(head, k) for k in (b"Width", b"Height"))
            if width * height > limits.max_pixels:
                raise InputTooLarge(f"an image in the PDF has {width * height} pixels; at most "
                                    f"{limits.max_pixels} are read")
        if any(f not in _SAFE_FILTERS for f in filters) or (b"FlateDecode" in filters and len(filters) > 1):
            raise UnsupportedInput("the PDF uses a stream filter a certificate does not use ("
                                   + " ".join(f.decode("latin-1") for f in filters) + ")")
        content = data[start:end] if not filters else b""
        if filters == [b"FlateDecode"]:
            content = _inflate(data[start:end], budget, limits.max_inflated_bytes)
            if re.search(rb"/Type\s*/ObjStm\b", head):
                parts.append(content)
        if b"Do" in content:
            most_draws = max(most_draws, len(_DO.findall(content)))
    forms = 0
    for part in parts:
        _check_depth(part, limits.max_depth)
        forms += len(re.findall(rb"/Subtype\s*/Form\b", part))
        if forms > limits.max_forms:
            raise InputTooLarge(f"the PDF has more than {limits.max_forms} form XObjects")
    # Forms can draw forms: with `forms` of them, each stream drawing at most `most_draws` XObjects, a
    # page can draw up to most_draws ** (forms + 1) objects. A PDF library parses every one of them.
    if forms:
        draws = 1
        for _ in range(forms + 1):
            draws *= max(most_draws, 1)
            if draws > limits.max_form_draws:
                raise InputTooLarge(f"the PDF's forms can draw each other more than {limits.max_form_draws} "
                                    "times over")


def _streams(data: bytes) -> list[tuple[int, int]]:
    """(offset of each `stream` keyword, offset of its data), found with plain byte searches."""
    out = []
    at = data.find(b"stream")
    while at >= 0:
        after = at + 6
        if (at == 0 or data[at - 1] not in b"dD") and data[after:after + 1] in (b"\n", b"\r"):
            start = after + (2 if data[after:after + 2] == b"\r\n" else 1)
            out.append((at, start))
            end = data.find(b"endstream", start)
            at = data.find(b"stream", (end + 9) if end >= 0 else len(data))
        else:
            at = data.find(b"stream", after)
    return out


def _stream_end(data: bytes, head: bytes, start: int) -> int:
    """Where a stream's data ends: its /Length (resolved if indirect) or the next `endstream`,
    whichever is further, so a fake `endstream` inside the data hides nothing from the scan."""
    marker = data.find(b"endstream", start)
    end = marker if marker >= 0 else len(data)
    m = _LENGTH.search(head)
    if m is not None:
        if m.group(2):
            target = re.search(rb"\b" + m.group(1) + rb"\s+" + m.group(3) + rb"\s+obj\s*(\d+)", data)
            length = int(target.group(1)) if target else 0
        else:
            length = int(m.group(1))
        end = max(end, min(start + length, len(data)))
    return end


def _filters(head: bytes) -> list[bytes]:
    m = _FILTER.search(head)
    if m is None:
        return []
    return re.findall(rb"/([A-Za-z0-9]+)", m.group(1))


def _int_entry(head: bytes, key: bytes) -> int:
    m = _INT_ENTRY[key].search(head)
    return int(m.group(1)) if m else 0


def _inflate(body: bytes, budget: list[int], total: int) -> bytes:
    """Inflate `body` within what is left of the budget, checking as it goes."""
    inflater = zlib.decompressobj()
    out: list[bytes] = []
    pending = body
    while pending and not inflater.eof:
        try:
            piece = inflater.decompress(pending, min(_CHUNK, budget[0] + 1))
        except zlib.error:
            break  # damaged data: the PDF library will refuse or skip it; nothing more is inflated here
        budget[0] -= len(piece)
        if budget[0] < 0:
            raise InputTooLarge(f"the PDF's streams inflate to more than {total} bytes")
        out.append(piece)
        pending = inflater.unconsumed_tail
        if not piece and not pending:
            break
    return b"".join(out)


def _without_streams(data: bytes) -> bytes:
    out, pos = [], 0
    for kw, start in _streams(data):
        out.append(data[pos:kw])
        end = data.find(b"endstream", start)
        pos = end + 9 if end >= 0 else len(data)
    out.append(data[pos:])
    return b"".join(out)


def _check_depth(text: bytes, max_depth: int) -> None:
    depth = 0
    i = 0
    n = len(text)
    in_string = 0
    while i < n:
        c = text[i]
        if in_string:
            if c == 0x5C:  # backslash escapes the next byte
                i += 1
            elif c == 0x28:
                in_string += 1
            elif c == 0x29:
                in_string -= 1
        elif c == 0x28:  # (
            in_string = 1
        elif c in (0x5B,) or (c == 0x3C and i + 1 < n and text[i + 1] == 0x3C):  # [ or <<
            depth += 1
            if depth > max_depth:
                raise InputTooLarge(f"the PDF's objects are nested deeper than {max_depth} levels")
            if c == 0x3C:
                i += 1
        elif c == 0x5D or (c == 0x3E and i + 1 < n and text[i + 1] == 0x3E):  # ] or >>
            depth = max(depth - 1, 0)
            if c == 0x3E:
                i += 1
        i += 1
