"""Helpers of the scan page's tests: QR texts for every verdict, altered ones, and driving the page.

QR texts are made as the registry makes them (`issuer.compact`), or signed directly with
`proofs.compact.encode_cose` when a test needs claims the registry would never issue (an expired
credential, another issuer's key).
"""

from __future__ import annotations

import copy
import io
import unicodedata
from datetime import UTC, datetime
from typing import Any

import cbor2
from registry.web.browser import LiveServer

from issuer.compact import compact_from_minimal
from issuer.credential import IssuerProfile
from issuer.record import parse_record
from issuer.sign import IssuerKey, issue_pair
from keys.material import SigningKey
from proofs import compact
from schemas.identifiers import resident_id_check_char
from verifier.compact import decode_qr

VERDICT_WORDS = {
    "valid": "有效", "revoked": "已撤销", "suspended": "已暂停", "expired": "已过期", "tampered": "签名无效",
    "unknown_issuer": "未知签发机关", "key_revoked": "签名不可信", "status_unknown": "无法核验状态",
    "keys_unavailable": "暂时无法核验", "not_titlecred": "不是电子职称证书二维码", "unreadable": "无法读取",
    "unsupported": "无法在此核验",
}
OTHER_DID = "did:web:hrss.other-city.example.cn"


def payload(qr_text: str) -> str:
    return qr_text.split("#", 1)[1]


def issued(world: Any, holder: str = "holder", **facts: Any) -> dict[str, Any]:
    """A certificate issued through the self-appointment chain of `holder`'s employer."""
    if holder == "holder":
        return dict(world.issued("holder", **facts))
    app = world.application("holder2", namePinyin="Li Si", **facts)
    return dict(world.approve_all(app["id"], "employer2", "supervisory", "bureau")["certificate"])


def qr_of(live: LiveServer, cert: dict[str, Any], *, now: datetime | None = None) -> str:
    """The QR text of an issued certificate, signed by the registry's active key (as the printout's)."""
    return compact_from_minimal(cert["minimalCredential"], live.registry.keys.active(), live.url, now=now)


def _unsigned(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in copy.deepcopy(doc).items() if k != "proof"}


def signed_qr(base_url: str, minimal: dict[str, Any], key: IssuerKey, **changes: Any) -> str:
    """The QR text of `minimal` with top-level `changes`, signed directly by `key` (no registry)."""
    doc = _unsigned(minimal)
    doc.update(changes)
    claims = compact.claims_from_credential(doc, key.verification_method, signed_at=datetime.now(UTC))
    return compact.make_qr_text(base_url, compact.encode_cose(claims, key.verification_method, key.sign))


def other_version_qr(live: LiveServer, cert: dict[str, Any]) -> str:
    """The same facts, validly signed, in a TC1 format version no reader implements yet."""
    key = live.registry.keys.active()
    claims = compact.claims_from_credential(_unsigned(cert["minimalCredential"]), key.verification_method,
                                            signed_at=datetime.now(UTC))
    claims[0] = 99
    return compact.make_qr_text(live.url, compact.encode_cose(claims, key.verification_method, key.sign))


def expired_qr(live: LiveServer, cert: dict[str, Any]) -> str:
    return signed_qr(live.url, cert["minimalCredential"], live.registry.keys.active(),
                     validFrom="2023-01-01T00:00:00Z", validUntil="2025-01-01T00:00:00Z")


def other_issuer_qr(live: LiveServer, cert: dict[str, Any]) -> str:
    """The same facts signed by another bureau's key (a DID this site does not know)."""
    key = SigningKey.generate()
    other = IssuerKey(f"{OTHER_DID}#key-1", key.sign)
    minimal = cert["minimalCredential"]
    return signed_qr(live.url, minimal, other, issuer={**minimal["issuer"], "id": OTHER_DID})


