"""Sealed OFD: the standard's signature structure, SM3 digests of every part, an SM2 signature.

    OFD.xml                              DocBody/Signatures → Doc_0/Signs/Signatures.xml
    Doc_0/Signs/Signatures.xml           MaxSignId, Signature ID="s1" Type="Seal" BaseLoc
    Doc_0/Signs/Sign_0/Signature.xml     SignedInfo: Provider, SignatureMethod (1.2.156.10197.1.501,
                                         SM2 with SM3), SignatureDateTime, References with the SM3
                                         digest (CheckMethod 1.2.156.10197.1.401) of every other part,
                                         StampAnnot at the seal's place on the page; SignedValue
    Doc_0/Signs/Sign_0/SignedValue.dat   what the signer returns for the bytes of Signature.xml

The signer is pluggable (`SealSigner`): `SoftwareSm2Signer` holds an SM2 key in software, for
development and tests; in production a certified signing device or service (a GB/T 38540 seal with
its certificate) implements the same two methods and its own `SealVerifier`.

The software signer's SignedValue.dat is DER, shaped after GB/T 38540's SES_Signature:
    SEQUENCE { toSign SEQUENCE { version INTEGER 4, seal SEQUENCE { esID IA5String, name UTF8String },
               timeInfo GeneralizedTime, dataHash BIT STRING (SM3 of Signature.xml),
               propertyInfo IA5String (the Signature.xml path) },
               signerKey BIT STRING (04‖x‖y), signatureAlgorithm OID 1.2.156.10197.1.501,
               signature BIT STRING (DER SEQUENCE { r, s }) }
It carries no seal-maker certificate chain (a development seal is not a certified one).

Verification (`verify_sealed`) recomputes every digest, refuses a part that is added, removed or
changed, and checks the signature over Signature.xml; the seal's key is trusted only if given.

Deviation from the 2016 XSD: its References/@CheckMethod lists only MD5 and SHA1; SM3 deployments
(and this writer) put SM3's OID there, so Signature.xml differs from the XSD in that one value.
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol
from xml.sax.saxutils import quoteattr

from cryptography.hazmat.primitives import hashes
from gmssl import sm2
from lxml import etree

from printing.layout import SEAL_CX, SEAL_CY, SEAL_R
from printing.ofd import der

SM3_OID: Final = "1.2.156.10197.1.401"
SM2_SM3_OID: Final = "1.2.156.10197.1.501"
SIGNS_DIR: Final = "Doc_0/Signs/"
SIGNATURES_PATH: Final = "Doc_0/Signs/Signatures.xml"
SIGNATURE_PATH: Final = "Doc_0/Signs/Sign_0/Signature.xml"
SIGNED_VALUE_PATH: Final = "Doc_0/Signs/Sign_0/SignedValue.dat"
NS: Final = "http://www.ofdspec.org/2016"
# The list of seals is not itself signed (the standard lets seals be added); with the one seal this
# writer makes, it must read exactly so.
SIGNATURES_XML: Final = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Signatures xmlns:ofd="{NS}"><ofd:MaxSignId>s1</ofd:MaxSignId>'
    f'<ofd:Signature ID="s1" Type="Seal" BaseLoc="/{SIGNATURE_PATH}"/></ofd:Signatures>'
).encode()
_N: Final = int(sm2.default_ecc_table["n"], 16)
_DEFAULT_ID: Final = b"1234567812345678"  # GM/T 0009's default signer ID
MAX_PARTS: Final = 256
MAX_PART_BYTES: Final = 20 * 1024 * 1024


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _crypt_sm2(private_hex: str, public_hex: str) -> sm2.CryptSM2:
    """gmssl's SM2 with the public key (hex x‖y) set as given. Its constructor drops a "04" prefix with
    `lstrip("04")`, which strips every leading '0' and '4': a key whose x begins with "04" (one in 256)
    became another point, and verifying with it raised or failed."""
    crypt = sm2.CryptSM2(private_key=private_hex, public_key="")
    crypt.public_key = public_hex
    return crypt


def _on_curve(public_hex: str) -> bool:
    """Whether hex x‖y is a point of the SM2 curve: y² = x³ + ax + b (mod p)."""
    table = sm2.default_ecc_table
    p, a, b = (int(table[k], 16) for k in ("p", "a", "b"))
    x, y = int(public_hex[:64], 16), int(public_hex[64:], 16)
    return x < p and y < p and (y * y - (x * x * x + a * x + b)) % p == 0


def _sm2_e(public_hex: str, message: bytes) -> bytes:
    """e = SM3(Z_A ‖ M), Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) (GB/T 32918.2, GM/T 0009)."""
    table = sm2.default_ecc_table
    z = sm3(len(_DEFAULT_ID * 8).to_bytes(2, "big") + _DEFAULT_ID + bytes.fromhex(
        table["a"] + table["b"] + table["g"] + public_hex))
    return sm3(z + message)


class SealError(ValueError):
    code = "invalid_seal"


class SealSigner(Protocol):
    """What seals an OFD: a name for Provider, and the SignedValue for the bytes of Signature.xml."""

    provider_name: str

    def signed_value(self, signature_xml: bytes, *, signed_at: datetime, property_info: str) -> bytes: ...


@dataclass(frozen=True)
class SealCheck:
    ok: bool
    reason: str
    signer_key: str | None = None  # hex 04‖x‖y of the key that signed, when it could be read


class SealVerifier(Protocol):
    def verify(self, signed_value: bytes, signature_xml: bytes) -> SealCheck: ...


class SoftwareSm2Signer:
    """An SM2 key held in software (development and tests). Never logs or returns the private key."""

    provider_name = "TitleCred software SM2 seal"

    def __init__(self, private_key: bytes, seal_name: str, seal_id: str = "TitleCred-dev-seal") -> None:
        d = int.from_bytes(private_key, "big")
        if not 1 <= d < _N - 1:
            raise SealError("the SM2 private key is out of range")
        self._d = f"{d:064x}"
        self.public_key = _crypt_sm2(self._d, "")._kg(d, sm2.default_ecc_table["g"])  # hex x‖y
        self._sm2 = _crypt_sm2(self._d, self.public_key)
        self.seal_name = seal_name
        self.seal_id = seal_id

    def __repr__(self) -> str:
        return f"SoftwareSm2Signer(public_key={self.public_key[:16]}…)"

    @staticmethod
    def generate_key() -> bytes:
        return (secrets.randbelow(_N - 2) + 1).to_bytes(32, "big")

    def _sign(self, message: bytes) -> tuple[int, int]:
        e = _sm2_e(self.public_key, message)
        while True:
            k = f"{secrets.randbelow(_N - 1) + 1:064x}"
            out = self._sm2.sign(e, k)
            if out:
                return int(out[:64], 16), int(out[64:], 16)

    def signed_value(self, signature_xml: bytes, *, signed_at: datetime, property_info: str) -> bytes:
        to_sign = der.sequence(
            der.integer(4),
            der.sequence(der.tlv(der.IA5_STRING, self.seal_id.encode("ascii")),
                         der.tlv(der.UTF8_STRING, self.seal_name.encode("utf-8"))),
            der.generalized_time(signed_at.astimezone(UTC)),
            der.bit_string(sm3(signature_xml)),
            der.tlv(der.IA5_STRING, property_info.encode("ascii")),
        )
        r, s = self._sign(to_sign)
        return der.sequence(to_sign, der.bit_string(bytes.fromhex("04" + self.public_key)), der.oid(SM2_SM3_OID),
                            der.bit_string(der.sequence(der.integer(r), der.integer(s))))


class SoftwareSm2Verifier:
    """Checks the software signer's SignedValue.dat: structure, data hash, SM2 signature."""

    def verify(self, signed_value: bytes, signature_xml: bytes) -> SealCheck:
        try:
            tag, body, end = der.read(signed_value)
            if tag != der.SEQUENCE or end != len(signed_value):
                return SealCheck(False, "SignedValue.dat is not one DER SEQUENCE")
            items = der.children(body)
            if len(items) != 4 or [t for t, _, _ in items] != [der.SEQUENCE, der.BIT_STRING, der.OID,
                                                                der.BIT_STRING]:
                return SealCheck(False, "SignedValue.dat does not have the seal structure")
            to_sign_enc = items[0][2]
            fields = der.children(items[0][1])
            if len(fields) != 5 or fields[3][0] != der.BIT_STRING:
                return SealCheck(False, "the signed part of SignedValue.dat is malformed")
            key = items[1][1][1:]
            if len(key) != 65 or key[0] != 4:
                return SealCheck(False, "the signer's key is not an uncompressed SM2 point")
            public_hex = key[1:].hex()
            if items[2][2] != der.oid(SM2_SM3_OID):
                return SealCheck(False, "the signature algorithm is not SM2 with SM3", public_hex)
            if fields[3][1][1:] != sm3(signature_xml):
                return SealCheck(False, "Signature.xml was changed after sealing (its SM3 hash differs)",
                                 "04" + public_hex)
            sig_tag, sig_body, sig_end = der.read(items[3][1][1:])
            rs = der.children(sig_body)
            if sig_tag != der.SEQUENCE or sig_end != len(items[3][1]) - 1 or len(rs) != 2:
                return SealCheck(False, "the SM2 signature is malformed", "04" + public_hex)
            r, s = (int.from_bytes(v, "big", signed=True) for _, v, _ in rs)
            if not (0 < r < _N and 0 < s < _N):
                return SealCheck(False, "the SM2 signature is out of range", "04" + public_hex)
            if not _on_curve(public_hex):
                return SealCheck(False, "the signer's key is not a point on the SM2 curve")
            checker = _crypt_sm2("", public_hex)
            try:
                verified = checker.verify(f"{r:064x}{s:064x}", _sm2_e(public_hex, to_sign_enc))
            except TypeError:
                # gmssl's point arithmetic returns None at the point at infinity, which only a
                # constructed signature reaches: not a valid signature, and not a crash.
                verified = False
            if not verified:
                return SealCheck(False, "the SM2 signature does not verify", "04" + public_hex)
            return SealCheck(True, "the SM2 signature over Signature.xml verifies", "04" + public_hex)
        except der.DerError as e:
            return SealCheck(False, f"SignedValue.dat cannot be read: {e}")


