"""The compact signed form of a minimal title credential, for QR codes (format TC1).

A QR code cannot hold a JSON-LD credential and a scanner cannot afford RDF canonicalization per scan
(≈3,000/s at best), so the QR carries the minimal credential's facts as a COSE_Sign1 (RFC 9052) over a
small CBOR map, signed with the same Ed25519 key (and verification method) that signs the credentials,
as the EU Digital COVID Certificate did at national scale. A verifier rebuilds the minimal credential
from the map (`credential_from_claims`) and checks the signature against the issuer's published key.

    QR text  = base_url + "/v#" + "TC1:" + base43( deflate_raw( COSE_Sign1 ), preset dictionary ZDICT )
    COSE     = tag 18 [ protected: bstr {1: -8 (EdDSA), 4: kid}, unprotected: {}, payload: bstr, signature ]
    kid      = the verification method id as UTF-8 bytes, e.g. b"did:web:hrss.example.gov.cn#key-1"
    signed   = Ed25519 over CBOR ["Signature1", protected, h'', payload]     (RFC 9052 §4.4)
    payload  = canonical CBOR (RFC 8949 §4.2.1) of the claims map below

The payload follows the URL's '#', so a phone's camera opens the verification page and the browser
never sends the credential to the server. base43 is RFC 9285 base45 without its two characters that
are not allowed in a URL fragment (space and '%'): 2 bytes → 3 characters, all of them in the QR code's
alphanumeric mode (5.5 bits per character) and in RFC 3986's fragment syntax. The preset deflate
dictionary holds the vocabulary of title certificates (series, qualifications, unit names), so that
"人力资源和社会保障局" costs a back-reference rather than 30 bytes; it is part of format TC1 and never
changes (a new dictionary is a new format).

Claims map (integer keys; all text is NFC UTF-8; absent keys are absent fields):
    0 format (1)          1 credential id       2 fullCredential      3 issuer name
    4 issuer unitCode     5 validFrom           6 validUntil          7 reissueOf
    8 status entries      9 subject (map)      10 signed at (the COSE signature's time, for key state)
  ids: a urn:uuid as its 16 bytes, anything else as text; times: epoch seconds when the credential
  wrote them as YYYY-MM-DDTHH:MM:SSZ, text otherwise; status: [[purpose, list URL, index(, id)]...] with
  purpose 0 revocation / 1 suspension, a URL under the issuer's did:web origin written from its path
  ("/status/revocation-1"), the index as an integer, the id 0 when it is "<URL>#<index>" (else text,
  else absent). The issuer id is the kid's DID; @context, type and credentialSchema are those of the
  minimal credential and not carried.
Subject map: 1 name, 2 namePinyin, 3 gender (1 男, 2 女), 4 idNumberMasked ([head, tail] for the
  18-character form, else text), 5 reportingUnit, 6 qualification, 7 series, 8 specialty, 9 level
  (1 正高级 … 5 员级), 10 reviewBody, 11 reviewChannel (0 评审, 1 自主评审, 2 自主聘任, 3 以考代评,
  4 委托评审, 5 换证), 12 dateQualified (days since 1970-01-01), 13 certificateNumber, 14 annotations,
  15 scopeOfUse, 16 namePrintedAsPinyin, 17 levelCode (only when it is not the level's letter),
  18 eLicenseIdentifier (GB/T 36904, as text; optional, added without a new format: older QR codes lack it).
  Every enumerated field falls back to text for a value outside its table.

The encoder is lossless or refuses (`not_compactable`): a credential with a field this format does not
know is never signed in a form that silently drops it. The decoder accepts only canonical CBOR (one
byte string per meaning), no tags but the COSE tag, and bounded sizes.

This module is the format and its signature primitive; it never resolves keys or judges trust (the
verifier does), and it never carries a full resident ID number (`idNumber` is refused).
"""

from __future__ import annotations

import io
import re
import struct
import threading
import unicodedata
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import cbor2

from proofs.dataintegrity import format_datetime, parse_datetime
from proofs.errors import ProofLayerError
from schemas import CREDENTIALS_V2_URL, TITLE_CONTEXT_URL
from schemas.text import is_printable
from schemas.validate import MINIMAL_SCHEMA_ID

__all__ = [
    "FORMAT_PREFIX",
    "CompactError",
    "CompactSign1",
    "b43decode",
    "b43encode",
    "claims_from_credential",
    "credential_from_claims",
    "decode_cose",
    "encode_cose",
    "extract_payload_text",
    "make_qr_text",
    "qr_version_for",
    "read_qr_text",
    "sig_structure",
]

FORMAT_PREFIX: Final = "TC1:"
FORMAT_VERSION: Final = 1
COSE_SIGN1_TAG: Final = 18
ALG_EDDSA: Final = -8
# Bounds on what a stranger's QR code can make us process. A QR code holds at most 4,296 characters.
MAX_QR_TEXT: Final = 4296
MAX_COSE_BYTES: Final = 8192
MAX_KID_BYTES: Final = 512
MAX_CBOR_DEPTH: Final = 6
MAX_CBOR_ITEMS: Final = 400

