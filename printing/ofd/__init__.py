"""The certificate as OFD (GB/T 33190-2016), the national fixed-layout format of e-license libraries.

The page is the PDF's page: `printing.pdf.compose_page` lays it out once and both writers draw it.

- `font`     TrueType-outline (glyf) subsets of the page's glyphs, built with fontTools (cu2qu)
- `draw`     the page's drawing operators turned into OFD text and path objects
- `package`  the XML parts and the ZIP container (`render_ofd`), the credential as an attachment
- `reader`   bounded reading of an OFD: parts, attachment, text (for `titlecred verify`)
- `seal`     sealed OFD: Doc_0/Signs, SM3 digests per part, an SM2 signature by a pluggable signer
"""
