"""What the certificate page says, and where it goes.

`page_items(credential)` is the single source of truth for the printed text: the renderer draws
exactly these strings in this order, and a verifier rebuilds them from the *signed* facts and compares
them with the text read back from a PDF (`page_text`), so that a valid QR code or attachment pasted
onto another person's page is caught. It works from the full credential (the ID number is masked here)
or from the minimal one rebuilt from a QR code: both print the same page.

Layout rules (Shanxi 2020 notice, 附件1): A4, one page; title, number, the review facts and the holder's
identity, the issuer with its seal and the issue date, a QR code; "自主评审" and the scope of use where
they apply; "补发" on a reissue; the frame coloured by level (red primary, green intermediate, the
standard navy and gold for senior). Text is never clipped: a long value first shrinks (to a floor),
then wraps (CJK between any two characters, Latin at spaces, with the usual line-start and line-end
rules for punctuation); if a page still overflows the whole table shrinks; past the floor it is an
error, never a clipped page.

What it must never do: print a full resident ID number, or invent text that is not derived from the
credential.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Any, Final

from printing.errors import LayoutOverflow
from printing.fonts import clusters
from proofs.dataintegrity import parse_datetime
from schemas.identifiers import mask_id_number

# The issue date is the date in China (UTC+8, no daylight saving) of the credential's validFrom.
CHINA_TIME: Final = timezone(timedelta(hours=8))
PT_TO_MM: Final = 25.4 / 72

TITLE: Final = "专业技术职务任职资格证书"
SUBTITLE: Final = "CERTIFICATE OF PROFESSIONAL AND TECHNICAL QUALIFICATION"
STATEMENT: Final = "经审核，下列人员具备以下专业技术职务任职资格，特发此证。"
REISSUE_MARK: Final = "补发"
NUMBER_LABEL: Final = "证书编号："
ISSUER_LABEL: Final = "发证机关："
DATE_LABEL: Final = "发证日期："
QR_CAPTION: Final = "扫码核验"
QR_NOTE: Final = "二维码可离线核验真伪"
FOOTER: Final = "电子证书与纸质证书具有同等效力。打印件请扫描二维码核验，以核验结果为准。"
SEAL_BOTTOM: Final = "证书专用章"
ELICENSE_LABEL: Final = "证照标识："
PINYIN_NOTE: Final = "（拼音）"


@dataclass(frozen=True)
class LevelStyle:
    frame: tuple[float, float, float]
    accent: tuple[float, float, float]
    tint: tuple[float, float, float]  # label cells and the background rosette
    name: str


NAVY_GOLD: Final = LevelStyle((0.10, 0.20, 0.42), (0.74, 0.58, 0.22), (0.93, 0.94, 0.97), "senior")
GREEN: Final = LevelStyle((0.02, 0.43, 0.24), (0.35, 0.62, 0.40), (0.92, 0.96, 0.93), "intermediate")
RED: Final = LevelStyle((0.74, 0.10, 0.12), (0.85, 0.42, 0.36), (0.98, 0.93, 0.92), "primary")
_STYLE_BY_LEVEL: Final = {"正高级": NAVY_GOLD, "副高级": NAVY_GOLD, "中级": GREEN, "助理级": RED, "员级": RED}


def level_style(level: str) -> LevelStyle:
    """Red for the primary levels (助理级, 员级), green for 中级, navy and gold for the senior levels."""
    return _STYLE_BY_LEVEL.get(level, NAVY_GOLD)


# --- What the page says -------------------------------------------------------------------------------


def chinese_date(iso_date: str) -> str:
    """2024-10-28 → 2024年10月28日 (digits as written; no leading zeros on month and day)."""
    year, month, day = iso_date.split("-")
    return f"{int(year)}年{int(month)}月{int(day)}日"


def issue_date(valid_from: str) -> str:
    parsed = parse_datetime(valid_from)
    if parsed is None:
        raise ValueError("validFrom is not a date-time")
    return chinese_date(parsed.astimezone(CHINA_TIME).date().isoformat())


@dataclass(frozen=True)
class Row:
    """One row of the facts table: the fact's key, its printed label and its printed value."""

    key: str
    label: str
    value: str
    bold: bool = False
    red: bool = False


