"""Issuing: an approved application becomes a numbered, signed certificate, in one transaction.

Order inside the transaction (and the lock order every writer keeps, so none waits in a circle):
application row → number counter → status lists (by name) → audit head. The number and the two
status indexes are taken first, then the active key signs the full and the minimal credential, then
the certificate, its status entries, the application's new state and the audit entry (with both
credentials' hashes, the issuance evidence for a later key compromise) are written. If anything fails,
everything rolls back: no number consumed, no index used, no audit entry.

Idempotent: an application has at most one certificate (unique constraint); issuing it again returns
that certificate. `issue_vc` is the VC API's generic issuance (POST /credentials/issue).

It must never sign anything outside the transaction that stores it, nor issue an application twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from issuer.record import TitleRecord
from issuer.sign import sign_document
from proofs.bounds import check_document
from proofs.dataintegrity import parse_datetime
from proofs.errors import ProofLayerError
from schemas import CREDENTIALS_V2_URL
from schemas.errors import SchemaLayerError
from schemas.loader import default_loader
from schemas.vcdm import credential_problem, ijson_problem, inline_context_problem
from titlecred.db.models import (
    Account,
    Application,
    Certificate,
    CredentialHash,
    IssuedCredential,
    Organization,
    Person,
)
from titlecred.db.models_idempotency import IdempotencyKey
from titlecred.services import applications, audit, numbering, orgs, outbox, status
from titlecred.services.certify import sign_certificate
from titlecred.services.clock import china_year, stamp
from titlecred.services.context import Registry
from titlecred.services.errors import Conflict, Invalid, NotFound
from titlecred.services.metrics import ISSUED
from titlecred.services.principal import EMPLOYER, SELF_REVIEW, Principal, require_bureau
from titlecred.services.tx import atomic, locked

CREDENTIALS_V1_URL = "https://www.w3.org/2018/credentials/v1"


def _employer_of(session: Session, app: Application | None, person_id: int) -> int | None:
    if app is not None and app.employer_id is not None:
        return app.employer_id
    account = session.exec(select(Account).where(Account.person_id == person_id)).first()
    if account is not None:
        org = session.get(Organization, account.org_id)
        if org is not None and org.kind in (EMPLOYER, SELF_REVIEW):
            return org.id
    return None


def sign_and_store(session: Session, registry: Registry, actor: Principal, *, record: TitleRecord,
                   number: numbering.Number, alloc: status.Allocation, person_id: int, channel: str,
                   application: Application | None = None, reissue_of: Certificate | None = None,
                   action: str = "certificate.issued") -> Certificate:
    """Sign both credentials and write the certificate, inside the caller's transaction."""
    now = registry.now()
    # The key is taken as late as possible: whichever key is active at signing time signs.
    key = registry.keys.active()
    record, pair = sign_certificate(registry, key, record, now=now, status=alloc.entries)
    full_hash, minimal_hash = audit.credential_hash(pair.full), audit.credential_hash(pair.minimal)
    cert = Certificate(
        application_id=application.id if application else None,
        reissue_of_id=reissue_of.id if reissue_of else None,
        person_id=person_id, employer_id=_employer_of(session, application, person_id), channel=channel,
        certificate_number=number.text, level_code=record.levelCode, region_code=number.region_code,
        year=number.year, seq=number.seq, name=record.name, qualification=record.qualification,
        record_json=json.dumps(record.as_dict(), ensure_ascii=False),
        full_id=pair.full["id"], minimal_id=pair.minimal["id"],
        full_json=json.dumps(pair.full, ensure_ascii=False), minimal_json=json.dumps(pair.minimal, ensure_ascii=False),
        full_hash=full_hash, minimal_hash=minimal_hash, key_id=key.verification_method, issued_at=now,
        state="active", revocation_list_id=alloc.revocation.list_id, revocation_index=alloc.revocation.index,
        suspension_list_id=alloc.suspension.list_id, suspension_index=alloc.suspension.index,
    )
    session.add(cert)
    session.flush()
    outbox.enqueue(session, cert, "reissued" if reissue_of is not None else "issued", now)
    for status_entry in (alloc.revocation, alloc.suspension):
        status_entry.certificate_id = cert.id
        session.add(status_entry)
    details: dict[str, Any] = {"certificateId": cert.id, "certificateNumber": number.text, "fullId": cert.full_id,
                               "minimalId": cert.minimal_id, "fullHash": full_hash, "minimalHash": minimal_hash,
                               "keyId": key.verification_method, "channel": channel}
    if application is not None:
        details["applicationId"] = application.id
    if reissue_of is not None:
        details["reissueOf"] = reissue_of.certificate_number
    entry = audit.append(session, at=now, actor=actor.actor, action=action,
                         subject=f"certificate:{number.text}", details=details)
    for digest, cred_id in ((full_hash, cert.full_id), (minimal_hash, cert.minimal_id)):
        session.add(CredentialHash(hash=digest, audit_seq=entry.seq, credential_id=cred_id))
    return cert


