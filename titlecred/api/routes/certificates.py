"""Certificates: list and read (by viewer), revoke, suspend, unsuspend, reissue; the credit-system feed.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from titlecred.api import models as m
from titlecred.api import views
from titlecred.api.deps import Id, Limit, Offset, PrincipalDep, RegistryDep, SessionDep
from titlecred.services import certificates, printouts

router = APIRouter(tags=["certificates"], responses=m.PROBLEMS)


@router.get("/api/certificates", summary="Certificates you may see: yours, your staff's, or all (bureau)",
            response_model=list[m.CertificateOut])
def list_certificates(session: SessionDep, registry: RegistryDep, actor: PrincipalDep, number: str | None = None,
                      state: str | None = None, limit: Limit = 100, offset: Offset = 0) -> list[m.CertificateOut]:
    certs = certificates.search(session, registry, actor, number=number, state=state, limit=limit, offset=offset)
    return [views.certificate_out(session, actor, c) for c in certs]


@router.post("/api/certificates/search", summary="Search certificates by name, ID number or number (personal data "
             "travels in the body, never in a URL)", response_model=list[m.CertificateOut])
def search_certificates(body: m.SearchRequest, session: SessionDep, registry: RegistryDep,
                        actor: PrincipalDep) -> list[m.CertificateOut]:
    certs = certificates.search(session, registry, actor, name=body.name, id_number=body.idNumber,
                                number=body.certificateNumber, limit=body.limit, offset=body.offset)
    return [views.certificate_out(session, actor, c) for c in certs]


@router.get("/api/certificates/{cert_id}", summary="One certificate (the full credential for its holder and the "
            "bureau; the minimal one for the employer)", response_model=m.CertificateOut)
def get_certificate(cert_id: Id, session: SessionDep, actor: PrincipalDep) -> m.CertificateOut:
    return views.certificate_out(session, actor, certificates.get(session, actor, cert_id))


@router.get("/api/certificates/{cert_id}/pdf", summary="The printable certificate (A4 PDF with the signed QR code); "
            "the full credential is attached for its holder and the bureau, the minimal one for the employer",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def certificate_pdf(cert_id: Id, session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> Response:
    printout = printouts.certificate_pdf(session, registry, actor, cert_id)
    return Response(printout.data, media_type=printouts.PDF_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{printout.filename}"',
        "Cache-Control": "no-store", "X-TitleCred-Attached": printout.attached})


@router.post("/api/certificates/{cert_id}/revoke", summary="Revoke (bureau): forgery, tampering, renting_out or "
             "other, recorded for the credit system", response_model=m.CertificateOut)
def revoke(cert_id: Id, body: m.RevokeRequest, session: SessionDep, registry: RegistryDep,
           actor: PrincipalDep) -> m.CertificateOut:
    return views.certificate_out(session, actor,
                                 certificates.revoke(session, registry, actor, cert_id, body.reason, body.detail))


@router.post("/api/certificates/{cert_id}/suspend", summary="Suspend (bureau; reversible)",
             response_model=m.CertificateOut)
def suspend(cert_id: Id, body: m.SuspendRequest, session: SessionDep, registry: RegistryDep,
            actor: PrincipalDep) -> m.CertificateOut:
    return views.certificate_out(session, actor, certificates.suspend(session, registry, actor, cert_id, body.detail))


@router.post("/api/certificates/{cert_id}/unsuspend", summary="Lift a suspension (bureau)",
             response_model=m.CertificateOut)
def unsuspend(cert_id: Id, body: m.SuspendRequest, session: SessionDep, registry: RegistryDep,
              actor: PrincipalDep) -> m.CertificateOut:
    return views.certificate_out(session, actor,
                                 certificates.unsuspend(session, registry, actor, cert_id, body.detail))


@router.post("/api/certificates/{cert_id}/reissue", summary="Reissue (补发) a lost or damaged certificate "
             "(bureau): a new certificate linked to the old one, which is superseded; idempotent",
             response_model=m.CertificateOut, status_code=201)
def reissue(cert_id: Id, body: m.ReissueRequest, session: SessionDep, registry: RegistryDep,
            actor: PrincipalDep) -> m.CertificateOut:
    return views.certificate_out(session, actor,
                                 certificates.reissue(session, registry, actor, cert_id, body.reason, body.detail))


@router.get("/api/revocations", summary="Revoked certificates with their reasons, for the credit system (bureau)",
            response_model=list[m.CreditRecord])
def revocations(session: SessionDep, actor: PrincipalDep, limit: Limit = 500,
                offset: Offset = 0) -> list[m.CreditRecord]:
    return [views.credit_record(session, c) for c in certificates.revocations(session, actor, limit, offset)]