def bytes_after_cose(qr_text: str) -> bool:
    """Whether the QR text inflates to a COSE_Sign1 followed by more bytes. `proofs.compact` reads only
    the first CBOR item (cbor2.loads) and ignores the rest; the page refuses them ("one encoding per
    meaning"), so such a text reads as tampered there and decodes in Python."""
    try:
        cose = compact.read_qr_text(qr_text)
        stream = io.BytesIO(cose)
        cbor2.CBORDecoder(stream).decode()
    except Exception:
        return False
    return stream.tell() != len(cose)


def unassigned_in_python(text: str) -> bool:
    """Whether `text` has a character this Python's Unicode database does not know (Python 3.11 has
    Unicode 14: CJK Extension H, U+31350–U+323AF, came in 15.0) and so refuses as not printable."""
    return any(unicodedata.category(c) == "Cn" for c in text)


def flip(text: str, position: int, step: int) -> str:
    alphabet = compact.B43_ALPHABET
    char = text[position]
    return text[:position] + alphabet[(alphabet.index(char) + step) % len(alphabet)] + text[position + 1:]


def tampered_pair(qr_text: str) -> tuple[str, str]:
    """Two one-character changes of `qr_text`'s payload: one that still decodes (only its signature
    fails) and one that does not decode at all. (A change in the deflate stream's last padding bits
    alters nothing that is signed, and rightly still verifies: it is not chosen.)"""
    start = qr_text.index("TC1:") + 4
    original = compact.read_qr_text(qr_text)
    decodes = fails = None
    # From the end: the signature's bytes are deflate literals there, where a change keeps the stream.
    for position in range(len(qr_text) - 1, start - 1, -1):
        for step in range(1, 43):
            candidate = flip(qr_text, position, step)
            try:
                decode_qr(candidate)
            except compact.CompactError:
                fails = fails or candidate
            else:
                if compact.read_qr_text(candidate) != original and not bytes_after_cose(candidate):
                    decodes = decodes or candidate
            if decodes and fails:
                return decodes, fails
    raise AssertionError("no one-character change of the QR text decodes")


# --- records for the decoder comparison ---------------------------------------------------------------