def _page_id(document_xml: bytes) -> str:
    root = etree.fromstring(document_xml, etree.XMLParser(resolve_entities=False, no_network=True))
    page = root.find(f"{{{NS}}}Pages/{{{NS}}}Page")
    if page is None:
        raise SealError("Document.xml has no page")
    return str(page.get("ID"))


def seal_parts(parts: Mapping[str, bytes], signer: SealSigner, *, signed_at: datetime) -> dict[str, bytes]:
    """`parts` (an unsealed OFD's) with the signature structure added, sealed by `signer`."""
    out = dict(parts)
    ofd_xml = out["OFD.xml"].decode("utf-8")
    if "<ofd:Signatures>" in ofd_xml or any(p.startswith(SIGNS_DIR) for p in out):
        raise SealError("the OFD is already sealed")
    out["OFD.xml"] = ofd_xml.replace(
        "</ofd:DocRoot>", f"</ofd:DocRoot><ofd:Signatures>{SIGNATURES_PATH}</ofd:Signatures>", 1).encode("utf-8")
    references = "".join(
        f'<ofd:Reference FileRef={quoteattr("/" + path)}><ofd:CheckValue>'
        f"{base64.b64encode(sm3(data)).decode('ascii')}</ofd:CheckValue></ofd:Reference>"
        for path, data in out.items())
    page_id = _page_id(out["Doc_0/Document.xml"])
    box = f"{SEAL_CX - SEAL_R:g} {SEAL_CY - SEAL_R:g} {2 * SEAL_R:g} {2 * SEAL_R:g}"
    signature_xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Signature xmlns:ofd="{NS}"><ofd:SignedInfo>'
        f"<ofd:Provider ProviderName={quoteattr(signer.provider_name)} Company=\"TitleCred\"/>"
        f"<ofd:SignatureMethod>{SM2_SM3_OID}</ofd:SignatureMethod>"
        f"<ofd:SignatureDateTime>{signed_at.astimezone(UTC).strftime('%Y%m%d%H%M%SZ')}</ofd:SignatureDateTime>"
        f'<ofd:References CheckMethod="{SM3_OID}">{references}</ofd:References>'
        f'<ofd:StampAnnot ID="sa1" PageRef="{page_id}" Boundary="{box}"/>'
        f"</ofd:SignedInfo><ofd:SignedValue>/{SIGNED_VALUE_PATH}</ofd:SignedValue></ofd:Signature>"
    ).encode()
    out[SIGNATURES_PATH] = SIGNATURES_XML
    out[SIGNATURE_PATH] = signature_xml
    out[SIGNED_VALUE_PATH] = signer.signed_value(signature_xml, signed_at=signed_at,
                                                 property_info="/" + SIGNATURE_PATH)
    return out


