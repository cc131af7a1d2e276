"""The bureau's verification bundle (verifier/bundle.py has its format): built from the keystore, every
status list (each re-signed first if stale) and the audit log's head, dated now and signed with the
active key (eddsa-jcs-2022, the same proofs module as every credential).

Building it publishes the audit head as a checkpoint (the bundle is a publication: from its date on, the
world can know what the log held).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel import Session, col, select

from issuer.sign import sign_document
from titlecred.db.models import StatusList
from titlecred.services import audit, status
from titlecred.services.clock import stamp
from titlecred.services.context import Registry
from verifier.bundle import unsigned_bundle


def build(session: Session, registry: Registry) -> dict[str, Any]:
    now = registry.now()
    ids = list(session.exec(select(StatusList.id).order_by(col(StatusList.id))).all())
    lists = []
    for list_id in ids:
        lst = status.published(session, registry, list_id)
        assert lst.published_json is not None
        lists.append(json.loads(lst.published_json))
    head = audit.checkpoint(session, now)
    doc = unsigned_bundle(issuer=registry.profile.did, issuer_name=registry.profile.name, date=stamp(now),
                          did_document=registry.did_document(), records=registry.keys.records(),
                          status_lists=lists,
                          issuance_log={"seq": head.seq, "hash": head.hash, "publishedAt": head.published_at})
    return sign_document(doc, registry.keys.active(), created=stamp(now), cryptosuite="eddsa-jcs-2022")


def encoded(bundle: dict[str, Any]) -> tuple[bytes, str]:
    """The bundle's bytes as served, and their strong ETag."""
    body = json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return body, '"' + hashlib.sha256(body).hexdigest() + '"'
