"""The PDF copy of a purpose-bound share (加注): one A4 page stating the facts, the purpose and the
period as signed, a QR code of the share's link (where it is verified, and where a withdrawn or
expired share says so), and the signed share credential attached (`share-credential.json`).
"""

from __future__ import annotations

import io
import json
from typing import Any

import segno
from fpdf import FPDF
from PIL import Image

from printing.errors import PrintingError
from printing.fonts import font_set

LABELS = (("name", "姓名"), ("idNumberMasked", "身份证号"), ("qualification", "资格名称"), ("series", "系列"),
          ("specialty", "专业"), ("level", "级别"), ("dateQualified", "取得时间"),
          ("certificateNumber", "证书编号"), ("reviewBody", "评审机构"))


def render_share_pdf(share: dict[str, Any], link: str, issuer_name: str) -> bytes:
    if "TitleShareCredential" not in (share.get("type") or []) or "proof" not in share:
        raise PrintingError("only a signed share credential is printed here")
    paths = font_set().paths
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creator("TitleCred")
    pdf.set_title("职称证书加注分享 " + str(share["credentialSubject"].get("certificateNumber", "")))
    pdf.add_font("serif", fname=str(paths.serif.path), collection_font_number=paths.serif.index)
    pdf.add_page()
    pdf.set_font("serif", size=20)
    pdf.cell(0, 14, "专业技术职称证书（加注分享）", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("serif", size=11)
    pdf.multi_cell(0, 7, f"签发机关：{issuer_name}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    subject = share["credentialSubject"]
    for key, label in LABELS:
        if key in subject:
            pdf.cell(40, 8, label, border=1)
            pdf.cell(0, 8, str(subject[key]), border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_font("serif", size=13)
    pdf.multi_cell(0, 8, f"用途（加注）：{share['sharePurpose']}", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 8, f"有效期：{share['validFrom']} 至 {share['validUntil']}（UTC）", new_x="LMARGIN",
                   new_y="NEXT")
    pdf.set_font("serif", size=10)
    pdf.multi_cell(0, 6, "用途与有效期由签发机关签名；超出有效期或持证人撤回后，本分享不再通过核验。扫描二维码核验：",
                   new_x="LMARGIN", new_y="NEXT")
    png = io.BytesIO()
    segno.make(link, error="m").save(png, kind="png", scale=6, border=2)
    png.seek(0)
    # Greyscale, not bilevel: fpdf2 writes 1-bit images with CCITTFaxDecode, a filter our PDF reader
    # refuses (printing.pdfscan), and this copy must read back through `titlecred verify`.
    pdf.image(Image.open(png).convert("L"), x=pdf.l_margin, w=45)
    pdf.set_font("serif", size=8)
    pdf.multi_cell(0, 5, link, new_x="LMARGIN", new_y="NEXT")
    pdf.embed_file(bytes=json.dumps(share, ensure_ascii=False, indent=2).encode("utf-8"),
                   basename="share-credential.json", mime_type="application/json",
                   associated_file_relationship="Source")
    return bytes(pdf.output())
