"""E-license metadata (电子证照元数据, GB/T 36903 as the provincial libraries deploy it) of a certificate.

`license_metadata(full_credential, state=...)` gives the library's field set for one certificate;
`to_csv(rows)` the import batch (UTF-8 with a byte-order mark, the header row in the libraries' Chinese
field names, one certificate per row). Pure functions over the signed full credential: the library is
sent the facts that were signed, nothing recomputed.

The holder's code is the resident ID number in full: this export goes to the e-license library only
(bureau-only routes); it must never be served to anyone else.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import timedelta, timezone
from typing import Any, Final

from proofs.dataintegrity import parse_datetime

LICENSE_NAME: Final = "专业技术职务任职资格证书"
# 持证主体代码类型: 111 居民身份证 (the code list the libraries use, after GA/T 517's certificate types).
HOLDER_CODE_TYPE_ID_CARD: Final = "111"
HOLDER_CODE_TYPE_NAME: Final = "居民身份证"
CHINA_TIME: Final = timezone(timedelta(hours=8))

# (JSON field, CSV header) in the batch's column order.
FIELDS: Final = (
    ("licenseName", "证照名称"),
    ("licenseTypeCode", "证照类型代码"),
    ("licenseNumber", "证照编号"),
    ("licenseIdentifier", "证照标识"),
    ("issuer", "发证机构"),
    ("issuerCode", "发证机构代码"),
    ("issueDate", "发证日期"),
    ("holder", "持证主体"),
    ("holderCode", "持证主体代码"),
    ("holderCodeType", "持证主体代码类型"),
    ("holderCodeTypeName", "持证主体代码类型名称"),
    ("validFrom", "有效期起始日期"),
    ("validUntil", "有效期截止日期"),
    ("signer", "签发者"),
    ("signingTime", "签发时间"),
    ("licenseState", "证照状态"),
    ("qualification", "资格名称"),
    ("series", "系列"),
    ("specialty", "专业"),
    ("level", "级别"),
    ("levelCode", "级别代码"),
    ("reviewBody", "评审机构"),
    ("reviewChannel", "取得方式"),
    ("dateQualified", "取得资格时间"),
    ("reportingUnit", "呈报单位"),
    ("gender", "性别"),
    ("annotations", "加注"),
    ("scopeOfUse", "使用范围"),
    ("reissueOf", "补发原证"),
    ("credentialId", "凭证标识"),
)
LONG_TERM: Final = "长期"


def _china_date(value: Any) -> str:
    parsed = parse_datetime(value)
    return parsed.astimezone(CHINA_TIME).date().isoformat() if parsed else ""


def license_metadata(full: dict[str, Any], *, state: str = "active") -> dict[str, str]:
    """The library's fields of one certificate, from its signed full credential."""
    subject = full["credentialSubject"]
    raw_issuer = full.get("issuer")
    issuer: dict[str, Any] = raw_issuer if isinstance(raw_issuer, dict) else {}
    raw_proof = full.get("proof")
    proof: dict[str, Any] = {}
    if isinstance(raw_proof, list) and raw_proof and isinstance(raw_proof[0], dict):
        proof = raw_proof[0]
    elif isinstance(raw_proof, dict):
        proof = raw_proof
    identifier = str(subject.get("eLicenseIdentifier", ""))
    type_code = identifier.split(".")[5] if identifier.count(".") >= 9 else ""
    out = {
        "licenseName": LICENSE_NAME,
        "licenseTypeCode": type_code,
        "licenseNumber": str(subject["certificateNumber"]),
        "licenseIdentifier": identifier,
        "issuer": str(issuer.get("name", "")),
        "issuerCode": str(issuer.get("unitCode", "")),
        "issueDate": _china_date(full.get("validFrom")),
        "holder": str(subject["name"]),
        "holderCode": str(subject.get("idNumber", "")),
        "holderCodeType": HOLDER_CODE_TYPE_ID_CARD,
        "holderCodeTypeName": HOLDER_CODE_TYPE_NAME,
        "validFrom": _china_date(full.get("validFrom")),
        "validUntil": _china_date(full["validUntil"]) if full.get("validUntil") else LONG_TERM,
        "signer": str(proof.get("verificationMethod", "")),
        "signingTime": str(proof.get("created", "")),
        "licenseState": state,
        "credentialId": str(full.get("id", "")),
        "reissueOf": str(full.get("reissueOf", "")),
    }
    for key in ("qualification", "series", "specialty", "level", "levelCode", "reviewBody", "reviewChannel",
                "dateQualified", "reportingUnit", "gender", "scopeOfUse"):
        out[key] = str(subject.get(key, ""))
    out["annotations"] = "；".join(str(a) for a in subject.get("annotations", []))
    return {key: out.get(key, "") for key, _ in FIELDS}


def _cell(value: str) -> str:
    # A cell that a spreadsheet would take for a formula is quoted with a leading apostrophe.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(rows: Iterable[dict[str, str]]) -> bytes:
    """The library's CSV import batch: UTF-8 with BOM, Chinese header row, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for _, header in FIELDS])
    for row in rows:
        writer.writerow([_cell(row.get(key, "")) for key, _ in FIELDS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