MINIMAL_CONTEXT: Final = (CREDENTIALS_V2_URL, TITLE_CONTEXT_URL)
MINIMAL_TYPE: Final = ("VerifiableCredential", "ProfessionalTitleCredential", "MinimalTitleCredential")
SUBJECT_TYPE: Final = "ProfessionalTitleHolder"

# Enumerations of format TC1 (frozen here, not read from schemas.titles: the meaning of a code must
# never change when reference data does).
LEVELS_V1: Final = ("正高级", "副高级", "中级", "助理级", "员级")
LEVEL_LETTERS_V1: Final = ("A", "B", "C", "D", "E")
CHANNELS_V1: Final = ("评审", "自主评审", "自主聘任", "以考代评", "委托评审", "换证")
GENDERS_V1: Final = ("男", "女")
PURPOSES_V1: Final = ("revocation", "suspension")


class CompactError(ProofLayerError):
    """A QR text or compact form that cannot be read, or a credential that cannot be made compact."""

    code = "malformed_compact"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


# --- base43 -------------------------------------------------------------------------------------------

# RFC 9285's alphabet without ' ' and '%': every character is QR-alphanumeric and legal in a fragment.
B43_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ$*+-./:"
_B43_VALUE: Final = {c: i for i, c in enumerate(B43_ALPHABET)}
_table_lock = threading.Lock()
_triples: dict[str, bytes] | None = None


def b43encode(data: bytes) -> str:
    """Each 2 bytes (big-endian n < 65536 ≤ 43³) → 3 characters c0 c1 c2 with n = c0 + 43·c1 + 43²·c2;
    a final single byte → 2 characters (as RFC 9285 §4)."""
    out = []
    a = B43_ALPHABET
    for i in range(0, len(data) - 1, 2):
        n = (data[i] << 8) | data[i + 1]
        high, rest = divmod(n, 1849)
        mid, low = divmod(rest, 43)
        out.append(a[low] + a[mid] + a[high])
    if len(data) % 2:
        mid, low = divmod(data[-1], 43)
        out.append(a[low] + a[mid])
    return "".join(out)


def _triple_table() -> dict[str, bytes]:
    # Decoding is per scan, so it is a table lookup per 3 characters (65,536 entries, built once).
    global _triples
    if _triples is None:
        with _table_lock:
            if _triples is None:
                a = B43_ALPHABET
                table = {}
                for n in range(65536):
                    high, rest = divmod(n, 1849)
                    mid, low = divmod(rest, 43)
                    table[a[low] + a[mid] + a[high]] = struct.pack(">H", n)
                _triples = table
    return _triples


def b43decode(text: str) -> bytes:
    """Inverse of `b43encode`; `CompactError` (code `malformed_qr`) for any other text."""
    table = _triple_table()
    full = len(text) - len(text) % 3
    try:
        head = b"".join([table[text[i:i + 3]] for i in range(0, full, 3)])
    except KeyError:
        raise CompactError("the QR text has characters or groups that base43 does not produce",
                           "malformed_qr") from None
    rest = text[full:]
    if not rest:
        return head
    if len(rest) != 2 or rest[0] not in _B43_VALUE or rest[1] not in _B43_VALUE:
        raise CompactError("the QR text has a length that base43 does not produce", "malformed_qr")
    value = _B43_VALUE[rest[0]] + 43 * _B43_VALUE[rest[1]]
    if value > 255:
        raise CompactError("the QR text ends in a group that base43 does not produce", "malformed_qr")
    return head + bytes([value])


# --- deflate with the TC1 dictionary ------------------------------------------------------------------

