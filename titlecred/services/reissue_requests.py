"""Holders' requests for a reissue (补发) of a lost or damaged certificate, and the bureau's decision.

Shanxi reissues an electronic certificate "on application" (shared/DOMAIN.md): the holder applies, the
bureau decides.

- `request_reissue`: the certificate's holder only; a reason from `certificates.REISSUE_REASONS` (lost
  遗失, damaged 损坏, other 其他) and an optional detail; only for an active or suspended certificate;
  one open request per certificate (a second is `Conflict(reissue_request_open)`: the row lock on the
  certificate serializes requests, and a unique column keeps it in the database too).
- `decide`: the bureau's officers; `approve` reissues the certificate (`certificates.reissue_in_transaction`,
  with the request's reason and detail) and links the new certificate; `decline` needs a reason and
  leaves the certificate as it was. The request's new state, the reissue and both audit entries are one
  transaction: if any step fails (a suspended or revoked certificate, no signing key...), the database
  is as it was and the request still pending.
- `list_requests`, `get_request`: a holder sees their own, the bureau every request.

Lock order, the same as every other writer's: the certificate row, then the request row, then the
number counter, the status lists and the audit head.

It must never let anyone but the holder ask, or anyone but the bureau decide, and never put an ID number
in a message or an audit entry.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from titlecred.db.models import Certificate, ReissueRequest
from titlecred.services import audit, certificates
from titlecred.services.context import Registry
from titlecred.services.errors import Conflict, Forbidden, Invalid, NotFound
from titlecred.services.principal import Principal, require_bureau, require_holder
from titlecred.services.tx import atomic, locked

STATES = ("pending", "approved", "declined")
DECISIONS = ("approve", "decline")
# What a holder may ask a reissue of: a revoked or superseded certificate is not reissued.
REISSUABLE = ("active", "suspended")


def _check_reason(reason: Any) -> str:
    if not isinstance(reason, str) or reason not in certificates.REISSUE_REASONS:
        raise Invalid("invalid_reason", "reason must be one of " + ", ".join(certificates.REISSUE_REASONS), 422,
                      "reason")
    return reason


def open_request(session: Session, cert_id: int) -> ReissueRequest | None:
    """The certificate's pending request, if there is one."""
    return session.exec(select(ReissueRequest).where(ReissueRequest.certificate_id == cert_id,
                                                     ReissueRequest.state == "pending")).first()


def request_reissue(session: Session, registry: Registry, actor: Principal, cert_id: int, reason: str,
                    detail: str | None = None) -> ReissueRequest:
    """The holder asks the bureau to reissue their lost or damaged certificate (one transaction)."""
    require_holder(actor)
    reason = _check_reason(reason)
    text = certificates.detail_text(detail)
    with atomic(session):
        cert = certificates.locked_cert(session, cert_id)
        if cert.person_id != actor.person_id:
            raise Forbidden("only the certificate's holder may ask for its reissue")
        if cert.state not in REISSUABLE:
            raise Conflict("not_reissuable", f"the certificate is {cert.state}; only an active or suspended "
                           "certificate is reissued")
        pending = open_request(session, cert_id)
        if pending is not None:
            raise Conflict("reissue_request_open", f"a reissue request for this certificate is already open "
                           f"(request {pending.id}); wait for the bureau's decision")
        assert actor.person_id is not None
        row = ReissueRequest(certificate_id=cert_id, person_id=actor.person_id, requester_account_id=actor.account_id,
                             reason=reason, detail=text, state="pending", open_certificate_id=cert_id,
                             created_at=registry.now())
        session.add(row)
        session.flush()
        audit.append(session, at=registry.now(), actor=actor.actor, action="reissue.requested",
                     subject=f"certificate:{cert.certificate_number}",
                     details={"requestId": row.id, "certificateId": cert.id, "reason": reason,
                              "reasonName": certificates.REISSUE_REASONS[reason], "detail": text})
    return row


def _can_view(actor: Principal, row: ReissueRequest) -> bool:
    return actor.is_bureau_staff or (actor.is_holder and actor.person_id == row.person_id)


def get_request(session: Session, actor: Principal, request_id: int) -> ReissueRequest:
    row = session.get(ReissueRequest, request_id)
    if row is None:
        raise NotFound("reissue request")
    if not _can_view(actor, row):
        raise Forbidden("this reissue request is not yours")
    return row


def list_requests(session: Session, actor: Principal, state: str | None = None, limit: int = 100,
                  offset: int = 0, certificate_id: int | None = None) -> list[ReissueRequest]:
    """A holder's own requests, or (the bureau) every request; newest first."""
    stmt = select(ReissueRequest)
    if actor.is_holder:
        require_holder(actor)
        stmt = stmt.where(ReissueRequest.person_id == actor.person_id)
    else:
        require_bureau(actor, "only the bureau sees holders' reissue requests")
    if state is not None:
        if state not in STATES:
            raise Invalid("invalid_state", "state must be one of " + ", ".join(STATES), 422, "state")
        stmt = stmt.where(ReissueRequest.state == state)
    if certificate_id is not None:
        stmt = stmt.where(ReissueRequest.certificate_id == certificate_id)
    stmt = stmt.order_by(col(ReissueRequest.id).desc()).offset(max(0, offset)).limit(max(1, min(limit, 500)))
    return list(session.exec(stmt).all())


def decide(session: Session, registry: Registry, actor: Principal, request_id: int, decision: str,
           reason: str | None = None) -> ReissueRequest:
    """The bureau approves (the certificate is reissued) or declines (with a reason) a pending request.

    One transaction: the request's state, the reissue and the audit entries commit together or not at all.
    """
    require_bureau(actor, "only the bureau's officers decide reissue requests")
    if decision not in DECISIONS:
        raise Invalid("invalid_decision", "decision must be approve or decline", 422, "decision")
    text = certificates.detail_text(reason, "reason")
    if decision == "decline" and text is None:
        raise Invalid("reason_required", "declining a reissue request needs a reason", 422, "reason")
    with atomic(session):
        found = session.get(ReissueRequest, request_id)
        if found is None:
            raise NotFound("reissue request")
        cert = certificates.locked_cert(session, found.certificate_id)
        row = locked(session, select(ReissueRequest).where(ReissueRequest.id == request_id))
        assert row is not None
        if row.state != "pending":
            raise Conflict("not_pending", f"the reissue request was already {row.state}")
        now = registry.now()
        row.state = "approved" if decision == "approve" else "declined"
        row.open_certificate_id = None
        row.decided_at, row.decided_by_account_id, row.decision_reason = now, actor.account_id, text
        session.add(row)
        session.flush()
        new: Certificate | None = None
        if decision == "approve":
            new = certificates.reissue_in_transaction(session, registry, actor, cert, row.reason, row.detail)
            row.new_certificate_id = new.id
            session.add(row)
        audit.append(session, at=now, actor=actor.actor, action=f"reissue.{row.state}",
                     subject=f"certificate:{cert.certificate_number}",
                     details={"requestId": row.id, "certificateId": cert.id, "reason": text,
                              "newCertificateId": new.id if new else None,
                              "newCertificateNumber": new.certificate_number if new else None})
    return row