def issue_in_transaction(session: Session, registry: Registry, actor: Principal, app: Application) -> Certificate:
    """Issue an approved (locked) application inside the caller's transaction; never commits."""
    existing = applications.certificate_of(session, app)
    if existing is not None:
        return existing
    if app.state != "approved":
        raise Conflict("not_approved", f"the application is {app.state}; only an approved one is issued")
    person = session.get(Person, app.person_id)
    assert person is not None and person.id is not None
    bureau = orgs.bureau(session)
    assert bureau.region_code is not None
    facts = applications.facts_of(app)
    letter = applications.placeholder_number(str(facts["level"]))[0]
    number = numbering.allocate(session, letter=letter, region_code=bureau.region_code,
                                year=china_year(registry.now()))
    alloc = status.allocate(session, registry)
    record = applications.to_record(facts, person.id_number, number.text)
    cert = sign_and_store(session, registry, actor, record=record, number=number, alloc=alloc,
                          person_id=person.id, channel=app.channel, application=app)
    app.state, app.updated_at = "issued", registry.now()
    session.add(app)
    applications.add_step(session, app, actor, "bureau", "issued", None, registry)
    ISSUED.labels("approval").inc()
    return cert


def issue_application(session: Session, registry: Registry, actor: Principal, app_id: int) -> Certificate:
    """Issue one approved application (one transaction); issuing it again returns the same certificate."""
    require_bureau(actor)
    try:
        with atomic(session):
            app = locked(session, select(Application).where(Application.id == app_id))
            if app is None:
                raise NotFound("application")
            return issue_in_transaction(session, registry, actor, app)
    except IntegrityError:
        # A concurrent call issued it first (the unique constraint on application_id): read it back.
        cert = session.exec(select(Certificate).where(Certificate.application_id == app_id)).first()
        if cert is None:
            raise
        return cert


@dataclass
class RunResult:
    issued: list[Certificate] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    run_id: int | None = None


def run_batch(session: Session, registry: Registry, actor: Principal, batch_id: int | None = None) -> RunResult:
    """Issue every approved application (of one upload, if given) as a durable batch run.

    The run and its per-row outcome are stored (`titlecred.services.batch`): if this call dies half-way
    (a database fault, a killed process), what was issued is still reported by the run afterwards
    (GET /api/issuance/runs/{id}), and the rest is resumed by the next run.
    """
    from titlecred.services import batch

    run = batch.run_all(session, registry, actor, batch_id)
    assert run.id is not None
    result = RunResult(run_id=run.id)
    settled = [i for i in batch.items(session, run.id, limit=1_000_000) if i.state in ("issued", "failed")]
    cert_ids = [i.certificate_id for i in settled if i.state == "issued" and i.certificate_id is not None]
    certs = {c.id: c for c in session.exec(select(Certificate).where(col(Certificate.id).in_(cert_ids))).all()}
    for item in settled:
        if item.state == "issued" and item.certificate_id in certs:
            result.issued.append(certs[item.certificate_id])
        elif item.state == "failed":
            result.failed.append({"applicationId": item.application_id, "code": item.code, "message": item.message})
    return result


# ------------------------------------------------------------------ VC API issuance

DI_V2_URL = "https://w3id.org/security/data-integrity/v2"
STATUS_V1_URL = "https://www.w3.org/ns/credentials/status/v1"
CRYPTOSUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")


def _bad(code: str, message: str) -> Invalid:
    return Invalid(code, message, 400)


