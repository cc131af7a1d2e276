"""Life after issue: revocation, suspension, reissue (补发); who may see which certificate.

- Revocation (final) sets the certificate's bit in its revocation list, with a reason recorded for the
  credit system: forgery 伪造, tampering 篡改, renting out 挂证/出租出借, or other.
- Suspension sets its bit in the suspension list; unsuspension clears it.
- Reissue of a lost or damaged certificate: a new number, new full and minimal credentials marked
  `reissueOf` the old full credential's id and annotated 补发; the old certificate is superseded (its
  revocation bit set, reason "superseded"). Reissuing the same certificate again returns the reissue.
Each is one transaction with its audit entry; only the bureau's officers may do them. A holder asks for
a reissue through `services.reissue_requests`, whose approval runs `reissue_in_transaction` inside the
decision's own transaction.

Visibility: the bureau sees every certificate, a holder their own (both forms), an employer its own
staff's (the minimal form only: the ID number masked).

It must never clear a revocation bit, or show the full credential to anyone but its holder and the
bureau.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from issuer.record import parse_record
from schemas import bitstring
from titlecred.db.models import Certificate, Person, StatusEntry
from titlecred.services import audit, numbering, orgs, outbox, status
from titlecred.services.clock import china_year
from titlecred.services.context import Registry
from titlecred.services.errors import Conflict, Forbidden, Invalid, NotFound
from titlecred.services.persons import find_person, normalize_id
from titlecred.services.principal import Principal, require_bureau
from titlecred.services.tx import atomic, locked

REVOCATION_REASONS = {"forgery": "伪造", "tampering": "篡改", "renting_out": "挂证/出租出借", "other": "其他"}
REISSUE_REASONS = {"lost": "遗失", "damaged": "损坏", "other": "其他"}
REISSUE_MARK = "补发"


def can_view(actor: Principal, cert: Certificate) -> bool:
    if actor.is_bureau_staff:
        return True
    if actor.is_holder:
        return actor.person_id == cert.person_id
    return actor.is_staff and cert.employer_id is not None and cert.employer_id == actor.org_id


def sees_full(actor: Principal, cert: Certificate) -> bool:
    """The full credential (with the ID number) is for the holder and the bureau only."""
    return actor.is_bureau_staff or (actor.is_holder and actor.person_id == cert.person_id)


def get(session: Session, actor: Principal, cert_id: int) -> Certificate:
    cert = session.get(Certificate, cert_id)
    if cert is None:
        raise NotFound("certificate")
    if not can_view(actor, cert):
        raise Forbidden("this certificate is neither yours nor your staff's")
    return cert


def search(session: Session, registry: Registry, actor: Principal, *, name: str | None = None,
           id_number: str | None = None, number: str | None = None, state: str | None = None,
           limit: int = 100, offset: int = 0) -> list[Certificate]:
    stmt = select(Certificate)
    if actor.is_holder:
        stmt = stmt.where(Certificate.person_id == actor.person_id)
    elif not actor.is_bureau_staff:
        if not actor.is_staff:
            raise Forbidden()
        stmt = stmt.where(Certificate.employer_id == actor.org_id)
    if name:
        stmt = stmt.where(Certificate.name == name)
    if id_number:
        person = find_person(session, registry.config, normalize_id(id_number, field="idNumber"))
        if person is None:
            return []
        stmt = stmt.where(Certificate.person_id == person.id)
    if number:
        stmt = stmt.where(Certificate.certificate_number == number)
    if state:
        stmt = stmt.where(Certificate.state == state)
    return list(session.exec(stmt.order_by(col(Certificate.id)).offset(offset).limit(min(limit, 500))).all())


def detail_text(text: Any, field: str = "detail", required: bool = False) -> str | None:
    """Printable text of at most 1000 characters, stripped (None when blank and not required)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        if required:
            raise Invalid("missing_field", f"{field} is required", 422, field)
        return None
    if not isinstance(text, str) or len(text) > 1000 or not text.isprintable():
        raise Invalid("invalid_field", f"{field} must be printable text of at most 1000 characters", 422, field)
    return text.strip()


def locked_cert(session: Session, cert_id: int) -> Certificate:
    """The certificate, locked for the caller's transaction (NotFound if there is none)."""
    cert = locked(session, select(Certificate).where(Certificate.id == cert_id))
    if cert is None:
        raise NotFound("certificate")
    return cert