def id_number(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


BASE_RECORD: dict[str, Any] = {
    "name": "李晓明", "namePinyin": "Li Xiaoming", "gender": "男", "idNumber": id_number("11010519850312041"),
    "reportingUnit": "示例市住房和城乡建设局", "qualification": "高级工程师", "series": "工程技术",
    "specialty": "建筑工程", "level": "副高级", "reviewBody": "示例市工程技术高级职称评审委员会",
    "reviewChannel": "评审", "dateQualified": "2024-10-28", "certificateNumber": "B2024110100001",
}
LONG_REVIEW_BODY = ("中国石油天然气集团有限公司工程技术系列石油天然气地面建设工程专业"
                    "正高级工程师职称评审委员会（第二评审组）办公室秘书处联合评审工作组")[:60]
STATUS_BASE = "https://hrss.example.gov.cn/status"


def status_entries(index: int) -> list[dict[str, Any]]:
    return [{"id": f"{STATUS_BASE}/{p}-1#{index}", "type": "BitstringStatusListEntry", "statusPurpose": p,
             "statusListIndex": str(index), "statusListCredential": f"{STATUS_BASE}/{p}-1"}
            for p in ("revocation", "suspension")]


# Typical, rare characters (CJK Extension A and B, above U+FFFF), every channel and level, reissue,
# self-review with scope of use, pinyin fallback, and the longest real record (with status).
RECORDS: dict[str, dict[str, Any]] = {
    "typical": {},
    "rare_name": {"name": "刘䶮𠀾𪚥", "namePinyin": "Liu Yan Yi Zhe", "certificateNumber": "B2024110100006"},
    "rare_everywhere": {"name": "王𠀾", "namePinyin": "Wang Yi", "reportingUnit": "𪚥𠀾研究所",
                        "specialty": "𠀾学", "status": status_entries(7)},
    "clerk_exam": {"gender": "女", "qualification": "技术员", "level": "员级", "certificateNumber": "E2024110100005",
                   "reviewChannel": "以考代评", "reviewBody": "示例省人事考试中心"},
    "senior_a": {"qualification": "正高级工程师", "level": "正高级", "certificateNumber": "A2024110100002"},
    "reissue": {"reissueOf": "urn:uuid:3f2b0c9e-5d4a-4c2b-9e8f-1a2b3c4d5e6f", "certificateNumber": "B2024110100008",
                "annotations": ["补发"]},
    "self_review": {"reviewChannel": "自主评审", "annotations": ["自主评审"], "scopeOfUse": "仅限在民营企业范围内使用",
                    "reviewBody": "示例集团有限公司工程技术高级职称自主评审委员会", "status": status_entries(131071)},
    "pinyin_fallback": {"name": "李\U00030000", "namePinyin": "Li Yu", "namePrintedAsPinyin": True},
    "longest": {"name": "阿卜杜热合曼·买买提明·艾则孜", "namePinyin": "Abudureheman Maimaitiming Aizezi",
                "idNumber": id_number("65010219800101001"), "qualification": "正高级工程师", "level": "正高级",
                "reportingUnit": "中国石油天然气股份有限公司长庆油田分公司第三采油厂党委组织部（人力资源科）",
                "specialty": "石油天然气地面工程建设与安全管理", "reviewBody": LONG_REVIEW_BODY,
                "reviewChannel": "自主评审", "certificateNumber": "A20241101000000001", "annotations": ["自主评审"],
                "scopeOfUse": "仅限在民营企业范围内使用（非公有制经济组织）",
                "reissueOf": "urn:uuid:3f2b0c9e-5d4a-4c2b-9e8f-1a2b3c4d5e6f", "status": status_entries(123456)},
}


def record_qr(name: str, key: IssuerKey, issuer_name: str = "示例市人力资源和社会保障局",
              base_url: str = "https://hrss.example.gov.cn") -> str:
    """The QR text of record `name` of RECORDS, issued by `key`'s DID."""
    changes = copy.deepcopy(RECORDS[name])
    status = changes.pop("status", None)
    if name == "longest":
        issuer_name, base_url = "中国石油天然气集团有限公司人力资源部（职称评审专用）", "https://zhicheng.hrss.shanxi.gov.cn"
    rec = parse_record({**BASE_RECORD, **changes})
    did = key.verification_method.split("#", 1)[0]
    pair = issue_pair(rec, IssuerProfile(did, issuer_name), key, now=datetime(2024, 11, 1, 2, 30, tzinfo=UTC),
                      status=status)
    return compact_from_minimal(pair.minimal, key, base_url, now=datetime(2024, 11, 1, 2, 30, tzinfo=UTC))


# --- driving the page ---------------------------------------------------------------------------------


def scan(page: Any, url: str) -> str:
    """Open `url` (a QR link) and wait for the page's verdict; returns it. Works whether the page is
    already open (a new fragment: the page verifies again without reloading) or not."""
    before = page.evaluate(_MARK)
    page.goto(url)
    page.wait_for_function(
        "before => { const s = document.getElementById('scan'); if (!s || s.dataset.state !== 'done') return false;"
        " return performance.timeOrigin !== before[1] || Number(s.dataset.runs) > before[0]; }", arg=before)
    return str(page.locator("#verdict").get_attribute("data-verdict"))


def settled(page: Any) -> str:
    """Wait for the (re)loaded page's verdict."""
    page.wait_for_function("() => { const s = document.getElementById('scan'); "
                           "return s && s.dataset.state === 'done'; }")
    return str(page.locator("#verdict").get_attribute("data-verdict"))


_MARK = "() => [Number((document.getElementById('scan') || {dataset: {}}).dataset.runs || 0), performance.timeOrigin]"


def verdict_word(page: Any) -> str:
    return str(page.locator("#verdict .verdict-word").inner_text())