def _subject(credential: dict[str, Any]) -> dict[str, Any]:
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise ValueError("the credential has no credentialSubject object")
    return subject


def masked_id(subject: dict[str, Any]) -> str:
    if "idNumberMasked" in subject:
        return str(subject["idNumberMasked"])
    return mask_id_number(str(subject.get("idNumber", "")))


def printed_name(subject: dict[str, Any]) -> str:
    if subject.get("namePrintedAsPinyin") is True:
        return f"{subject['namePinyin']}{PINYIN_NOTE}"
    return str(subject["name"])


def fact_rows(credential: dict[str, Any]) -> list[Row]:
    """The facts table, in order. Never the full ID number."""
    s = _subject(credential)
    rows = [
        Row("name", "姓名", printed_name(s), bold=True),
        Row("gender", "性别", str(s["gender"])),
        Row("idNumberMasked", "身份证号", masked_id(s)),
        Row("reportingUnit", "呈报单位", str(s["reportingUnit"])),
        Row("qualification", "资格名称", str(s["qualification"]), bold=True),
        Row("series", "系列", str(s["series"])),
        Row("specialty", "专业", str(s["specialty"])),
        Row("level", "级别", str(s["level"])),
        Row("reviewBody", "评审机构", str(s["reviewBody"])),
        Row("dateQualified", "取得资格时间", chinese_date(str(s["dateQualified"]))),
        Row("reviewChannel", "取得方式", str(s["reviewChannel"])),
    ]
    if s.get("scopeOfUse"):
        rows.append(Row("scopeOfUse", "使用范围", str(s["scopeOfUse"]), red=True))
    if s.get("annotations"):
        rows.append(Row("annotations", "加注", "；".join(str(a) for a in s["annotations"]), bold=True, red=True))
    return rows


def issuer_name(credential: dict[str, Any]) -> str:
    issuer = credential.get("issuer")
    name = issuer.get("name") if isinstance(issuer, dict) else None
    if not isinstance(name, str) or not name:
        raise ValueError("the credential's issuer has no name")
    return name


@dataclass(frozen=True)
class PageItem:
    """A string the page prints, in drawing order, with the role that places it."""

    role: str
    text: str


def page_items(credential: dict[str, Any]) -> list[PageItem]:
    """Every string the page prints, in the order it is drawn (and read back)."""
    subject = _subject(credential)
    items = [PageItem("title", TITLE), PageItem("subtitle", SUBTITLE)]
    if credential.get("reissueOf"):
        items.append(PageItem("reissue", REISSUE_MARK))
    items.append(PageItem("number_label", NUMBER_LABEL))
    items.append(PageItem("number", str(subject["certificateNumber"])))
    items.append(PageItem("statement", STATEMENT))
    for row in fact_rows(credential):
        items.append(PageItem("label:" + row.key, row.label))
        items.append(PageItem("value:" + row.key, row.value))
    items.append(PageItem("qr_caption", QR_CAPTION))
    items.append(PageItem("qr_note", QR_NOTE))
    items.append(PageItem("issuer_label", ISSUER_LABEL))
    items.append(PageItem("issuer", issuer_name(credential)))
    items.append(PageItem("date_label", DATE_LABEL))
    items.append(PageItem("date", issue_date(str(credential.get("validFrom")))))
    if subject.get("eLicenseIdentifier"):
        items.append(PageItem("elicense_label", ELICENSE_LABEL))
        items.append(PageItem("elicense", str(subject["eLicenseIdentifier"])))
    items.append(PageItem("footer", FOOTER))
    return items