def revoke(session: Session, registry: Registry, actor: Principal, cert_id: int, reason: str,
           detail: str | None = None) -> Certificate:
    require_bureau(actor)
    if reason not in REVOCATION_REASONS:
        raise Invalid("invalid_reason", "reason must be one of " + ", ".join(REVOCATION_REASONS), 422, "reason")
    text = detail_text(detail)
    with atomic(session):
        cert = locked_cert(session, cert_id)
        if cert.state in ("revoked", "superseded"):
            raise Conflict("already_revoked", f"the certificate is already {cert.state}")
        lists = status.lock_lists(session, [cert.revocation_list_id])
        status.set_bit(session, registry, lists[cert.revocation_list_id], cert.revocation_index, True)
        cert.state, cert.revoked_at = "revoked", registry.now()
        cert.revocation_reason, cert.revocation_detail = reason, text
        session.add(cert)
        outbox.enqueue(session, cert, "revoked", registry.now())
        audit.append(session, at=registry.now(), actor=actor.actor, action="certificate.revoked",
                     subject=f"certificate:{cert.certificate_number}",
                     details={"certificateId": cert.id, "reason": reason, "reasonName": REVOCATION_REASONS[reason],
                              "detail": text})
    return cert


def suspend(session: Session, registry: Registry, actor: Principal, cert_id: int,
            detail: str | None = None) -> Certificate:
    return _set_suspension(session, registry, actor, cert_id, detail, suspended=True)


def unsuspend(session: Session, registry: Registry, actor: Principal, cert_id: int,
              detail: str | None = None) -> Certificate:
    return _set_suspension(session, registry, actor, cert_id, detail, suspended=False)


def _set_suspension(session: Session, registry: Registry, actor: Principal, cert_id: int, detail: str | None,
                    *, suspended: bool) -> Certificate:
    """Suspend an active certificate, or lift a suspension: its bit in the suspension list follows."""
    require_bureau(actor)
    text = detail_text(detail)
    with atomic(session):
        cert = locked_cert(session, cert_id)
        if suspended and cert.state != "active":
            raise Conflict("not_active", f"the certificate is {cert.state}; only an active one is suspended")
        if not suspended and cert.state != "suspended":
            raise Conflict("not_suspended", f"the certificate is {cert.state}, not suspended")
        lists = status.lock_lists(session, [cert.suspension_list_id])
        status.set_bit(session, registry, lists[cert.suspension_list_id], cert.suspension_index, suspended)
        if suspended:
            cert.state, cert.suspended_at, cert.suspension_detail = "suspended", registry.now(), text
        else:
            cert.state, cert.suspended_at, cert.suspension_detail = "active", None, None
        session.add(cert)
        audit.append(session, at=registry.now(), actor=actor.actor,
                     action="certificate.suspended" if suspended else "certificate.unsuspended",
                     subject=f"certificate:{cert.certificate_number}", details={"certificateId": cert.id,
                                                                                "detail": text})
    return cert


def reissue_of(session: Session, cert: Certificate) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.reissue_of_id == cert.id)).first()


def check_reissue_reason(reason: str) -> None:
    if reason not in REISSUE_REASONS:
        raise Invalid("invalid_reason", "reason must be one of " + ", ".join(REISSUE_REASONS), 422, "reason")


def reissue(session: Session, registry: Registry, actor: Principal, cert_id: int, reason: str,
            detail: str | None = None) -> Certificate:
    """补发: a new certificate replacing a lost or damaged one, which is superseded (one transaction)."""
    require_bureau(actor)
    check_reissue_reason(reason)
    text = detail_text(detail)
    with atomic(session):
        old = locked_cert(session, cert_id)
        return reissue_in_transaction(session, registry, actor, old, reason, text)


