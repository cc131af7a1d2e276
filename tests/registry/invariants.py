"""The invariants every fault test ends with: numbering gapless and unique, no certificate without its
application and its status entries, no status index twice, every issued application has its certificate,
the audit chain intact with one issuance entry per certificate."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import select

from titlecred.db.models import Application, AuditEntry, Certificate, StatusEntry
from titlecred.services import audit


def check_invariants(sessions: Any) -> dict[str, int]:
    with sessions() as s:
        certs = s.exec(select(Certificate)).all()
        seqs = sorted(c.seq for c in certs)
        assert seqs == list(range(1, len(certs) + 1)), "certificate numbers have a gap or a duplicate"
        assert len({c.certificate_number for c in certs}) == len(certs)
        apps = [c.application_id for c in certs if c.application_id is not None]
        assert len(apps) == len(set(apps)), "an application has two certificates"
        issued = set(s.exec(select(Application.id).where(Application.state == "issued")).all())
        assert issued == set(apps), "issued applications and certificates differ"
        entries = s.exec(select(StatusEntry.list_id, StatusEntry.index, StatusEntry.certificate_id)).all()
        assert len({(lst, i) for lst, i, _ in entries}) == len(entries), "a status index was given out twice"
        per_cert = Counter(c for _, _, c in entries if c is not None)
        assert all(per_cert[c.id] == 2 for c in certs), "a certificate lacks its two status entries"
        for c in certs:
            assert (c.revocation_list_id, c.revocation_index) in {(lst, i) for lst, i, cid in entries if cid == c.id}
        report = audit.verify_chain(s)
        assert report.ok, report.reason
        issued_entries = s.exec(select(AuditEntry.subject).where(AuditEntry.action == "certificate.issued")).all()
        assert sorted(issued_entries) == sorted(f"certificate:{c.certificate_number}" for c in certs)
        return {"certificates": len(certs), "audit": report.entries}
