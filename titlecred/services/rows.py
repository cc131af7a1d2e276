"""Rows of a bulk upload (CSV or JSON), each with the line it came from.

CSV: UTF-8 (a BOM is fine), a header row naming the fields in English (`idNumber`) or as printed on
the national forms (`身份证号`); line numbers are the file's physical lines (the header is line 1).
Multi-valued `annotations` are separated by `|`. JSON: an array of objects, or `{"rows": [...]}`;
the "line" of a row is its position in the array, from 1.

Structural problems (not UTF-8, malformed JSON, an unknown column) refuse the whole upload (400);
row problems are the caller's to collect. Never echo a cell's value in a message.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from proofs.bounds import Limits, parse_json
from proofs.errors import ProofLayerError
from titlecred.services.errors import Invalid

HEADER_ALIASES = {
    "姓名": "name", "姓名拼音": "namePinyin", "拼音": "namePinyin", "性别": "gender",
    "身份证号": "idNumber", "身份证号码": "idNumber", "公民身份号码": "idNumber",
    "呈报单位": "reportingUnit", "资格名称": "qualification", "系列": "series", "系列名称": "series",
    "专业": "specialty", "专业名称": "specialty", "级别": "level", "层级": "level",
    "评审机构": "reviewBody", "取得资格时间": "dateQualified", "适用范围": "scopeOfUse",
    "备注": "annotations", "标注": "annotations", "证书编号": "certificateNumber",
    "发证单位": "issuingBody", "职称任职文件": "documentNumber", "任职文件": "documentNumber",
}
UPLOAD_LIMITS = Limits(max_bytes=1024 * 1024, max_depth=6, max_nodes=200_000, max_string=2000)

Row = tuple[int, dict[str, Any]]


def parse_rows(content: bytes, fmt: str, allowed: tuple[str, ...], max_rows: int) -> list[Row]:
    if fmt == "csv":
        rows = _csv_rows(content, allowed)
    elif fmt == "json":
        rows = _json_rows(content)
    else:
        raise Invalid("unsupported_media_type", "send text/csv or application/json", 415)
    if not rows:
        raise Invalid("empty_upload", "the upload has no rows", 400)
    if len(rows) > max_rows:
        raise Invalid("too_many_rows", f"at most {max_rows} rows per upload; split the file", 413)
    return rows


def _csv_rows(content: bytes, allowed: tuple[str, ...]) -> list[Row]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("malformed_upload", "the CSV file is not UTF-8", 400) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return []
        fields = [HEADER_ALIASES.get(h.strip(), h.strip()) for h in header]
        unknown = [f for f in fields if f not in allowed]
        if unknown:
            raise Invalid("unknown_column", f"unknown column(s): {', '.join(unknown)}; expected some of "
                          + ", ".join(allowed), 400)
        if len(set(fields)) != len(fields):
            raise Invalid("malformed_upload", "a column is named twice", 400)
        out: list[Row] = []
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            row: dict[str, Any] = {}
            if len(cells) != len(fields):
                row["__error__"] = f"the row has {len(cells)} cells, the header {len(fields)}"
            for name, value in zip(fields, cells, strict=False):
                if value != "":
                    row[name] = [a for a in value.split("|") if a] if name == "annotations" else value
            out.append((line, row))
        return out
    except csv.Error as e:
        raise Invalid("malformed_upload", f"the CSV file is malformed near line {reader.line_num}: {e}", 400) from None


def _json_rows(content: bytes) -> list[Row]:
    try:
        data = parse_json(content, UPLOAD_LIMITS)
    except ProofLayerError as e:
        status = 413 if e.code == "input_too_large" else 400
        raise Invalid(e.code, e.message, status) from None
    if isinstance(data, dict) and set(data) == {"rows"}:
        data = data["rows"]
    if not isinstance(data, list):
        raise Invalid("malformed_upload", 'the JSON must be an array of rows, or {"rows": [...]}', 400)
    out: list[Row] = []
    for i, row in enumerate(data, start=1):
        out.append((i, row if isinstance(row, dict) else {"__error__": "the row is not a JSON object"}))
    return out


def row_error(line: int, code: str, message: str, field: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"line": line, "code": code, "message": message}
    if field:
        out["field"] = field
    return out


def parse_json_object(content: bytes, what: str, limits: Limits = UPLOAD_LIMITS) -> Any:
    """Bounded JSON (duplicate keys refused); `Invalid` with a stable code on malformed input."""
    try:
        return parse_json(content, limits)
    except ProofLayerError as e:
        raise Invalid(e.code, f"{what}: {e.message}", 413 if e.code == "input_too_large" else 400, what) from None