@dataclass(frozen=True)
class SealResult:
    sealed: bool
    ok: bool
    reason: str
    signer_key: str | None = None
    changed: tuple[str, ...] = ()


def read_parts(data: bytes) -> dict[str, bytes]:
    """The parts of an OFD package, read with bounds (count, size per part, ratio); `SealError` if not."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SealError("not an OFD (ZIP) package") from None
    infos = archive.infolist()
    if len(infos) > MAX_PARTS:
        raise SealError(f"the package has more than {MAX_PARTS} parts")
    parts: dict[str, bytes] = {}
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        if info.file_size > MAX_PART_BYTES or info.file_size > 200 * max(info.compress_size, 1):
            raise SealError(f"part {info.filename} is too large or too compressed to be read")
        total += info.file_size
        if total > MAX_PART_BYTES:
            raise SealError("the package is too large to be read")
        if info.filename in parts:
            raise SealError(f"part {info.filename} appears twice")
        try:
            parts[info.filename] = archive.read(info)
        except (zipfile.BadZipFile, OSError, RuntimeError) as e:
            raise SealError(f"part {info.filename} cannot be read: {e}") from None
    return parts


def verify_sealed(parts: Mapping[str, bytes], verifier: SealVerifier | None = None) -> SealResult:
    """Check the seal of an OFD's parts: every part referenced with its SM3 digest, none added, the
    signature over Signature.xml valid (`verifier`: the software format unless another is given)."""
    if SIGNATURES_PATH not in parts and not any(p.startswith(SIGNS_DIR) for p in parts):
        return SealResult(False, False, "the OFD is not sealed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        signature_xml = parts[SIGNATURE_PATH]
        root = etree.fromstring(signature_xml, parser)
        refs = root.find(f"{{{NS}}}SignedInfo/{{{NS}}}References")
        value_loc = root.findtext(f"{{{NS}}}SignedValue")
        ofd_root = etree.fromstring(parts["OFD.xml"], parser)
    except (KeyError, etree.XMLSyntaxError) as e:
        return SealResult(True, False, f"the signature structure cannot be read ({e})")
    if refs is None or refs.get("CheckMethod") != SM3_OID or value_loc != "/" + SIGNED_VALUE_PATH:
        return SealResult(True, False, "Signature.xml does not reference its parts by SM3")
    if parts.get(SIGNATURES_PATH) != SIGNATURES_XML:
        return SealResult(True, False, "Signatures.xml was changed (it must list exactly the one seal)",
                          changed=(SIGNATURES_PATH,))
    if ofd_root.findtext(f"{{{NS}}}DocBody/{{{NS}}}Signatures") != SIGNATURES_PATH:
        return SealResult(True, False, "OFD.xml does not point at the signatures")
    referenced: dict[str, str] = {}
    for ref in refs.findall(f"{{{NS}}}Reference"):
        path = str(ref.get("FileRef", "")).lstrip("/")
        referenced[path] = (ref.findtext(f"{{{NS}}}CheckValue") or "").strip()
    signed_parts = {p for p in parts if not p.startswith(SIGNS_DIR)}
    changed = sorted(p for p in signed_parts & set(referenced)
                     if base64.b64encode(sm3(parts[p])).decode("ascii") != referenced[p])
    added = sorted(signed_parts - set(referenced))
    removed = sorted(set(referenced) - signed_parts)
    extra_signs = sorted(p for p in parts if p.startswith(SIGNS_DIR)
                         and p not in (SIGNATURES_PATH, SIGNATURE_PATH, SIGNED_VALUE_PATH))
    if changed or added or removed or extra_signs:
        what = "; ".join(f"{label}: {', '.join(items)}" for label, items in
                         (("changed", changed), ("added", added + extra_signs), ("removed", removed)) if items)
        return SealResult(True, False, f"the OFD was altered after sealing ({what})",
                          changed=tuple(changed + added + removed + extra_signs))
    if SIGNED_VALUE_PATH not in parts:
        return SealResult(True, False, "the seal's SignedValue.dat is missing")
    check = (verifier or SoftwareSm2Verifier()).verify(parts[SIGNED_VALUE_PATH], signature_xml)
    if not check.ok:
        return SealResult(True, False, check.reason, check.signer_key)
    return SealResult(True, True, f"every part is as sealed (SM3) and {check.reason}", check.signer_key)


def seal_ofd(data: bytes, signer: SealSigner, *, signed_at: datetime | None = None) -> bytes:
    """Seal an unsealed OFD package made by `printing.ofd.package`."""
    from printing.ofd.package import zip_parts

    parts = read_parts(data)
    sealed = seal_parts(parts, signer, signed_at=signed_at or datetime.now(UTC))
    return zip_parts(sealed)


def fingerprint(public_key_hex: str) -> str:
    """A short, stable name of a seal key (SHA-256 of its 04‖x‖y point)."""
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:16]
