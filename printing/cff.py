"""Assemble the small CID-keyed CFF font program that one page embeds (Adobe TN #5176, #5014).

The page's glyphs (desubroutinized Type 2 charstrings, kept by `printing.fonts`) become CIDs 1..n in
the order given; CID 0 is .notdef. Each source font DICT that a glyph uses becomes one entry of the
FDArray with its own Private DICT (so hinting zones and nominal widths stay right). No subroutines,
so nothing else of the source fonts is needed. The program is embedded as FontFile3 /CIDFontType0C.

Everything is byte concatenation: a page's font is built in well under a millisecond.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from printing.fonts import FdKey, Glyph

_NOTDEF = b"\x0e"  # endchar: an empty .notdef of the default width


def _index(items: Sequence[bytes]) -> bytes:
    """A CFF INDEX: count, offset size, 1-based offsets, data."""
    if not items:
        return b"\x00\x00"
    data = b"".join(items)
    last = len(data) + 1
    off_size = 1 if last < 1 << 8 else 2 if last < 1 << 16 else 3 if last < 1 << 24 else 4
    offsets = bytearray()
    position = 1
    offsets += position.to_bytes(off_size, "big")
    for item in items:
        position += len(item)
        offsets += position.to_bytes(off_size, "big")
    return len(items).to_bytes(2, "big") + bytes([off_size]) + bytes(offsets) + data


def _int(value: int) -> bytes:
    """A DICT integer operand in the fixed 5-byte form, so that offsets can be laid out in one pass."""
    return b"\x1d" + int(value).to_bytes(4, "big", signed=True)


def _op(*codes: int) -> bytes:
    return bytes(codes)


FONT_BBOX = (-1000, -1000, 2000, 1500)


def build_cid_cff(
    name: str,
    glyphs: Sequence[Glyph],
    private_for: Callable[[FdKey], bytes],
) -> bytes:
    """The CFF data of a CID-keyed font whose CID i (1..n) draws `glyphs[i-1]`."""
    fds: list[FdKey] = []
    fd_of: dict[FdKey, int] = {}
    for glyph in glyphs:
        if glyph.fd not in fd_of:
            fd_of[glyph.fd] = len(fds)
            fds.append(glyph.fd)
    if not fds:
        fds.append((0, 0))
        fd_of[(0, 0)] = 0
    n_glyphs = len(glyphs) + 1

    header = b"\x01\x00\x04\x04"
    name_index = _index([name.encode("ascii")])
    strings = _index([b"Adobe", b"Identity"])  # SIDs 391 and 392 (the first non-standard strings)
    global_subrs = _index([])
    if n_glyphs > 1:  # charset format 2: one range, CID 1.. for GID 1..
        charset = b"\x02" + (1).to_bytes(2, "big") + (n_glyphs - 2).to_bytes(2, "big")
    else:
        charset = b"\x00"
    fd_select = b"\x00" + bytes([fd_of[fds[0]]]) + bytes(fd_of[g.fd] for g in glyphs)
    charstrings = _index([_NOTDEF, *(g.charstring for g in glyphs)])
    privates = [private_for(fd) for fd in fds]

    # Top DICT: every operand has the fixed 5-byte form, so its length is known before the offsets.
    def top_dict(charset_at: int, fd_select_at: int, charstrings_at: int, fd_array_at: int) -> bytes:
        return (
            _int(391) + _int(392) + _int(0) + _op(12, 30)  # ROS Adobe-Identity-0
            + _int(n_glyphs) + _op(12, 34)  # CIDCount
            + b"".join(_int(v) for v in FONT_BBOX) + _op(5)  # FontBBox
            + _int(charset_at) + _op(15)
            + _int(fd_select_at) + _op(12, 37)
            + _int(charstrings_at) + _op(17)
            + _int(fd_array_at) + _op(12, 36)
        )

    top_len = len(_index([top_dict(0, 0, 0, 0)]))
    charset_at = len(header) + len(name_index) + top_len + len(strings) + len(global_subrs)
    fd_select_at = charset_at + len(charset)
    charstrings_at = fd_select_at + len(fd_select)
    fd_array_at = charstrings_at + len(charstrings)

    def fd_dict(size: int, offset: int) -> bytes:
        return _int(size) + _int(offset) + _op(18)  # Private (size, offset)

    fd_array_len = len(_index([fd_dict(0, 0)] * len(fds)))
    private_at = fd_array_at + fd_array_len
    fd_dicts = []
    for private in privates:
        fd_dicts.append(fd_dict(len(private), private_at))
        private_at += len(private)
    return b"".join([
        header, name_index, _index([top_dict(charset_at, fd_select_at, charstrings_at, fd_array_at)]),
        strings, global_subrs, charset, fd_select, charstrings, _index(fd_dicts), *privates,
    ])
