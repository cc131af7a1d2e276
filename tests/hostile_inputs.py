"""Hostile inputs an attacker would send, built in the tests (no binary fixtures)."""

from __future__ import annotations

from typing import Any

from keys.did import did_key_from_public
from keys.material import SigningKey
from keys.multikey import multibase_b58_encode

_SIGNER = SigningKey.generate()
DID_KEY = did_key_from_public(_SIGNER.public_key)


def poison_credential(nodes: int = 10) -> dict[str, Any]:
    """A credential whose blank nodes form a clique (the shape of the W3C rdf-canon poison graph).

    Its proof names a key that resolves offline (any did:key), so the verifier must canonicalize it
    before it can find the signature wrong: RDFC-1.0 without a work limit runs for hours on it.
    """
    knows = "https://example.org/vocab#knows"
    subjects = [{"id": f"_:n{i}", knows: [{"id": f"_:n{j}"} for j in range(nodes) if j != i]} for i in range(nodes)]
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": DID_KEY,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": subjects,
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-01-01T00:00:00Z",
            "verificationMethod": f"{DID_KEY}#{DID_KEY.removeprefix('did:key:')}",
            "proofPurpose": "assertionMethod",
            "proofValue": multibase_b58_encode(_SIGNER.sign(b"not this document")),
        },
    }


def valid_credential() -> dict[str, Any]:
    """A small credential correctly signed by a did:key issuer (verifies wherever any issuer is trusted)."""
    from issuer.sign import IssuerKey, sign_document

    doc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
           "issuer": DID_KEY, "validFrom": "2026-01-01T00:00:00Z",
           "credentialSubject": {"id": "did:example:holder", "name": "张三"}}
    key = IssuerKey(f"{DID_KEY}#{DID_KEY.removeprefix('did:key:')}", _SIGNER.sign)
    return sign_document(doc, key, created="2026-01-01T00:00:00Z")


# --- hostile PDFs, written byte by byte ----------------------------------------------------------------
def _zero_bomb(inflated_mib: int) -> bytes:
    """A zlib stream that inflates to `inflated_mib` MiB of zeros (about 1 KB per MiB): one compressed
    block repeated, each ended by a full flush so the copies are independent."""
    import zlib

    mib = b"\0" * (1024 * 1024)
    c = zlib.compressobj(9)
    first = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    return first + block * (inflated_mib - 1) + c.flush()


def _pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF of the given object bodies (object i+1 is objects[i]) with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(entries: str, data: bytes) -> bytes:
    return f"<< {entries} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << %s >> /Contents 4 0 R >>"


def pdf_with_attachment_bomb(inflated_mib: int) -> bytes:
    """A one-page PDF whose attached credential.jsonld inflates to `inflated_mib` MiB."""
    bomb = _zero_bomb(inflated_mib)
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(credential.jsonld) 5 0 R] >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        _PAGE % b"",
        _stream("", b"BT ET"),
        b"<< /Type /Filespec /F (credential.jsonld) /UF (credential.jsonld) /EF << /F 6 0 R >> >>",
        _stream("/Type /EmbeddedFile /Subtype /application#2Fld+json /Filter /FlateDecode", bomb),
    ])


def pdf_with_nested_forms(draws: int = 10, levels: int = 9) -> bytes:
    """Form XObjects drawing the next level `draws` times, over `levels` levels: draws**levels objects."""
    forms = []
    for level in range(levels):
        body = (f"/F{level + 1} Do\n" * draws).encode() if level < levels - 1 else b"0 0 1 1 re f"
        res = f"/Resources << /XObject << /F{level + 1} {6 + level} 0 R >> >>" if level < levels - 1 else ""
        forms.append(_stream(f"/Type /XObject /Subtype /Form /BBox [0 0 10 10] {res}", body))
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        _PAGE % b"/XObject << /F0 5 0 R >>",
        _stream("", b"/F0 Do\n" * draws),
        *forms,
    ])


def pdf_with_huge_image(side: int = 40000) -> bytes:
    """A page drawing a side × side greyscale image (its zeros compressed: 1.5 GB of pixels, 1.5 MB)."""
    pixels = _zero_bomb(side * side // (1024 * 1024) + 1)
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        _PAGE % b"/XObject << /Im0 5 0 R >>",
        _stream("", b"q 595 0 0 842 0 0 cm /Im0 Do Q"),
        _stream(f"/Type /XObject /Subtype /Image /Width {side} /Height {side} /ColorSpace /DeviceGray "
                "/BitsPerComponent 8 /Filter /FlateDecode", pixels),
    ])


def png_header_only(side: int = 40000) -> bytes:
    """A PNG that claims side × side pixels (its header alone; the decoder must never start)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", _zero_bomb(4)) + chunk(b"IEND", b"")
