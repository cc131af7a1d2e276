"""E-license exports for the provincial library: one certificate's metadata, and a batch by issue date.

Bureau officers only for the batch (it carries full ID numbers); a certificate's own metadata for
whoever may read the full certificate (its holder and the bureau).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from issuer.elicense_meta import CHINA_TIME, license_metadata
from titlecred.db.models import Certificate
from titlecred.services import certificates
from titlecred.services.errors import Forbidden, Invalid
from titlecred.services.principal import Principal, require_bureau

MAX_BATCH = 10_000
MAX_DAYS = 366


def certificate_metadata(session: Session, actor: Principal, cert_id: int) -> dict[str, str]:
    cert = certificates.get(session, actor, cert_id)
    if not certificates.sees_full(actor, cert):
        raise Forbidden("the e-license metadata carries the holder's ID number: only the holder and the bureau "
                        "may read it")
    return license_metadata(json.loads(cert.full_json), state=cert.state)


def batch(session: Session, actor: Principal, start: date, end: date) -> list[dict[str, str]]:
    """Metadata of every certificate issued from `start` to `end` (China dates, both included)."""
    require_bureau(actor, "only the bureau's officers may export e-license metadata")
    if end < start:
        raise Invalid("invalid_range", "the end date is before the start date")
    if (end - start).days >= MAX_DAYS:
        raise Invalid("invalid_range", f"export at most {MAX_DAYS} days at a time")
    lo = datetime.combine(start, time(), CHINA_TIME)
    hi = datetime.combine(end + timedelta(days=1), time(), CHINA_TIME)
    certs = session.exec(select(Certificate).where(col(Certificate.issued_at) >= lo, col(Certificate.issued_at) < hi)
                         .order_by(col(Certificate.issued_at), col(Certificate.id)).limit(MAX_BATCH + 1)).all()
    if len(certs) > MAX_BATCH:
        raise Invalid("too_many", f"more than {MAX_BATCH} certificates in this range: export a shorter one")
    return [license_metadata(json.loads(c.full_json), state=c.state) for c in certs]