def _prepare(credential: Any, options: dict[str, Any], registry: Registry) -> tuple[dict[str, Any], Registry]:
    """The document to sign and the issuer (bureau or instance) that signs it; `Invalid` otherwise."""
    if not isinstance(credential, dict):
        raise _bad("malformed_credential", "credential must be a JSON object")
    doc = dict(credential)
    try:
        check_document(doc)
    except ProofLayerError as e:
        raise Invalid(e.code, e.message, 413 if e.code == "input_too_large" else 400) from None
    problem = ijson_problem(doc)
    if problem:
        raise _bad(*problem)
    if "proof" in doc:
        raise _bad("already_signed", "the credential already has a proof")
    ctx = doc.get("@context")
    if ctx is None:
        # VC-DI: a credential sent without a context gets the VC 2.0 context.
        doc = {"@context": [CREDENTIALS_V2_URL], **doc}
        ctx = doc["@context"]
    contexts = list(ctx) if isinstance(ctx, list) else [ctx]
    if not contexts or contexts[0] not in (CREDENTIALS_V2_URL, CREDENTIALS_V1_URL):
        raise _bad("invalid_context", "the first @context must be the VC Data Model context")
    loader = default_loader()
    for c in contexts:
        if isinstance(c, dict):
            problem = inline_context_problem(c)
            if problem:
                raise _bad(*problem)
        elif not isinstance(c, str):
            raise _bad("invalid_context", "each @context entry must be a URL or an object")
        elif not loader.knows(c):
            raise _bad("unknown_context", f"@context {c} is not one this issuer knows")
    if contexts[0] == CREDENTIALS_V1_URL and DI_V2_URL not in contexts:
        # A VC 1.1 context does not define DataIntegrityProof: add its context, as peers do.
        contexts.append(DI_V2_URL)
        doc["@context"] = contexts
    types = doc.get("type")
    type_list = types if isinstance(types, list) else [types]
    if "VerifiableCredential" not in type_list or not all(isinstance(t, str) for t in type_list):
        raise _bad("invalid_type", "type must include VerifiableCredential")
    if "issuer" not in doc:
        signer = registry
        doc["issuer"] = registry.profile.did
    else:
        issuer = doc["issuer"]
        if issuer is None:
            raise _bad("invalid_issuer", "issuer is null: give the issuer's URL, or leave it out")
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        found = registry.instance_for_issuer(issuer_id) if isinstance(issuer_id, str) else None
        if found is None:
            mine = ", ".join([registry.profile.did, *(r.profile.did for r in registry.instances.values())])
            raise _bad("wrong_issuer", f"this service issues only as {mine}")
        signer = found
    subject = doc.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    if not subjects or not all(isinstance(s, dict) and s for s in subjects):
        raise _bad("invalid_subject", "credentialSubject must be a non-empty object (or a list of them)")
    credential_id = options.get("credentialId")
    if "id" not in doc and isinstance(credential_id, str):
        doc["id"] = credential_id
    problem = credential_problem(doc)
    if problem:
        raise _bad(*problem)
    for key in ("validFrom", "validUntil", "issuanceDate", "expirationDate"):
        if key in doc and parse_datetime(doc[key]) is None:
            raise _bad("invalid_date", f"{key} must be an XML Schema date-time stamp")
    start, end = parse_datetime(doc.get("validFrom")), parse_datetime(doc.get("validUntil"))
    if start is not None and end is not None and end < start:
        raise _bad("invalid_date", "validUntil is before validFrom")
    if contexts[0] == CREDENTIALS_V1_URL and "issuanceDate" not in doc:
        doc["issuanceDate"] = stamp(registry.now())
    return doc, signer


def _wants_status(options: dict[str, Any], doc: dict[str, Any]) -> bool:
    wanted = options.get("credentialStatus")
    if wanted is None:
        return False
    if not isinstance(wanted, dict) or wanted.get("type") != "BitstringStatusListEntry":
        raise _bad("unsupported_status", 'options.credentialStatus must be {"type": "BitstringStatusListEntry"}')
    ctx = doc["@context"]
    contexts = ctx if isinstance(ctx, list) else [ctx]
    # The status terms are in the VC 2.0 context; a 1.1 credential needs the status context too.
    if contexts[0] != CREDENTIALS_V2_URL and STATUS_V1_URL not in contexts:
        doc["@context"] = [*contexts, STATUS_V1_URL]
    return True


def _cryptosuite(options: dict[str, Any]) -> str:
    suite = options.get("cryptosuite", "eddsa-rdfc-2022")
    if suite not in CRYPTOSUITES:
        raise _bad("unsupported_cryptosuite", f"options.cryptosuite must be one of {', '.join(CRYPTOSUITES)}")
    return str(suite)