# The most frequent strings go last (deflate's shortest distances). Never edit: it is part of TC1.
_ZDICT_WORDS: Final = (
    "Zhang Wang Li Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao Zheng Liang Xie Song "
    "Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang Yu Du Ye Cheng Wei Su Lu Ding Ren "
    "xiao ming hua jian guo wei hong ying ling jun ping yan qiang lei jie tao hui fang xin yu li na "
    "https:// did:web: did:key:z6Mk .gov.cn http://127.0.0.1:8000/status/revocation-/status/suspension-"
    "北京天津河北山西内蒙古辽宁吉林黑龙江上海江苏浙江安徽福建江西山东河南湖北湖南广东广西海南重庆四川贵州"
    "云南西藏陕西甘肃青海宁夏回族自治区新疆维吾尔自治区新疆生产建设兵团"
    "高等学校教师中等职业学校教师中小学教师技工院校教师实验技术工程技术农业技术卫生技术经济专业会计统计"
    "审计新闻出版广播电视艺术体育文物博物图书资料档案群众文化翻译律师公证船舶民用航空飞行"
    "教授副教授讲师助教正高级讲师高级讲师助理讲师正高级教师高级教师一级教师二级教师三级教师"
    "研究员副研究员助理研究员研究实习员正高级实验师高级实验师实验师助理实验师实验员"
    "主任医师副主任医师主治医师医师医士主任药师副主任药师主管药师药师药士主任护师副主任护师主管护师护师护士"
    "主任技师副主任技师主管技师技师技士正高级经济师高级经济师经济师助理经济师"
    "正高级会计师高级会计师会计师助理会计师会计员正高级统计师高级统计师统计师助理统计师统计员"
    "正高级审计师高级审计师审计师助理审计师农业技术推广研究员高级农艺师农艺师助理农艺师农业技术员"
    "高级兽医师兽医师高级畜牧师畜牧师高级工艺美术师工艺美术师编审副编审编辑助理编辑记者主任记者高级记者"
    "一级律师二级律师三级律师四级律师公证员一级公证员二级公证员三级公证员"
    "正高级工程师高级工程师工程师助理工程师技术员"
    "给排水暖通电气自动化机械化工冶金采矿地质测绘水利交通通信计算机软件信息电子环境安全道路与桥梁"
    "土木工程建筑工程工程管理造价临床医学内科外科护理药学中医语文数学英语物理化学生物历史地理政治"
    "音乐美术农学园艺林业畜牧兽医水产人力资源金融财务管理"
    "股份有限公司有限责任公司集团有限公司分公司研究院研究所设计院设计研究院勘察设计规划设计"
    "职业技术学院大学学院人民医院中医院妇幼保健院卫生院疾病预防控制中心中心学校中学小学幼儿园"
    "交通运输局水利局农业农村局自然资源局生态环境局教育局卫生健康委员会财政局统计局审计局"
    "市场监督管理局应急管理局文化和旅游局工业和信息化局科学技术局发展和改革委员会人民政府办公室"
    "住房和城乡建设局住房和城乡建设厅中国国家第一第二第三省市区县镇街道"
    "仅限在民营企业非公有制经济组织范围内使用以考代评自主聘任委托评审换证自主评审"
    "初级职称评审委员会中级职称评审委员会高级职称评审委员会职称评审委员会专业技术"
    "示例市人力资源和社会保障厅人力资源和社会保障局"
)
ZDICT: Final = _ZDICT_WORDS.encode("utf-8")


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, ZDICT)
    return compressor.compress(data) + compressor.flush()


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj(-15, zdict=ZDICT)
    try:
        out = inflater.decompress(data, MAX_COSE_BYTES + 1)
    except zlib.error:
        raise CompactError("the QR text is damaged or altered: its compressed data does not decode",
                           "malformed_qr") from None
    if len(out) > MAX_COSE_BYTES:
        raise CompactError(f"the QR payload expands beyond {MAX_COSE_BYTES} bytes", "input_too_large")
    if not inflater.eof or inflater.unused_data:
        raise CompactError("the QR text is damaged or altered: its compressed data is cut short or has "
                           "extra bytes", "malformed_qr")
    return out


# --- QR text ------------------------------------------------------------------------------------------


def make_qr_text(base_url: str, cose: bytes) -> str:
    """The text of the QR code: a link to the verification page with the payload in the fragment."""
    if not isinstance(base_url, str) or "#" in base_url or not re.match(r"^https?://", base_url):
        raise CompactError("the base URL must be an http(s) URL without a fragment", "invalid_base_url")
    return f"{base_url.rstrip('/')}/v#{FORMAT_PREFIX}{b43encode(_deflate(cose))}"


def extract_payload_text(qr_text: str) -> str:
    """The part after "TC1:" of a QR text (a full link or the bare payload); `CompactError` otherwise."""
    if not isinstance(qr_text, str):
        raise CompactError("a QR text must be text", "not_titlecred_qr")
    if len(qr_text) > MAX_QR_TEXT:
        raise CompactError(f"the QR text is longer than any QR code holds ({MAX_QR_TEXT} characters)",
                           "input_too_large")
    text = qr_text.strip()
    _, sep, fragment = text.rpartition("#")
    candidate = fragment if sep else text
    if not candidate.startswith(FORMAT_PREFIX):
        raise CompactError("this is not a TitleCred certificate QR code (no TC1: payload)", "not_titlecred_qr")
    return candidate[len(FORMAT_PREFIX):]


def read_qr_text(qr_text: str) -> bytes:
    """The COSE_Sign1 bytes carried by a QR text."""
    return _inflate(b43decode(extract_payload_text(qr_text)))


# QR data capacity in bits at error correction level M, versions 1–40 (ISO/IEC 18004 Table 7).
_CAPACITY_M: Final = (
    128, 224, 352, 512, 688, 864, 992, 1232, 1456, 1728, 2032, 2320, 2672, 2920, 3320, 3624, 4056, 4504,
    5016, 5352, 5712, 6256, 6880, 7312, 8000, 8496, 9024, 9544, 10136, 10984, 11640, 12328, 13048, 13800,
    14496, 15312, 15936, 16816, 17728, 18672,
)


