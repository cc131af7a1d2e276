"""What a certificate's signed pair is: one function for every path that issues one (an approval, a
reissue, a batch), so that they cannot drift apart.

Pure but for the key's signature: the record as signed (its print form decided, its e-license
identifier stated) and the full and minimal credentials of it, with the given status entries and time.
Ed25519 is deterministic, so the same inputs give the same bytes; `tests/registry/test_batch.py`
rebuilds batch-issued certificates with it and compares.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from issuer.credential import new_credential_id
from issuer.record import TitleRecord
from issuer.sign import IssuedPair, IssuerKey, issue_pair
from titlecred.services.context import Registry
from titlecred.services.elicense_id import with_identifier
from titlecred.services.printability import with_print_form


def sign_certificate(registry: Registry, key: IssuerKey, record: TitleRecord, *, now: datetime,
                     status: list[dict[str, Any]], full_id: str | None = None,
                     minimal_id: str | None = None) -> tuple[TitleRecord, IssuedPair]:
    """`record` (numbered) as signed, and its pair signed by `key` (new credential ids unless given)."""
    record = with_identifier(with_print_form(record), registry.profile)
    pair = issue_pair(record, registry.profile, key, now=now, status=status,
                      full_id=full_id or new_credential_id(), minimal_id=minimal_id or new_credential_id())
    return record, pair
