"""Builders for the printing tests: a real bureau key, real records, real certificates (no mocks).

Imported by the tests as `certkit` (tests/printing is put on sys.path by its conftest: the folder's
name cannot be a package, it would shadow the `printing` package under test).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core_support import RECORD
from issuer.compact import compact_from_minimal
from issuer.credential import IssuerProfile
from issuer.record import parse_record
from issuer.sign import IssuedPair, IssuerKey, issue_pair
from keys.did import DidResolver
from keys.material import SigningKey
from keys.publish import build_did_document
from keys.state import KeyRecord, KeyState
from printing.pdf import render_pdf
from schemas.identifiers import resident_id_check_char
from verifier.policy import Policy

DID = "did:web:hrss.example.gov.cn"
BASE_URL = "https://hrss.example.gov.cn"
ISSUER_NAME = "示例市人力资源和社会保障局"
NOW = datetime(2024, 11, 1, 2, 30, tzinfo=UTC)


def id_number(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


BASE_RECORD: dict[str, Any] = RECORD

# A review body of 60 characters (the longest real names run to about 50).
LONG_REVIEW_BODY = ("中国石油天然气集团有限公司工程技术系列石油天然气地面建设工程专业"
                    "正高级工程师职称评审委员会（第二评审组）办公室秘书处联合评审工作组")[:60]
# U+30000 is in CJK Extension G (Unicode 13, 2020): neither Noto CJK nor HanaMin (2017) has it.
NO_GLYPH = "\U00030000"

SAMPLES: dict[str, dict[str, Any]] = {
    "senior_b": {},
    "senior_a": {"name": "王建国", "namePinyin": "Wang Jianguo", "idNumber": id_number("14010219700305051"),
                 "qualification": "正高级工程师", "level": "正高级", "certificateNumber": "A2024110100002",
                 "reviewBody": "示例省工程技术正高级职称评审委员会"},
    "intermediate": {"name": "张丽", "namePinyin": "Zhang Li", "gender": "女",
                     "idNumber": id_number("14010519900807062"), "qualification": "工程师", "level": "中级",
                     "certificateNumber": "C2024110100003", "reviewBody": "示例市工程技术中级职称评审委员会"},
    "assistant": {"name": "赵一鸣", "namePinyin": "Zhao Yiming", "idNumber": id_number("14010519980212001"),
                  "qualification": "助理工程师", "level": "助理级", "certificateNumber": "D2024110100004",
                  "reviewChannel": "自主聘任", "reviewBody": "示例市建筑设计研究院有限公司"},
    "clerk": {"name": "孙小红", "namePinyin": "Sun Xiaohong", "gender": "女",
              "idNumber": id_number("14010520010910002"), "qualification": "技术员", "level": "员级",
              "certificateNumber": "E2024110100005", "reviewChannel": "以考代评", "reviewBody": "示例省人事考试中心"},
    "rare_name": {"name": "刘䶮𠀾𪚥", "namePinyin": "Liu Yan Yi Zhe", "certificateNumber": "B2024110100006"},
    "long_review_body": {"name": "阿卜杜热合曼·买买提明·艾则孜", "namePinyin": "Abudureheman Maimaitiming Aizezi",
                         "idNumber": id_number("65010219800101001"),
                         "reportingUnit": "中国石油天然气股份有限公司长庆油田分公司第三采油厂党委组织部（人力资源科）",
                         "specialty": "石油天然气地面工程建设与安全管理", "reviewBody": LONG_REVIEW_BODY,
                         "certificateNumber": "B2024110100007"},
    "reissue": {"reissueOf": "urn:uuid:3f2b0c9e-5d4a-4c2b-9e8f-1a2b3c4d5e6f", "certificateNumber": "B2024110100008"},
    "self_review": {"reviewChannel": "自主评审", "annotations": ["自主评审"], "scopeOfUse": "仅限在民营企业范围内使用",
                    "reviewBody": "示例集团有限公司工程技术高级职称自主评审委员会",
                    "certificateNumber": "B2024110100009"},
    "pinyin_fallback": {"name": "李" + NO_GLYPH, "namePinyin": "Li Yu", "namePrintedAsPinyin": True,
                        "certificateNumber": "B2024110100010"},
}


def record(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE_RECORD)
    out.update(changes)
    return out


@dataclass
class Certificate:
    pair: IssuedPair
    qr_text: str
    pdf: bytes

    @property
    def full(self) -> dict[str, Any]:
        return self.pair.full


@dataclass
class Bureau:
    """A bureau with one real Ed25519 key, its DID document, and a policy that trusts it."""

    key: SigningKey = field(default_factory=SigningKey.generate)
    did: str = DID
    name: str = ISSUER_NAME
    unit_code: str | None = None

    @property
    def vm(self) -> str:
        return f"{self.did}#key-1"

    @property
    def issuer_key(self) -> IssuerKey:
        return IssuerKey(self.vm, self.key.sign)

    def did_document(self) -> dict[str, Any]:
        rec = KeyRecord(self.vm, self.did, self.key.public_key.multibase, KeyState.ACTIVE)
        return build_did_document(self.did, [rec])

    def policy(self, **kw: Any) -> Policy:
        return Policy(resolver=DidResolver([self.did_document()]), **kw)

    def issue(self, **changes: Any) -> IssuedPair:
        status = changes.pop("status", None)
        rec = parse_record(record(**changes))
        return issue_pair(rec, IssuerProfile(self.did, self.name, self.unit_code), self.issuer_key, now=NOW,
                          status=status)

    def certificate(self, **changes: Any) -> Certificate:
        pair = self.issue(**changes)
        qr_text = compact_from_minimal(pair.minimal, self.issuer_key, BASE_URL, now=NOW)
        return Certificate(pair, qr_text, render_pdf(pair.full, qr_text))




STATUS_BASE = "https://hrss.example.gov.cn/status"


def status_entries(index: int = 123456) -> list[dict[str, Any]]:
    """The two entries (revocation, suspension) every certificate carries, as the registry writes them."""
    return [{"id": f"{STATUS_BASE}/{p}-1#{index}", "type": "BitstringStatusListEntry", "statusPurpose": p,
             "statusListIndex": str(index), "statusListCredential": f"{STATUS_BASE}/{p}-1"}
            for p in ("revocation", "suspension")]


def status_list(bureau: Bureau, purpose: str, set_bits: tuple[int, ...] = ()) -> dict[str, Any]:
    """A signed BitstringStatusListCredential of `bureau` with `set_bits` set."""
    from issuer.sign import sign_document
    from schemas import CREDENTIALS_V2_URL, bitstring

    bits = bitstring.empty()
    for index in set_bits:
        bitstring.set_bit(bits, index, True)
    url = f"{STATUS_BASE}/{purpose}-1"
    doc = {
        "@context": [CREDENTIALS_V2_URL], "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": bureau.did, "validFrom": "2024-11-01T00:00:00Z",
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                              "encodedList": bitstring.encode(bits)},
    }
    return sign_document(doc, bureau.issuer_key, created="2024-11-01T00:00:00Z")