def qr_version_for(qr_text: str) -> int:
    """The smallest QR version (level M) that holds `qr_text` as two segments: the link up to and including
    "TC1:" in byte mode, the base43 payload in alphanumeric mode. 41 if none does."""
    head, sep, tail = qr_text.rpartition(FORMAT_PREFIX)
    if not sep:
        head, tail = qr_text, ""
    else:
        head += sep
    head_bytes = len(head.encode("utf-8"))
    for version in range(1, 41):
        byte_cc = 8 if version < 10 else 16
        alnum_cc = 9 if version < 10 else 11 if version < 27 else 13
        bits = 4 + byte_cc + 8 * head_bytes
        if tail:
            bits += 4 + alnum_cc + 11 * (len(tail) // 2) + 6 * (len(tail) % 2)
        if bits <= _CAPACITY_M[version - 1]:
            return version
    return 41


# --- COSE_Sign1 ---------------------------------------------------------------------------------------


def _bstr_head(length: int) -> bytes:
    """The CBOR head of a byte string of `length` bytes (RFC 8949 §3.1, major type 2)."""
    if length < 24:
        return bytes([0x40 + length])
    if length < 0x100:
        return bytes([0x58, length])
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    return b"\x5a" + length.to_bytes(4, "big")


# CBOR array(4), text "Signature1" (the context of a COSE_Sign1 signature, RFC 9052 §4.4)
_SIG1_PREFIX: Final = b"\x84\x6aSignature1"


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """The bytes Ed25519 signs: CBOR ["Signature1", protected, h'' (no external data), payload]
    (written directly: this is on every scan's path)."""
    return b"".join((_SIG1_PREFIX, _bstr_head(len(protected)), protected, b"\x40", _bstr_head(len(payload)),
                     payload))


def encode_cose(claims: Mapping[int, Any], kid: str, sign: Callable[[bytes], bytes]) -> bytes:
    """Sign `claims` (see the module docstring) as a COSE_Sign1 with EdDSA under `kid`."""
    kid_bytes = kid.encode("utf-8")
    if not kid or len(kid_bytes) > MAX_KID_BYTES or "#" not in kid:
        raise CompactError("the kid must be a verification method id (a DID URL with a fragment)",
                           "not_compactable")
    protected = cbor2.dumps({1: ALG_EDDSA, 4: kid_bytes}, canonical=True)
    payload = cbor2.dumps(dict(claims), canonical=True)
    signature = sign(sig_structure(protected, payload))
    if len(signature) != 64:
        raise CompactError("an Ed25519 signature is 64 bytes", "not_compactable")
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


@dataclass(frozen=True)
class CompactSign1:
    """A decoded COSE_Sign1 of format TC1: what is signed, by which key, and the claims."""

    kid: str
    protected: bytes
    payload: bytes
    signature: bytes
    claims: dict[int, Any]

    @property
    def issuer(self) -> str:
        return self.kid.split("#", 1)[0]

    @property
    def to_be_signed(self) -> bytes:
        return sig_structure(self.protected, self.payload)

    def verify(self, verify: Callable[[bytes, bytes], bool]) -> bool:
        """Check the signature with a public key's `verify(message, signature) -> bool`."""
        return bool(verify(self.to_be_signed, self.signature))


def _refuse_tag(decoder: Any, tag: Any = None) -> Any:
    raise CompactError("the compact form contains a CBOR tag that format TC1 does not use", "malformed_compact")


# Tags cbor2 would otherwise interpret (dates, bignums, shared values, regular expressions, MIME...).
_REFUSED_TAGS: Final = {t: _refuse_tag for t in (*range(0, 18), *range(19, 40), 100, 256, 258, *range(260, 267),
                                                  270, 1004, 1040, 55799)}


def _loads(data: bytes, *, outer: bool = False) -> Any:
    # cbor2 5 calls tag_hook(decoder, tag), cbor2 6 tag_hook(tag, immutable): take the tag wherever it is.
    def tag_hook(*args: Any) -> Any:
        tag = next((a for a in args if isinstance(a, cbor2.CBORTag)), None)
        if outer and tag is not None and tag.tag == COSE_SIGN1_TAG:
            return tag
        return _refuse_tag(None)

    try:
        fp = io.BytesIO(data)
        value = cbor2.CBORDecoder(fp, tag_hook=tag_hook, semantic_decoders=_REFUSED_TAGS,
                                  max_depth=MAX_CBOR_DEPTH, allow_indefinite=False, allow_duplicate_keys=False,
                                  str_errors="strict").decode()
    except CompactError:
        raise
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError, OverflowError) as e:
        raise CompactError(f"the QR payload is not well-formed CBOR ({type(e).__name__})",
                           "malformed_compact") from None
    # One encoding per meaning: bytes after the item would let two QR texts carry one signature.
    if fp.tell() != len(data):
        raise CompactError("the QR payload has bytes after its CBOR item", "malformed_compact")
    return value


_SCALARS: Final = frozenset({str, bytes, bool})