def reissue_in_transaction(session: Session, registry: Registry, actor: Principal, old: Certificate, reason: str,
                           text: str | None) -> Certificate:
    """Reissue `old` (already locked by the caller) inside the caller's transaction; never commits.
    Reissuing a certificate that already has a reissue returns that reissue."""
    from titlecred.services import issuance

    require_bureau(actor)
    check_reissue_reason(reason)
    existing = reissue_of(session, old)
    if existing is not None:
        return existing
    if old.state != "active":
        raise Conflict("not_active", f"the certificate is {old.state}; only an active certificate is reissued")
    person = session.get(Person, old.person_id)
    assert person is not None and person.id is not None
    bureau = orgs.bureau(session)
    assert bureau.region_code is not None
    data = json.loads(old.record_json)
    notes = [n for n in data.get("annotations", []) if n != REISSUE_MARK]
    data["annotations"] = [*notes, REISSUE_MARK]
    data["reissueOf"] = old.full_id
    data.pop("levelCode", None)
    data.pop("eLicenseIdentifier", None)  # the reissue is a new license: its identifier has its own number
    # Lock order: counter, then the status lists (the old one first), then the audit head.
    number = numbering.allocate(session, letter=old.level_code, region_code=bureau.region_code,
                                year=china_year(registry.now()))
    data["certificateNumber"] = number.text
    record = parse_record(data)
    lists = status.lock_lists(session, [old.revocation_list_id])
    alloc = status.allocate(session, registry)
    status.set_bit(session, registry, lists[old.revocation_list_id], old.revocation_index, True)
    new = issuance.sign_and_store(session, registry, actor, record=record, number=number, alloc=alloc,
                                  person_id=person.id, channel=old.channel, reissue_of=old,
                                  action="certificate.reissued")
    old.state, old.revoked_at = "superseded", registry.now()
    old.revocation_reason = "superseded"
    old.revocation_detail = f"superseded by reissue {number.text} ({REISSUE_REASONS[reason]})" + \
        (f": {text}" if text else "")
    session.add(old)
    return new


def revocations(session: Session, actor: Principal, limit: int = 500, offset: int = 0) -> list[Certificate]:
    """Revoked certificates with their reasons: the feed for the credit system."""
    require_bureau(actor)
    return list(session.exec(select(Certificate).where(Certificate.state == "revoked")
                             .order_by(col(Certificate.revoked_at)).offset(offset).limit(min(limit, 1000))).all())


def set_credential_status(session: Session, registry: Registry, actor: Principal, credential_id: str,
                          purpose: str, value: bool) -> str:
    """The VC API's status update (POST /credentials/status), by credential id.

    A certificate's credential (full or minimal) goes through revoke / suspend / unsuspend above; a
    credential issued through POST /credentials/issue has its bit set directly. Returns the new state.
    """
    require_bureau(actor)
    if purpose not in status.PURPOSES:
        raise Invalid("invalid_purpose", "statusPurpose must be revocation or suspension", 422, "statusPurpose")
    if purpose == "revocation" and not value:
        raise Conflict("revocation_final", "a revocation cannot be undone")
    cert = session.exec(select(Certificate).where((col(Certificate.full_id) == credential_id)
                                                  | (col(Certificate.minimal_id) == credential_id))).first()
    if cert is not None:
        assert cert.id is not None
        if purpose == "revocation":
            if cert.state in ("revoked", "superseded"):
                return cert.state
            return revoke(session, registry, actor, cert.id, "other", "via the VC API").state
        if value == (cert.state == "suspended"):
            return cert.state
        changed = suspend(session, registry, actor, cert.id) if value else unsuspend(session, registry, actor, cert.id)
        return changed.state
    with atomic(session):
        entries = session.exec(select(StatusEntry).where(StatusEntry.credential_id == credential_id)).all()
        lists = status.lock_lists(session, [e.list_id for e in entries])
        entry = next((e for e in entries if lists[e.list_id].purpose == purpose), None)
        if entry is None:
            raise NotFound("credential status", f"no {purpose} status entry for that credential")
        lst = lists[entry.list_id]
        if bitstring.get_bit(lst.bits, entry.index) != value:
            status.set_bit(session, registry, lst, entry.index, value)
            audit.append(session, at=registry.now(), actor=actor.actor, action="credential.status_changed",
                         subject=f"credential:{credential_id}"[:120],
                         details={"credentialId": credential_id, "purpose": purpose, "value": value})
    word = {"revocation": "revoked", "suspension": "suspended"}[purpose]
    return word if value else "active"


def publish_list(session: Session, registry: Registry, actor: Principal, list_id: str) -> None:
    """Sign a status list again now (the VC API's publish step; changes are published at once anyway)."""
    require_bureau(actor)
    with atomic(session):
        lists = status.lock_lists(session, [list_id])
        status.republish(registry, lists[list_id])
