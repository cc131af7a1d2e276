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


def _lists(session: Session, registry: Registry) -> list[tuple[str, str]]:
    """(published text, its hash) of every list, each re-signed first if stale."""
    ids = list(session.exec(select(StatusList.id).order_by(col(StatusList.id))).all())
    out = []
    for list_id in ids:
        lst = status.published(session, registry, list_id)
        assert lst.published_json is not None and lst.published_hash is not None
        out.append((lst.published_json, lst.published_hash))
    return out


def fingerprint(session: Session, registry: Registry) -> str:
    """What a bundle made now would hold, hashed: unchanged, a bundle made earlier can be served again."""
    head = audit.checkpoint(session, registry.now(), publish=False)
    parts = [h for _, h in _lists(session, registry)] + [f"{head.seq}:{head.hash}"]
    parts += [f"{r.key_id}:{r.state.value}:{r.compromised_at}" for r in registry.keys.records()]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def build(session: Session, registry: Registry) -> dict[str, Any]:
    now = registry.now()
    lists = [json.loads(text) for text, _ in _lists(session, registry)]
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