def _check_plain(value: Any) -> None:
    """Only integers, text, bytes, booleans, arrays and maps with integer keys, within bounds.
    (Per scan: written for speed, exact types only; cbor2 already bounds the depth.)"""
    stack = [value]
    count = 0
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_CBOR_ITEMS:
            raise CompactError("the compact form is larger than format TC1 allows", "input_too_large")
        kind = type(item)
        if kind in _SCALARS:
            continue
        if kind is int:
            if not -(2 ** 63) <= item < 2 ** 64:
                raise CompactError("an integer in the compact form is out of range", "malformed_compact")
        elif kind is list:
            stack.extend(item)
        elif kind is dict:
            for k in item:
                if type(k) is not int:
                    raise CompactError("the compact form has a map key that is not an integer",
                                       "malformed_compact")
            stack.extend(item.values())
        else:
            raise CompactError(f"the compact form holds a value of a kind TC1 does not use ({kind.__name__})",
                               "malformed_compact")


def decode_cose(data: bytes) -> CompactSign1:
    """Parse a COSE_Sign1 of format TC1 (no signature check; see `CompactSign1.verify`)."""
    if len(data) > MAX_COSE_BYTES:
        raise CompactError(f"the compact form is larger than {MAX_COSE_BYTES} bytes", "input_too_large")
    outer = _loads(data, outer=True)
    if not isinstance(outer, cbor2.CBORTag) or outer.tag != COSE_SIGN1_TAG:
        raise CompactError("the QR payload is not a COSE_Sign1 (tag 18)", "malformed_compact")
    body = outer.value  # a tag's content may come back immutable (tuple, frozendict)
    if not (isinstance(body, list | tuple) and len(body) == 4 and isinstance(body[0], bytes)
            and isinstance(body[1], Mapping) and isinstance(body[2], bytes) and isinstance(body[3], bytes)):
        raise CompactError("the COSE_Sign1 structure is malformed", "malformed_compact")
    protected, unprotected, payload, signature = body
    if unprotected:
        raise CompactError("format TC1 puts nothing in the unprotected header", "malformed_compact")
    header = _loads(protected)
    if not isinstance(header, dict) or set(header) != {1, 4}:
        raise CompactError("the protected header must hold exactly alg and kid", "malformed_compact")
    if header[1] != ALG_EDDSA:
        raise CompactError(f"the signature algorithm {header[1]!r} is not EdDSA (-8)", "unsupported_algorithm")
    kid_raw = header[4]
    if not isinstance(kid_raw, bytes) or not 0 < len(kid_raw) <= MAX_KID_BYTES:
        raise CompactError("the kid must be a byte string", "malformed_compact")
    try:
        kid = kid_raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CompactError("the kid is not UTF-8", "malformed_compact") from None
    if cbor2.dumps(header, canonical=True) != protected:
        raise CompactError("the protected header is not canonical CBOR", "malformed_compact")
    if len(signature) != 64:
        raise CompactError(f"the signature is {len(signature)} bytes; Ed25519 needs 64", "malformed_compact")
    claims = _loads(payload)
    if not isinstance(claims, dict):
        raise CompactError("the payload is not a CBOR map", "malformed_compact")
    _check_plain(claims)
    if cbor2.dumps(claims, canonical=True) != payload:
        raise CompactError("the payload is not canonical CBOR (one encoding per meaning)", "malformed_compact")
    return CompactSign1(kid, protected, payload, signature, claims)


# --- claims ↔ minimal credential ----------------------------------------------------------------------

_UUID_URN = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MASKED_18 = re.compile(r"([0-9]{3})\*{11}([0-9X]{4})")
_EPOCH = date(1970, 1, 1)


def _not_compactable(message: str) -> CompactError:
    return CompactError(message, "not_compactable")


def _enc_id(value: Any, name: str) -> bytes | str:
    if not isinstance(value, str) or not value:
        raise _not_compactable(f"{name} must be a non-empty string")
    if _UUID_URN.fullmatch(value):
        return uuid.UUID(value[9:]).bytes
    return value


def _dec_id(value: Any, name: str) -> str:
    if isinstance(value, bytes):
        if len(value) != 16:
            raise CompactError(f"{name} must be 16 bytes (a UUID)", "malformed_compact")
        return f"urn:uuid:{uuid.UUID(bytes=value)}"
    return _dec_text(value, name)


def _enc_time(value: Any, name: str) -> int | str:
    parsed = parse_datetime(value)
    if parsed is None:
        raise _not_compactable(f"{name} is not a date-time")
    if format_datetime(parsed) == value and parsed.timestamp() >= 0:
        return int(parsed.timestamp())
    return str(value)