def normalize_text(text: str) -> str:
    """The comparison form of page text: NFC, without any whitespace (line breaks, wrapping, spacing)."""
    return "".join(unicodedata.normalize("NFC", text).split())


def page_text(credential: dict[str, Any]) -> str:
    """The text a correct page of `credential` reads back as, in comparison form."""
    return normalize_text("".join(item.text for item in page_items(credential)))


def mismatched_facts(credential: dict[str, Any], printed: str) -> list[str]:
    """Labels of the facts whose signed value is not what the page prints (`printed` in comparison form)."""
    out = []
    for row in fact_rows(credential):
        if normalize_text(row.label + row.value) not in printed:
            out.append(row.label)
    checks: tuple[tuple[str, str, str], ...] = (
        (NUMBER_LABEL, str(_subject(credential)["certificateNumber"]), "证书编号"),
        (ISSUER_LABEL, issuer_name(credential), "发证机关"),
        (DATE_LABEL, issue_date(str(credential.get("validFrom"))), "发证日期"),
    )
    if _subject(credential).get("eLicenseIdentifier"):
        checks += ((ELICENSE_LABEL, str(_subject(credential)["eLicenseIdentifier"]), "证照标识"),)
    for label, value, name in checks:
        if normalize_text(label + value) not in printed:
            out.append(name)
    has_mark = normalize_text(REISSUE_MARK + NUMBER_LABEL) in printed
    if bool(credential.get("reissueOf")) != has_mark:
        out.append("补发")
    return out


# --- Where it goes: measuring, breaking and fitting text ----------------------------------------------

# Characters that may not begin a line (closing punctuation) or end one (opening punctuation).
NO_LINE_START: Final = frozenset("，。、；：？！）》」』】〕〉’”…—·,.;:?!)]}%")
NO_LINE_END: Final = frozenset("（《「『【〔〈‘“([{")

Measure = Callable[[str, bool], int | None]  # cluster, bold → advance in 1/1000 em


def text_width_mm(units: Sequence[str], size_pt: float, bold: bool, measure: Measure) -> float:
    total = 0
    for unit in units:
        width = measure(unit, bold)
        total += 1000 if width is None else width
    return total * size_pt / 1000 * PT_TO_MM


def _is_word_char(unit: str) -> bool:
    c = unit[0]
    return (c.isascii() and (c.isalnum() or c in "'-*.@/")) or c in "·’"


def _tokens(units: Sequence[str]) -> list[list[str]]:
    """Break opportunities: CJK between any two characters, Latin words and numbers kept whole,
    closing punctuation glued to what precedes it and opening punctuation to what follows."""
    tokens: list[list[str]] = []
    for unit in units:
        if tokens:
            last = tokens[-1]
            if unit in NO_LINE_START or last[-1] in NO_LINE_END or \
                    (_is_word_char(unit) and _is_word_char(last[-1])):
                last.append(unit)
                continue
        tokens.append([unit])
    return tokens


def wrap(text: str, width_mm: float, size_pt: float, bold: bool, measure: Measure) -> list[list[str]]:
    """Greedy line breaking of `text` into lines no wider than `width_mm` (a token wider than a line is
    split between characters). Spaces at a break are dropped; nothing else is."""
    lines: list[list[str]] = []
    line: list[str] = []
    line_w = 0.0
    for token in _tokens(clusters(text)):
        token_w = text_width_mm(token, size_pt, bold, measure)
        if line and line_w + token_w > width_mm + 1e-6:
            while line and line[-1] == " ":
                line.pop()
            lines.append(line)
            line, line_w = [], 0.0
            if token == [" "]:
                continue
        if token_w > width_mm + 1e-6:  # a very long word: split it between characters
            for unit in token:
                unit_w = text_width_mm([unit], size_pt, bold, measure)
                if line and line_w + unit_w > width_mm + 1e-6:
                    lines.append(line)
                    line, line_w = [], 0.0
                line.append(unit)
                line_w += unit_w
            continue
        line.extend(token)
        line_w += token_w
    if line:
        lines.append(line)
    return lines or [[]]


