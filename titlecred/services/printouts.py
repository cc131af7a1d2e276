"""The printable certificate of a stored certificate, for whoever may see it.

The QR code's compact form is signed now, with the registry's active key (the cached signer), from
the certificate's stored minimal credential; the page is rendered from the full credential (it prints
the ID number masked). The attachment follows the reader: the holder and the bureau get the full
credential, an employer the minimal one.

A revoked or superseded certificate is printed for the bureau only (a record copy): a fresh printout
of it in anyone else's hands would look valid to a reader who does not scan it.

It must never attach the full credential for an employer, nor print a certificate its reader may not see.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session

from issuer.compact import CompactFormError, compact_from_minimal
from titlecred.errors import AppError
from titlecred.services import certificates
from titlecred.services.context import Registry
from titlecred.services.errors import Conflict
from titlecred.services.principal import Principal

PDF_MEDIA_TYPE = "application/pdf"


@dataclass(frozen=True)
class Printout:
    filename: str
    data: bytes
    attached: str  # "full" | "minimal"


class PrintoutFailed(AppError):
    """The page could not be made: a missing font is the server's fault (503), the rest the data's (409)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, 503 if code == "fonts_missing" else 409)


def certificate_pdf(session: Session, registry: Registry, actor: Principal, cert_id: int, *,
                    fmt: str = "pdf") -> Printout:
    """The certificate's printout as PDF, or (`fmt="ofd"`) as OFD for e-license libraries."""
    from printing.errors import PrintingError
    from printing.ofd.package import render_ofd
    from printing.pdf import render_pdf

    cert = certificates.get(session, actor, cert_id)
    if cert.state in ("revoked", "superseded") and not actor.is_bureau_staff:
        what = "revoked" if cert.state == "revoked" else "replaced by a reissue (补发)"
        raise Conflict(f"certificate_{cert.state}", f"certificate {cert.certificate_number} was {what}; it is no "
                       "longer printed (the reissued certificate, if any, is)")
    full, minimal = json.loads(cert.full_json), json.loads(cert.minimal_json)
    try:
        qr_text = compact_from_minimal(minimal, registry.keys.active(), registry.base_url, now=registry.now())
    except CompactFormError as e:
        raise PrintoutFailed(e.code, e.message) from None
    full_form = certificates.sees_full(actor, cert)
    try:
        render = render_ofd if fmt == "ofd" else render_pdf
        data = render(full, qr_text, attach=None if full_form else minimal)
    except PrintingError as e:
        raise PrintoutFailed(e.code, e.message) from None
    return Printout(filename=f"{cert.certificate_number}.{'ofd' if fmt == 'ofd' else 'pdf'}", data=data,
                    attached="full" if full_form else "minimal")
