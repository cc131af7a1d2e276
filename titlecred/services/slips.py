"""Result query slips (职称评审结果查询单): a signed statement of what the database records.

A lost paper certificate is not reissued on paper; Shanghai issues a query slip from its database
instead. Here the slip is a Verifiable Credential of type `TitleQuerySlip`, signed by the bureau,
whose subject states the record (name, the masked ID number, qualification, series, specialty,
level, date, the certificate number) and, in `recordStatement`, the same in one Chinese sentence
naming the issuing body and the appointment document. Only terms of https://w3id.org/titlecred/v1
and the VC 2.0 context are used (an undefined term would make the slip unverifiable).

The holder asks for a slip of their own record; the bureau for anyone's. A slip never carries the
full ID number: it is shown to employers and others.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from issuer.credential import new_credential_id
from issuer.sign import sign_document
from schemas import CREDENTIALS_V2_URL, TITLE_CONTEXT_URL, titles
from schemas.identifiers import mask_id_number
from titlecred.db.models import Certificate, LegacyRecord, Person, QuerySlip
from titlecred.services import audit
from titlecred.services.clock import stamp
from titlecred.services.context import Registry
from titlecred.services.errors import Forbidden, Invalid, NotFound
from titlecred.services.principal import Principal
from titlecred.services.tx import atomic

SLIP_TYPE = ["VerifiableCredential", "TitleQuerySlip"]


def _may_request(actor: Principal, person_id: int) -> None:
    if actor.is_bureau_staff or (actor.is_holder and actor.person_id == person_id):
        return
    raise Forbidden("a query slip is issued to the record's holder, or by the bureau")


def _statement(issuer_name: str, facts: dict[str, Any], masked: str, issuing_body: str, document: str | None) -> str:
    doc = f"，任职文件{document}" if document else ""
    return (f"经查询{issuer_name}专业技术资格数据库：{facts['name']}（公民身份号码{masked}）于{facts['dateQualified']}"
            f"取得{facts['series']}系列{facts['qualification']}（{facts['level']}）资格，专业{facts['specialty']}，"
            f"证书编号{facts['certificateNumber']}，发证单位{issuing_body}{doc}。本查询单依据数据库记录开具。")


def issue(session: Session, registry: Registry, actor: Principal, *, legacy_record_id: int | None = None,
          certificate_id: int | None = None) -> QuerySlip:
    if (legacy_record_id is None) == (certificate_id is None):
        raise Invalid("invalid_request", "name exactly one of legacyRecordId or certificateId", 422, "legacyRecordId")
    now = registry.now()
    with atomic(session):
        document = None
        if legacy_record_id is not None:
            rec = session.get(LegacyRecord, legacy_record_id)
            if rec is None:
                raise NotFound("record")
            _may_request(actor, rec.person_id)
            person_id = rec.person_id
            facts: dict[str, Any] = {"name": rec.name, "qualification": rec.qualification, "series": rec.series,
                                     "specialty": rec.specialty, "level": rec.level,
                                     "dateQualified": rec.date_qualified, "certificateNumber": rec.certificate_number}
            if rec.review_body:
                facts["reviewBody"] = rec.review_body
            if rec.scope_of_use:
                facts["scopeOfUse"] = rec.scope_of_use
            issuing_body, document = rec.issuing_body, rec.document_number
        else:
            cert = session.get(Certificate, certificate_id)
            if cert is None:
                raise NotFound("certificate")
            _may_request(actor, cert.person_id)
            person_id = cert.person_id
            record = json.loads(cert.record_json)
            facts = {k: record[k] for k in ("name", "qualification", "series", "specialty", "level", "dateQualified",
                                            "certificateNumber", "reviewBody", "scopeOfUse") if k in record}
            issuing_body = registry.profile.name
        person = session.get(Person, person_id)
        assert person is not None
        masked = mask_id_number(person.id_number)
        subject: dict[str, Any] = {"type": "ProfessionalTitleHolder", "name": facts["name"], "idNumberMasked": masked}
        subject.update({k: v for k, v in facts.items() if k != "name"})
        subject["levelCode"] = titles.level_letter(facts["level"])
        subject["recordStatement"] = _statement(registry.profile.name, facts, masked, issuing_body, document)
        doc = {"@context": [CREDENTIALS_V2_URL, TITLE_CONTEXT_URL], "id": new_credential_id(), "type": list(SLIP_TYPE),
               "issuer": registry.profile.as_json(), "validFrom": stamp(now), "credentialSubject": subject}
        key = registry.keys.active()
        signed = sign_document(doc, key, created=stamp(now))
        digest = audit.credential_hash(signed)
        slip = QuerySlip(person_id=person_id, legacy_record_id=legacy_record_id, certificate_id=certificate_id,
                         requested_by=actor.account_id, credential_id=signed["id"],
                         json_text=json.dumps(signed, ensure_ascii=False), hash=digest, issued_at=now)
        session.add(slip)
        session.flush()
        entry = audit.append(session, at=now, actor=actor.actor, action="queryslip.issued", subject=f"slip:{slip.id}",
                             details={"slipId": slip.id, "credentialId": signed["id"], "hash": digest,
                                      "legacyRecordId": legacy_record_id, "certificateId": certificate_id,
                                      "keyId": key.verification_method})
        audit.record_credential(session, entry, signed)
    return slip


def list_for(session: Session, actor: Principal) -> list[QuerySlip]:
    stmt = select(QuerySlip).order_by(col(QuerySlip.id))
    if actor.is_holder:
        stmt = stmt.where(QuerySlip.person_id == actor.person_id)
    elif not actor.is_bureau_staff:
        raise Forbidden("query slips are the holder's and the bureau's")
    return list(session.exec(stmt.limit(500)).all())
