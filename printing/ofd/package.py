"""`render_ofd(full_credential, compact_qr_text) -> bytes`: the certificate as an OFD package.

Parts (GB/T 33190-2016; every XML part validates against the standard's XSDs):

    OFD.xml                         DocInfo (title, author, date, keywords, the e-license identifier as
                                    CustomData) and the DocRoot
    Doc_0/Document.xml              CommonData (MaxUnitID, the A4 PhysicalBox, PublicRes), one page,
                                    the attachments
    Doc_0/PublicRes.xml             the fonts, each with its embedded TrueType (glyf) subset
    Doc_0/Res/font_N.ttf
    Doc_0/Pages/Page_0/Content.xml  three layers: Background (frame, rosette), Body (text, table, QR
                                    code), Foreground (the seal, 92 % opaque as in the PDF)
    Doc_0/Attachs/Attachments.xml   the signed credential, as in the PDF (`credential.jsonld`)
    Doc_0/Attachs/credential.jsonld

The output is a pure function of its input (no clock, fixed ZIP times): the same certificate gives
the same bytes, which sealing (`printing.ofd.seal`) relies on.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from printing.fonts import clusters, font_set
from printing.layout import CHINA_TIME, PAGE_H, PAGE_W, TITLE
from printing.ofd.draw import Interpreter, PageObject, PathObject, TextObject, fmt
from printing.ofd.font import build_font
from printing.pdf import ATTACHMENT_MIME, ATTACHMENT_NAME, LAYOUT_VERSION, ComposedPage, compose_page
from printing.pdfdoc import PageFont
from proofs.dataintegrity import parse_datetime

NS = "http://www.ofdspec.org/2016"
DOC = "Doc_0"
CONTENT_PATH = f"{DOC}/Pages/Page_0/Content.xml"
ATTACHMENTS_PATH = f"{DOC}/Attachs/Attachments.xml"
ATTACHMENT_PATH = f"{DOC}/Attachs/{ATTACHMENT_NAME}"
FONT_FAMILY = "TitleCredSerifSC"
SEAL_ALPHA = 235  # 0.92, as the PDF's seal
_lock = threading.Lock()
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _color(rgb: tuple[float, float, float]) -> str:
    return " ".join(str(round(max(0.0, min(1.0, c)) * 255)) for c in rgb)


def _box(box: tuple[float, float, float, float]) -> str:
    return " ".join(fmt(v) for v in box)


class _Ids:
    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last


def _object_xml(obj: PageObject, ids: _Ids, font_ids: Mapping[bool, int]) -> str:
    if isinstance(obj, TextObject):
        weight = ' Weight="700"' if obj.bold else ""
        delta = f" DeltaX={quoteattr(' '.join(fmt(d) for d in obj.deltas))}" if obj.deltas else ""
        return (f'<ofd:TextObject ID="{ids.next()}" Boundary="{_box(obj.boundary)}" Font="{font_ids[obj.bold]}" '
                f'Size="{fmt(obj.size)}"{weight}><ofd:FillColor Value="{_color(obj.color)}"/>'
                f'<ofd:TextCode X="{fmt(obj.x)}" Y="{fmt(obj.y)}"{delta}>{escape(obj.text)}</ofd:TextCode>'
                "</ofd:TextObject>")
    assert isinstance(obj, PathObject)
    alpha = f' Alpha="{obj.alpha}"' if obj.alpha != 255 else ""
    colors = ""
    if obj.stroke:
        colors += f'<ofd:StrokeColor Value="{_color(obj.stroke_color)}"/>'
    if obj.fill:
        colors += f'<ofd:FillColor Value="{_color(obj.fill_color)}"/>'
    return (f'<ofd:PathObject ID="{ids.next()}" Boundary="{_box(obj.boundary)}" LineWidth="{fmt(obj.line_width)}" '
            f'Stroke="{str(obj.stroke).lower()}" Fill="{str(obj.fill).lower()}"{alpha}>{colors}'
            f"<ofd:AbbreviatedData>{obj.data}</ofd:AbbreviatedData></ofd:PathObject>")


def _layer(kind: str, objects: Iterable[PageObject], ids: _Ids, font_ids: Mapping[bool, int]) -> str:
    layer_id = ids.next()
    body = "".join(_object_xml(o, ids, font_ids) for o in objects)
    return f'<ofd:Layer ID="{layer_id}" Type="{kind}">{body}</ofd:Layer>'


def _objects(page: ComposedPage, ops: Iterable[str]) -> list[PageObject]:
    interpreter = Interpreter(font_set(), page.font, PAGE_H, alphas={"Seal": SEAL_ALPHA})
    interpreter.run(ops)
    return interpreter.objects


@lru_cache(maxsize=256)
def _shapes(ops: tuple[str, ...]) -> tuple[PageObject, ...]:
    """The objects of a drawing without text (the background of a level, an issuer's seal), kept."""
    interpreter = Interpreter(font_set(), PageFont(font_set()), PAGE_H, alphas={"Seal": SEAL_ALPHA})
    interpreter.run(ops)
    return tuple(interpreter.objects)


def issue_date_iso(valid_from: str) -> str:
    parsed = parse_datetime(valid_from)
    assert parsed is not None
    return parsed.astimezone(CHINA_TIME).date().isoformat()


def build_parts(page: ComposedPage, *, minimal_attached: bool = False) -> dict[str, bytes]:
    """The OFD's parts (path → bytes), unsealed, in package order."""
    full, subject = page.full, page.full["credentialSubject"]
    fonts = font_set()
    ids = _Ids()
    with _lock:
        background = _shapes(page.background)
        seal = _shapes(page.seal)
    body = _objects(page, page.canvas.ops)
    used: dict[bool, list[str]] = {}
    for obj in body:
        if isinstance(obj, TextObject):
            seen = used.setdefault(obj.bold, [])
            for cluster in clusters(obj.text):
                if cluster not in seen:
                    seen.append(cluster)
    font_ids = {bold: ids.next() for bold in sorted(used)}
    parts: dict[str, bytes] = {}
    font_entries = []
    for bold, font_clusters in sorted(used.items()):
        name = f"font_{font_ids[bold]}.ttf"
        parts[f"{DOC}/Res/{name}"] = build_font(fonts, font_clusters, bold=bold, family=FONT_FAMILY)
        font_entries.append(
            f'<ofd:Font ID="{font_ids[bold]}" FontName="{FONT_FAMILY}-{"Bold" if bold else "Regular"}" '
            f'FamilyName="{FONT_FAMILY}" Serif="true"{" Bold=" + quoteattr("true") if bold else ""}>'
            f"<ofd:FontFile>{name}</ofd:FontFile></ofd:Font>")
    layers = (_layer("Background", background, ids, font_ids) + _layer("Body", body, ids, font_ids)
              + _layer("Foreground", seal, ids, font_ids))
    page_id = ids.next()
    attachment_id = "credential"
    max_id = ids.last
    number = str(subject["certificateNumber"])
    date = issue_date_iso(str(full["validFrom"]))
    custom = [("certificateNumber", number), ("layout", LAYOUT_VERSION), ("credentialId", str(full.get("id", "")))]
    if subject.get("eLicenseIdentifier"):
        custom.insert(0, ("eLicenseIdentifier", str(subject["eLicenseIdentifier"])))
    doc_id = str(full.get("id", number)).rsplit(":", 1)[-1].replace("-", "")
    ofd_xml = (
        f'{_HEAD}<ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
        f"<ofd:DocID>{escape(doc_id)}</ofd:DocID><ofd:Title>{escape(f'{TITLE} {number}')}</ofd:Title>"
        f"<ofd:Author>{escape(page.issuer)}</ofd:Author>"
        f"<ofd:Subject>{escape(str(subject['qualification']) + ' · ' + page.issuer)}</ofd:Subject>"
        f"<ofd:CreationDate>{date}</ofd:CreationDate><ofd:ModDate>{date}</ofd:ModDate>"
        f"<ofd:DocUsage>EBook</ofd:DocUsage>"
        f"<ofd:Keywords><ofd:Keyword>TitleCred certificate</ofd:Keyword>"
        f"<ofd:Keyword>layout {LAYOUT_VERSION}</ofd:Keyword></ofd:Keywords>"
        f"<ofd:Creator>TitleCred</ofd:Creator><ofd:CustomDatas>"
        + "".join(f"<ofd:CustomData Name={quoteattr(k)}>{escape(v)}</ofd:CustomData>" for k, v in custom)
        + f"</ofd:CustomDatas></ofd:DocInfo><ofd:DocRoot>{DOC}/Document.xml</ofd:DocRoot>"
        "</ofd:DocBody></ofd:OFD>"
    )
    parts["OFD.xml"] = ofd_xml.encode("utf-8")
    parts[f"{DOC}/Document.xml"] = (
        f'{_HEAD}<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData><ofd:MaxUnitID>{max_id}</ofd:MaxUnitID>'
        f"<ofd:PageArea><ofd:PhysicalBox>0 0 {fmt(PAGE_W)} {fmt(PAGE_H)}</ofd:PhysicalBox></ofd:PageArea>"
        "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>"
        f'<ofd:Pages><ofd:Page ID="{page_id}" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
        "<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments></ofd:Document>"
    ).encode()
    parts[f"{DOC}/PublicRes.xml"] = (
        f'{_HEAD}<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:Fonts>{"".join(font_entries)}</ofd:Fonts></ofd:Res>'
    ).encode()
    parts[CONTENT_PATH] = (
        f'{_HEAD}<ofd:Page xmlns:ofd="{NS}"><ofd:Content>{layers}</ofd:Content></ofd:Page>'
    ).encode()
    data = json.dumps(page.attached, ensure_ascii=False, indent=2).encode("utf-8")
    usage = "the minimal signed credential" if minimal_attached else "the full signed credential"
    parts[ATTACHMENTS_PATH] = (
        f'{_HEAD}<ofd:Attachments xmlns:ofd="{NS}"><ofd:Attachment ID="{attachment_id}" '
        f'Name="{ATTACHMENT_NAME}" Format={quoteattr(ATTACHMENT_MIME)} CreationDate="{date}T00:00:00" '
        f'Size="{fmt(len(data) / 1024)}" Visible="false" Usage={quoteattr(usage)}>'
        f"<ofd:FileLoc>{ATTACHMENT_NAME}</ofd:FileLoc></ofd:Attachment></ofd:Attachments>"
    ).encode()
    parts[ATTACHMENT_PATH] = data
    return parts


def zip_parts(parts: Mapping[str, bytes], *, date: str = "2000-01-01") -> bytes:
    """The ZIP container, parts in the order given, with a fixed time (so equal parts give equal bytes)."""
    year, month, day = (int(v) for v in date.split("-"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(max(year, 1980), month, day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


def render_ofd(full_credential: dict[str, Any], compact_qr_text: str, *,
               attach: dict[str, Any] | None = None) -> bytes:
    """The certificate of `full_credential` (signed, full form) as an OFD: the PDF's page, the credential
    attached (`attach`: the minimal form instead, for an employer's copy)."""
    page = compose_page(full_credential, compact_qr_text, attach=attach)
    parts = build_parts(page, minimal_attached=attach is not None)
    return zip_parts(parts, date=issue_date_iso(str(page.full["validFrom"])))
