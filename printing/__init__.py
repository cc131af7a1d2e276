"""The printable certificate: one A4 page with a QR code that verifies offline, as a PDF.

Imports `schemas`, `keys` and `proofs` only; never `issuer`, `verifier` or `titlecred`. It never touches
the network, and it never puts a full resident ID number on a page or in a QR code.

- `fonts`   find the CJK fonts once, parse them once, and hand out glyphs (cached across documents)
- `cff`     build the small CID-keyed CFF font program each page embeds (only the glyphs it uses)
- `layout`  what the page says (the printed facts) and where it goes (line breaking, shrink-to-fit)
- `seal`    the red round seal, drawn from the issuer's name
- `qr`      the QR symbol of the compact signed form (zxing-cpp's encoder), drawn as vector modules
- `pdfdoc`  a minimal PDF 1.7 object writer (one page, one font, one attachment)
- `pdf`     `render_pdf(full_credential, compact_qr_text) -> bytes`
- `extract` read a PDF or a photo back: the attachment, the page text, the QR text (bounded)
- `ofd/`    the same page as OFD (GB/T 33190) with glyf font subsets, and the SM2/SM3 seal
"""
