"""The little DER (ITU-T X.690) the software seal format needs: write, and read with bounds."""

from __future__ import annotations

from datetime import datetime

SEQUENCE = 0x30
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
OID = 0x06
UTF8_STRING = 0x0C
IA5_STRING = 0x16
GENERALIZED_TIME = 0x18


class DerError(ValueError):
    pass


def tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        head = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + value


def integer(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True)
    return tlv(INTEGER, raw)


def bit_string(value: bytes) -> bytes:
    return tlv(BIT_STRING, b"\x00" + value)


def oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray([parts[0] * 40 + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        out += bytes(reversed(chunk))
    return tlv(OID, bytes(out))


def generalized_time(when: datetime) -> bytes:
    return tlv(GENERALIZED_TIME, when.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def sequence(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))


def read(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """(tag, value, end) of the element at `pos`."""
    if pos + 2 > len(data):
        raise DerError("truncated DER element")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise DerError("bad DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise DerError("DER element runs past its container")
    return tag, data[pos:end], end


def children(value: bytes, max_items: int = 32) -> list[tuple[int, bytes, bytes]]:
    """(tag, value, encoding) of each element of a SEQUENCE's contents."""
    out: list[tuple[int, bytes, bytes]] = []
    pos = 0
    while pos < len(value):
        if len(out) >= max_items:
            raise DerError("too many DER elements")
        tag, inner, end = read(value, pos)
        out.append((tag, inner, value[pos:end]))
        pos = end
    return out