def _dec_time(value: Any, name: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 253402300800:  # up to 9999-12-31
            raise CompactError(f"{name} is out of range", "malformed_compact")
        return format_datetime(datetime.fromtimestamp(value, UTC))
    text = _dec_text(value, name)
    if parse_datetime(text) is None:
        raise CompactError(f"{name} is not a date-time", "malformed_compact")
    return text


def _dec_text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise CompactError(f"{name} must be non-empty text", "malformed_compact")
    if not unicodedata.is_normalized("NFC", value) or not is_printable(value):
        raise CompactError(f"{name} must be printable NFC text", "malformed_compact")
    return value


def _enc_enum(value: Any, table: tuple[str, ...], name: str, base: int = 0) -> int | str:
    if not isinstance(value, str) or not value:
        raise _not_compactable(f"{name} must be a non-empty string")
    return table.index(value) + base if value in table else value


def _dec_enum(value: Any, table: tuple[str, ...], name: str, base: int = 0) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        if not base <= value < base + len(table):
            raise CompactError(f"{name} code {value} is not defined in format TC1", "malformed_compact")
        return table[value - base]
    return _dec_text(value, name)


def _enc_date(value: Any) -> int | str:
    if not isinstance(value, str):
        raise _not_compactable("dateQualified must be a string")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return value
    return (parsed - _EPOCH).days if parsed.isoformat() == value and parsed >= _EPOCH else value


def _dec_date(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= 2932896:
            raise CompactError("dateQualified is out of range", "malformed_compact")
        return date.fromordinal(_EPOCH.toordinal() + value).isoformat()
    return _dec_text(value, "dateQualified")


def _status_origin(issuer: str) -> str | None:
    """https://host[:port] of a did:web issuer (where its status lists usually live)."""
    if not issuer.startswith("did:web:"):
        return None
    host = issuer[len("did:web:"):].split(":", 1)[0].replace("%3A", ":").replace("%3a", ":")
    return f"https://{host}" if host else None


_SUBJECT_TEXT: Final = {1: "name", 2: "namePinyin", 5: "reportingUnit", 6: "qualification", 7: "series",
                        8: "specialty", 10: "reviewBody", 13: "certificateNumber", 15: "scopeOfUse",
                        18: "eLicenseIdentifier"}
_SUBJECT_KEYS: Final = {"type", "name", "namePinyin", "gender", "idNumberMasked", "reportingUnit",
                        "qualification", "series", "specialty", "level", "levelCode", "reviewBody",
                        "reviewChannel", "dateQualified", "certificateNumber", "annotations", "scopeOfUse",
                        "namePrintedAsPinyin", "eLicenseIdentifier"}
_TOP_KEYS: Final = {"@context", "id", "type", "issuer", "validFrom", "validUntil", "credentialSchema",
                    "fullCredential", "reissueOf", "credentialStatus", "credentialSubject", "proof"}


def _enc_subject(subject: Any) -> dict[int, Any]:
    if not isinstance(subject, dict):
        raise _not_compactable("credentialSubject must be one object")
    if "idNumber" in subject:
        raise _not_compactable("the compact form carries the masked ID number only, never idNumber")
    unknown = set(subject) - _SUBJECT_KEYS
    if unknown:
        raise _not_compactable(f"credentialSubject field(s) {', '.join(sorted(unknown))} are not in format TC1")
    if subject.get("type") != SUBJECT_TYPE:
        raise _not_compactable(f"credentialSubject.type must be {SUBJECT_TYPE}")
    out: dict[int, Any] = {}
    for key, name in _SUBJECT_TEXT.items():
        if name in subject:
            value = subject[name]
            if not isinstance(value, str) or not value:
                raise _not_compactable(f"credentialSubject.{name} must be a non-empty string")
            out[key] = value
    for name in ("name", "namePinyin", "gender", "idNumberMasked", "reportingUnit", "qualification", "series",
                 "specialty", "level", "reviewBody", "reviewChannel", "dateQualified", "certificateNumber"):
        if name not in subject:
            raise _not_compactable(f"credentialSubject.{name} is missing")
    out[3] = _enc_enum(subject["gender"], GENDERS_V1, "gender", base=1)
    masked = subject["idNumberMasked"]
    if not isinstance(masked, str) or not masked:
        raise _not_compactable("idNumberMasked must be a non-empty string")
    match = _MASKED_18.fullmatch(masked)
    out[4] = [match.group(1), match.group(2)] if match else masked
    out[9] = _enc_enum(subject["level"], LEVELS_V1, "level", base=1)
    out[11] = _enc_enum(subject["reviewChannel"], CHANNELS_V1, "reviewChannel")
    out[12] = _enc_date(subject["dateQualified"])
    if "annotations" in subject:
        notes = subject["annotations"]
        if not isinstance(notes, list) or not all(isinstance(n, str) and n for n in notes):
            raise _not_compactable("annotations must be a list of strings")
        out[14] = list(notes)
    if "namePrintedAsPinyin" in subject:
        if not isinstance(subject["namePrintedAsPinyin"], bool):
            raise _not_compactable("namePrintedAsPinyin must be true or false")
        out[16] = subject["namePrintedAsPinyin"]
    if "levelCode" in subject:
        level, code = subject["level"], subject["levelCode"]
        standard = LEVEL_LETTERS_V1[LEVELS_V1.index(level)] if level in LEVELS_V1 else None
        if code != standard:
            if not isinstance(code, str) or not code:
                raise _not_compactable("levelCode must be a non-empty string")
            out[17] = code
    elif subject["level"] in LEVELS_V1:
        out[17] = False  # the credential has no levelCode although its level has a letter
    return out


def _dec_subject(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise CompactError("the subject must be a map", "malformed_compact")
    unknown = set(raw) - {*range(1, 19)}
    if unknown:
        raise CompactError(f"subject key(s) {sorted(unknown)} are not defined in format TC1", "malformed_compact")
    for key in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13):
        if key not in raw:
            raise CompactError(f"subject key {key} is missing", "malformed_compact")
    subject: dict[str, Any] = {"type": SUBJECT_TYPE}
    subject["name"] = _dec_text(raw[1], "name")
    subject["namePinyin"] = _dec_text(raw[2], "namePinyin")
    subject["gender"] = _dec_enum(raw[3], GENDERS_V1, "gender", base=1)
    masked = raw[4]
    if isinstance(masked, list):
        if len(masked) != 2 or not all(isinstance(p, str) for p in masked) or \
                not _MASKED_18.fullmatch(f"{masked[0]}{'*' * 11}{masked[1]}"):
            raise CompactError("idNumberMasked is malformed", "malformed_compact")
        subject["idNumberMasked"] = f"{masked[0]}{'*' * 11}{masked[1]}"
    else:
        subject["idNumberMasked"] = _dec_text(masked, "idNumberMasked")
    for key, name in ((5, "reportingUnit"), (6, "qualification"), (7, "series"), (8, "specialty")):
        subject[name] = _dec_text(raw[key], name)
    level = _dec_enum(raw[9], LEVELS_V1, "level", base=1)
    subject["level"] = level
    code = raw.get(17)
    if code is None:
        if level not in LEVELS_V1:
            raise CompactError("a level outside the national set needs its levelCode", "malformed_compact")
        subject["levelCode"] = LEVEL_LETTERS_V1[LEVELS_V1.index(level)]
    elif code is not False:
        subject["levelCode"] = _dec_text(code, "levelCode")
    subject["reviewBody"] = _dec_text(raw[10], "reviewBody")
    subject["reviewChannel"] = _dec_enum(raw[11], CHANNELS_V1, "reviewChannel")
    subject["dateQualified"] = _dec_date(raw[12])
    subject["certificateNumber"] = _dec_text(raw[13], "certificateNumber")
    if 14 in raw:
        notes = raw[14]
        if not isinstance(notes, list):
            raise CompactError("annotations must be an array", "malformed_compact")
        subject["annotations"] = [_dec_text(n, "annotation") for n in notes]
    if 15 in raw:
        subject["scopeOfUse"] = _dec_text(raw[15], "scopeOfUse")
    if 16 in raw:
        if not isinstance(raw[16], bool):
            raise CompactError("namePrintedAsPinyin must be a boolean", "malformed_compact")
        subject["namePrintedAsPinyin"] = raw[16]
    if 18 in raw:
        subject["eLicenseIdentifier"] = _dec_text(raw[18], "eLicenseIdentifier")
    return subject


def _enc_status(status: Any, origin: str | None) -> list[list[Any]]:
    entries = status if isinstance(status, list) else [status]
    if isinstance(status, list) and len(status) < 2:
        raise _not_compactable("a credentialStatus list must have two or more entries (one is an object)")
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
            raise _not_compactable("only BitstringStatusListEntry status entries can be made compact")
        if set(entry) - {"id", "type", "statusPurpose", "statusListIndex", "statusListCredential"}:
            raise _not_compactable("a status entry has fields that format TC1 does not carry")
        url, index, purpose = entry.get("statusListCredential"), entry.get("statusListIndex"), \
            entry.get("statusPurpose")
        if not isinstance(url, str) or not url or not isinstance(purpose, str) or not purpose:
            raise _not_compactable("a status entry needs statusPurpose and statusListCredential")
        if not isinstance(index, str) or not index.isdigit() or not index.isascii() or \
                str(int(index)) != index or int(index) >= 2 ** 63:
            raise _not_compactable("statusListIndex must be a decimal string without leading zeros")
        short = url[len(origin):] if origin and url.startswith(origin + "/") else url
        item: list[Any] = [_enc_enum(purpose, PURPOSES_V1, "statusPurpose"), short, int(index)]
        if "id" in entry:
            item.append(0 if entry["id"] == f"{url}#{index}" else _enc_id(entry["id"], "status id"))
        out.append(item)
    return out


def _dec_status(raw: Any, origin: str | None) -> dict[str, Any] | list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise CompactError("the status entries must be a non-empty array", "malformed_compact")
    entries = []
    for item in raw:
        if not isinstance(item, list) or len(item) not in (3, 4):
            raise CompactError("a status entry must be [purpose, list, index(, id)]", "malformed_compact")
        purpose = _dec_enum(item[0], PURPOSES_V1, "statusPurpose")
        url = _dec_text(item[1], "statusListCredential")
        if url.startswith("/"):
            if origin is None:
                raise CompactError("a relative status list URL needs a did:web issuer", "malformed_compact")
            url = origin + url
        index = item[2]
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise CompactError("statusListIndex must be a non-negative integer", "malformed_compact")
        entry: dict[str, Any] = {}
        if len(item) == 4:
            entry["id"] = f"{url}#{index}" if item[3] == 0 and not isinstance(item[3], bool) else \
                _dec_id(item[3], "status id")
        entry.update({"type": "BitstringStatusListEntry", "statusPurpose": purpose,
                      "statusListIndex": str(index), "statusListCredential": url})
        entries.append(entry)
    return entries[0] if len(entries) == 1 else entries


def claims_from_credential(doc: Mapping[str, Any], kid: str, *, signed_at: datetime | None = None) -> dict[int, Any]:
    """The claims map of a minimal title credential (signed or not: a `proof` is left out), to be signed
    under `kid`. Refuses (`not_compactable`) anything the format cannot carry exactly."""
    if not isinstance(doc, Mapping):
        raise _not_compactable("a credential must be a JSON object")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise _not_compactable(f"credential field(s) {', '.join(sorted(unknown))} are not in format TC1")
    if list(doc.get("@context") or []) != list(MINIMAL_CONTEXT):
        raise _not_compactable("the @context must be the VC v2 and TitleCred contexts")
    if list(doc.get("type") or []) != list(MINIMAL_TYPE):
        raise _not_compactable("the compact form is made from the minimal credential (MinimalTitleCredential)")
    if doc.get("credentialSchema") != {"id": MINIMAL_SCHEMA_ID, "type": "JsonSchema"}:
        raise _not_compactable("credentialSchema must be the minimal credential's schema")
    issuer = doc.get("issuer")
    if not isinstance(issuer, Mapping) or set(issuer) - {"id", "name", "unitCode"}:
        raise _not_compactable("issuer must be an object with id, name and optionally unitCode")
    issuer_id = issuer.get("id")
    if not isinstance(kid, str) or issuer_id != kid.split("#", 1)[0]:
        raise _not_compactable("the signing key must belong to the credential's issuer")
    name = issuer.get("name")
    if not isinstance(name, str) or not name:
        raise _not_compactable("issuer.name is required")
    claims: dict[int, Any] = {0: FORMAT_VERSION}
    if "id" in doc:
        claims[1] = _enc_id(doc["id"], "id")
    claims[2] = _enc_id(doc.get("fullCredential"), "fullCredential")
    claims[3] = name
    if "unitCode" in issuer:
        if not isinstance(issuer["unitCode"], str) or not issuer["unitCode"]:
            raise _not_compactable("issuer.unitCode must be a non-empty string")
        claims[4] = issuer["unitCode"]
    claims[5] = _enc_time(doc.get("validFrom"), "validFrom")
    if "validUntil" in doc:
        claims[6] = _enc_time(doc["validUntil"], "validUntil")
    if "reissueOf" in doc:
        claims[7] = _enc_id(doc["reissueOf"], "reissueOf")
    if "credentialStatus" in doc:
        claims[8] = _enc_status(doc["credentialStatus"], _status_origin(issuer_id))
    claims[9] = _enc_subject(doc.get("credentialSubject"))
    if signed_at is not None:
        claims[10] = int(signed_at.timestamp())
    return claims


def credential_from_claims(claims: Mapping[int, Any], kid: str) -> dict[str, Any]:
    """Rebuild the (unsigned) minimal credential that `claims` stand for. `CompactError` if malformed."""
    unknown = set(claims) - {*range(0, 11)}
    if unknown:
        raise CompactError(f"claim key(s) {sorted(unknown)} are not defined in format TC1", "malformed_compact")
    if claims.get(0) != FORMAT_VERSION:
        raise CompactError(f"unsupported compact format version {claims.get(0)!r}", "unsupported_version")
    for key in (2, 3, 5, 9):
        if key not in claims:
            raise CompactError(f"claim {key} is missing", "malformed_compact")
    issuer_id = kid.split("#", 1)[0]
    issuer: dict[str, Any] = {"id": issuer_id, "name": _dec_text(claims[3], "issuer name")}
    if 4 in claims:
        issuer["unitCode"] = _dec_text(claims[4], "issuer unitCode")
    doc: dict[str, Any] = {"@context": list(MINIMAL_CONTEXT)}
    if 1 in claims:
        doc["id"] = _dec_id(claims[1], "id")
    doc["type"] = list(MINIMAL_TYPE)
    doc["issuer"] = issuer
    doc["validFrom"] = _dec_time(claims[5], "validFrom")
    if 6 in claims:
        doc["validUntil"] = _dec_time(claims[6], "validUntil")
    doc["credentialSchema"] = {"id": MINIMAL_SCHEMA_ID, "type": "JsonSchema"}
    doc["fullCredential"] = _dec_id(claims[2], "fullCredential")
    if 7 in claims:
        doc["reissueOf"] = _dec_id(claims[7], "reissueOf")
    if 8 in claims:
        doc["credentialStatus"] = _dec_status(claims[8], _status_origin(issuer_id))
    doc["credentialSubject"] = _dec_subject(claims[9])
    return doc


def signed_at(claims: Mapping[int, Any]) -> datetime | None:
    """When the compact form was signed (claim 10), if it says."""
    value = claims.get(10)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 253402300800:
        return datetime.fromtimestamp(value, UTC)
    return None