def _request_hash(credential: Any, options: dict[str, Any], signer: Registry) -> str:
    text = json.dumps([credential, options, signer.profile.did], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _repeat(session: Session, actor: Principal, key: str, request_hash: str) -> dict[str, Any] | None:
    row = session.exec(select(IdempotencyKey).where(IdempotencyKey.account_id == actor.account_id,
                                                    IdempotencyKey.key == key)).first()
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise Invalid("idempotency_key_reused", "this Idempotency-Key was used with a different request", 422)
    issued = session.get(IssuedCredential, row.issued_credential_id)
    assert issued is not None
    stored: dict[str, Any] = json.loads(issued.json_text)
    return stored


def issue_vc(session: Session, registry: Registry, actor: Principal, credential: Any,
             options: dict[str, Any] | None = None, *, idempotency_key: str | None = None,
             instance: str | None = None) -> dict[str, Any]:
    """Sign a caller's credential as the bureau or one of its issuer instances (VC API).

    A repeat is idempotent: with the same `Idempotency-Key` (per account) it returns the credential
    the first request issued; without a key, a request that yields the very same signed bytes (same
    document, same second) returns that same credential. Anything else is a new credential.
    """
    require_bureau(actor, "only the bureau's API clients may issue credentials")
    options = options if isinstance(options, dict) else {}
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 255):
        raise _bad("invalid_idempotency_key", "Idempotency-Key must be 1 to 255 characters")
    if instance is not None:
        found = registry.instances.get(instance)
        if found is None:
            raise NotFound("issuer instance")
        if isinstance(credential, dict) and "issuer" not in credential:
            credential = {**credential, "issuer": found.profile.did}
    doc, signer = _prepare(credential, options, registry)
    if instance is not None and signer is not registry.instances[instance]:
        raise _bad("wrong_issuer", f"this endpoint issues only as {registry.instances[instance].profile.did}")
    suite = _cryptosuite(options)
    request_hash = _request_hash(credential, options, signer)
    if idempotency_key is not None:
        repeat = _repeat(session, actor, idempotency_key, request_hash)
        session.rollback()
        if repeat is not None:
            return repeat
    try:
        return _sign_and_record(session, signer, actor, doc, options, suite, idempotency_key, request_hash)
    except IntegrityError:
        # A concurrent request with the same key, or the very same bytes, won: return what it issued.
        session.rollback()
        if idempotency_key is not None:
            repeat = _repeat(session, actor, idempotency_key, request_hash)
            if repeat is not None:
                return repeat
            raise
        # Once more: the same bytes are now found and returned (or, a second later, a new credential).
        return _sign_and_record(session, signer, actor, doc, options, suite, idempotency_key, request_hash)


def _sign_and_record(session: Session, signer: Registry, actor: Principal, doc: dict[str, Any],
                     options: dict[str, Any], suite: str, idempotency_key: str | None,
                     request_hash: str) -> dict[str, Any]:
    now = signer.now()
    with atomic(session):
        if _wants_status(options, doc):
            alloc = status.allocate(session, signer, credential_id=doc.get("id"))
            given = doc.get("credentialStatus")
            doc["credentialStatus"] = alloc.entries if given is None else \
                [*(given if isinstance(given, list) else [given]), *alloc.entries]
        key = signer.keys.active()
        try:
            signed = sign_document(doc, key, created=stamp(now), cryptosuite=suite)
        except (ProofLayerError, SchemaLayerError) as e:
            raise Invalid(e.code, e.message, 400) from None
        digest = audit.credential_hash(signed)
        existing = session.exec(select(IssuedCredential).where(IssuedCredential.hash == digest)).first()
        if existing is not None and idempotency_key is None:
            # The same request within the same second: the very same credential, already issued.
            stored: dict[str, Any] = json.loads(existing.json_text)
            return stored
        row = IssuedCredential(credential_id=signed.get("id"), account_id=actor.account_id,
                               json_text=json.dumps(signed, ensure_ascii=False), hash=digest,
                               key_id=key.verification_method, issued_at=now)
        if existing is not None:
            row = existing  # a new key for bytes already issued: remember the key, issue nothing new
        else:
            session.add(row)
            session.flush()
            entry = audit.append(session, at=now, actor=actor.actor, action="credential.issued",
                                 subject=f"credential:{row.id}",
                                 details={"issuedCredentialId": row.id, "credentialId": signed.get("id"),
                                          "hash": digest, "keyId": key.verification_method,
                                          "issuer": signer.profile.did})
            session.add(CredentialHash(hash=digest, audit_seq=entry.seq,
                                       credential_id=str(signed.get("id", ""))))
        if idempotency_key is not None:
            assert row.id is not None and actor.account_id is not None
            session.add(IdempotencyKey(account_id=actor.account_id, key=idempotency_key,
                                       request_hash=request_hash, issued_credential_id=row.id, created_at=now))
            session.flush()
    return signed