@dataclass(frozen=True)
class Fitted:
    size_pt: float
    lines: list[list[str]]

    def height_mm(self, leading: float = 1.35) -> float:
        return len(self.lines) * self.size_pt * leading * PT_TO_MM


def fit(text: str, width_mm: float, size_pt: float, min_single_pt: float, bold: bool, measure: Measure,
        *, max_lines: int | None = None) -> Fitted:
    """One line at `size_pt`, or shrunk to at most `min_single_pt` to stay on one line, or wrapped at
    `size_pt`. With `max_lines`, shrinks further (to half the size) to stay within it, else overflows."""
    units = clusters(text)
    if text_width_mm(units, size_pt, bold, measure) <= width_mm:
        return Fitted(size_pt, [units])
    size = size_pt
    while size - 0.25 >= min_single_pt:
        size -= 0.25
        if text_width_mm(units, size, bold, measure) <= width_mm:
            return Fitted(size, [units])
    size = size_pt
    lines = wrap(text, width_mm, size, bold, measure)
    if max_lines is None:
        return Fitted(size, lines)
    while len(lines) > max_lines:
        size -= 0.25
        if size < size_pt / 2:
            raise LayoutOverflow(f"text of {len(units)} characters does not fit in {max_lines} line(s) "
                                 f"of {width_mm:.0f} mm")
        lines = wrap(text, width_mm, size, bold, measure)
    return Fitted(size, lines)


# --- The page plan ------------------------------------------------------------------------------------

PAGE_W: Final = 210.0
PAGE_H: Final = 297.0
FRAME_OUTER: Final = 10.0  # mm from the page edge
FRAME_INNER: Final = 14.0
CONTENT_X0: Final = 23.0
CONTENT_X1: Final = 187.0
TABLE_TOP: Final = 84.0
TABLE_BOTTOM_MAX: Final = 208.0
LABEL_W: Final = 34.0
CELL_PAD_X: Final = 3.0
QR_SIZE: Final = 40.0  # the symbol itself, quiet zone not included (≥ 35 mm)
QR_X: Final = 25.0
QR_Y: Final = 214.0
SEAL_R: Final = 21.0
SEAL_CX: Final = 167.0
SEAL_CY: Final = 236.0
ELICENSE_X: Final = 78.0  # the identifier's line, under the seal and the issue date
ELICENSE_TOP: Final = 259.5


@dataclass(frozen=True)
class TableRow:
    row: Row
    label: Fitted
    value: Fitted
    top: float
    height: float


def plan_table(rows: Sequence[Row], measure: Measure) -> list[TableRow]:
    """Rows with their fitted text and heights: the table shrinks as a whole until it fits its space."""
    value_w = CONTENT_X1 - CONTENT_X0 - LABEL_W - 2 * CELL_PAD_X
    label_w = LABEL_W - 2 * CELL_PAD_X
    budget = TABLE_BOTTOM_MAX - TABLE_TOP
    for step in range(11):  # 100 % down to 50 %
        scale = 1.0 - step * 0.05
        planned: list[TableRow] = []
        top = TABLE_TOP
        for row in rows:
            base = (13.5 if row.key == "name" else 12.0) * scale
            value = fit(row.value, value_w, base, 9.5 * scale, row.bold, measure)
            label = fit(row.label, label_w, 11.0 * scale, 8.0 * scale, False, measure, max_lines=2)
            height = max(8.6 * scale, value.height_mm() + 3.2 * scale, label.height_mm() + 3.2 * scale)
            planned.append(TableRow(row, label, value, top, height))
            top += height
        if top <= TABLE_BOTTOM_MAX:
            return planned
    raise LayoutOverflow(f"the certificate's facts do not fit on one page (they need more than {budget:.0f} mm "
                         "even at the smallest type)")
