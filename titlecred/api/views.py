"""Shaping rows into the API's public models, with the viewer in mind.

The full resident ID number is filled in only for the holder themself and the bureau's officers;
everyone else gets the masked form (`mask_id_number`). Nothing here changes the database.

It must never put a full ID number in a response to anyone but the holder or the bureau.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from schemas import titles
from schemas.identifiers import mask_id_number
from titlecred.api import models as m
from titlecred.db.models import (
    Account,
    ApiToken,
    Application,
    AuditEntry,
    Certificate,
    LegacyRecord,
    Organization,
    Person,
    QuerySlip,
    ReissueRequest,
    UploadBatch,
)
from titlecred.services import applications, certificates
from titlecred.services.principal import Principal


def _org_name(session: Session, org_id: int | None) -> str | None:
    org = session.get(Organization, org_id) if org_id is not None else None
    return org.name if org else None


def person_out(person: Person, full: bool) -> m.PersonOut:
    return m.PersonOut(name=person.name, idNumberMasked=mask_id_number(person.id_number),
                       idNumber=person.id_number if full else None)


def org_out(org: Organization) -> m.OrgOut:
    assert org.id is not None
    return m.OrgOut(id=org.id, kind=org.kind, name=org.name, unitCode=org.unit_code, regionCode=org.region_code,
                    supervisorId=org.supervisor_id, districtId=org.district_id, organizingUnit=org.organizing_unit)


def account_out(session: Session, account: Account, viewer: Principal | None = None) -> m.AccountOut:
    person = session.get(Person, account.person_id) if account.person_id else None
    full = viewer is not None and (viewer.account_id == account.id or viewer.is_bureau_staff)
    assert account.id is not None
    return m.AccountOut(id=account.id, orgId=account.org_id, username=account.username,
                        displayName=account.display_name, role=account.role, active=account.active,
                        person=person_out(person, full) if person else None)


def token_out(row: ApiToken) -> m.TokenOut:
    assert row.id is not None
    return m.TokenOut(id=row.id, accountId=row.account_id, name=row.name, prefix=row.prefix, createdAt=row.created_at,
                      expiresAt=row.expires_at, lastUsedAt=row.last_used_at, revokedAt=row.revoked_at)


def application_out(session: Session, viewer: Principal, app: Application) -> m.ApplicationOut:
    assert app.id is not None
    person = session.get(Person, app.person_id)
    assert person is not None
    full = viewer.is_bureau_staff or (viewer.is_holder and viewer.person_id == app.person_id)
    steps = []
    for s in applications.steps(session, app):
        actor = session.get(Account, s.actor_account_id) if s.actor_account_id else None
        steps.append(m.StepOut(at=s.at, stage=s.stage, action=s.action, orgId=s.org_id,
                               orgName=_org_name(session, s.org_id), actor=actor.display_name if actor else None,
                               reason=s.reason))
    chain = [m.ChainStage(stage=c["stage"], orgId=c["orgId"], orgName=_org_name(session, c["orgId"]) or "")
             for c in applications.chain_of(app)]
    cert = applications.certificate_of(session, app)
    return m.ApplicationOut(
        id=app.id, channel=app.channel, channelName=titles.channel_name(app.channel), state=app.state,
        stage=applications.current_stage(app), awaitingOrgId=app.stage_org_id, chain=chain,
        person=person_out(person, full), facts=applications.facts_of(app),
        paper=json.loads(app.paper_json) if app.paper_json else None, batchId=app.batch_id, line=app.line,
        certificateId=cert.id if cert else None, createdAt=app.created_at, updatedAt=app.updated_at, steps=steps)


def certificate_out(session: Session, viewer: Principal, cert: Certificate) -> m.CertificateOut:
    assert cert.id is not None
    person = session.get(Person, cert.person_id)
    assert person is not None
    revocation = None
    if cert.revocation_reason:
        revocation = m.RevocationOut(reason=cert.revocation_reason, detail=cert.revocation_detail, at=cert.revoked_at)
    successor = certificates.reissue_of(session, cert)
    return m.CertificateOut(
        id=cert.id, certificateNumber=cert.certificate_number, state=cert.state, channel=cert.channel,
        name=cert.name, qualification=cert.qualification, levelCode=cert.level_code,
        idNumberMasked=mask_id_number(person.id_number), applicationId=cert.application_id, issuedAt=cert.issued_at,
        keyId=cert.key_id, revocation=revocation, suspendedAt=cert.suspended_at, reissueOfId=cert.reissue_of_id,
        reissuedAsId=successor.id if successor else None,
        fullCredential=json.loads(cert.full_json) if certificates.sees_full(viewer, cert) else None,
        minimalCredential=json.loads(cert.minimal_json))


def credit_record(session: Session, cert: Certificate) -> m.CreditRecord:
    person = session.get(Person, cert.person_id)
    assert person is not None and cert.revocation_reason is not None
    return m.CreditRecord(certificateNumber=cert.certificate_number, name=cert.name,
                          idNumberMasked=mask_id_number(person.id_number), reason=cert.revocation_reason,
                          reasonName=certificates.REVOCATION_REASONS.get(cert.revocation_reason,
                                                                         cert.revocation_reason),
                          detail=cert.revocation_detail, revokedAt=cert.revoked_at)


def batch_out(batch: UploadBatch) -> m.BatchOut:
    assert batch.id is not None
    return m.BatchOut(id=batch.id, purpose=batch.purpose, orgId=batch.org_id, fmt=batch.fmt, rowsTotal=batch.rows_total,
                      rowsStored=batch.rows_stored, keepValid=batch.keep_valid, createdAt=batch.created_at)


def legacy_out(session: Session, rec: LegacyRecord, full: bool) -> m.LegacyRecordOut:
    person = session.get(Person, rec.person_id)
    assert person is not None and rec.id is not None
    return m.LegacyRecordOut(
        id=rec.id, name=rec.name, idNumberMasked=mask_id_number(person.id_number),
        idNumber=person.id_number if full else None, gender=rec.gender, qualification=rec.qualification,
        series=rec.series, specialty=rec.specialty, level=rec.level, certificateNumber=rec.certificate_number,
        dateQualified=rec.date_qualified, issuingBody=rec.issuing_body, reviewBody=rec.review_body,
        documentNumber=rec.document_number, scopeOfUse=rec.scope_of_use, batchId=rec.batch_id, line=rec.line)


def slip_out(slip: QuerySlip) -> m.SlipOut:
    assert slip.id is not None
    return m.SlipOut(id=slip.id, credentialId=slip.credential_id, issuedAt=slip.issued_at,
                     verifiableCredential=json.loads(slip.json_text))


def audit_out(entry: AuditEntry) -> m.AuditEntryOut:
    details: dict[str, Any] = json.loads(entry.details_json)
    return m.AuditEntryOut(seq=entry.seq, at=entry.at, actor=entry.actor, action=entry.action, subject=entry.subject,
                           details=details, prevHash=entry.prev_hash, hash=entry.hash)


def reissue_request_out(session: Session, row: ReissueRequest) -> m.ReissueRequestOut:
    """A reissue request with its certificate's public facts (the ID number masked, for everyone)."""
    cert = session.get(Certificate, row.certificate_id)
    person = session.get(Person, row.person_id)
    new = session.get(Certificate, row.new_certificate_id) if row.new_certificate_id else None
    assert cert is not None and person is not None and row.id is not None
    return m.ReissueRequestOut(
        id=row.id, certificateId=row.certificate_id, certificateNumber=cert.certificate_number,
        certificateState=cert.state, name=cert.name, idNumberMasked=mask_id_number(person.id_number),
        qualification=cert.qualification, reason=row.reason, detail=row.detail, state=row.state,
        createdAt=row.created_at, decidedAt=row.decided_at, decisionReason=row.decision_reason,
        newCertificateId=row.new_certificate_id, newCertificateNumber=new.certificate_number if new else None)
