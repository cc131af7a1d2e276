"""The registry's tables (SQLModel). Alembic migrations in titlecred/migrations follow these.

What it is for: the shape of what the bureau keeps: organizations and accounts, applications and every
review step, certificates with their numbers and status-list entries, the status lists themselves,
the hash-chained audit log, legacy records and query slips, holders' consent codes and the log of
lookups of their certificates, one-time sign-in codes and pending contact changes, holders' reissue
requests, and rate-limit counters.

What it must never do:
- hold business rules (services do) or be returned to API clients as is (api/models.py has the public
  shapes, which mask ID numbers);
- store a secret in the clear: passwords are Argon2 hashes, API and session tokens SHA-256 hashes,
  consent and sign-in codes HMACs (so are rate-limit keys: a client address is never stored).
  Resident ID numbers are kept (the bureau needs them on the certificate) next to an HMAC that is
  what lookups use, so that a search never needs the number in an index or a log.

Times are stored as naive UTC (`UtcDateTime`) and read back as aware UTC datetimes on both databases:
SQLite keeps no zone, and one convention keeps comparisons simple. Credentials and audit details are
kept as the exact JSON text that was signed or hashed (Text, not a JSON column, which may re-serialize
them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, LargeBinary, MetaData, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Stable constraint names on both databases, so that migrations can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata: MetaData = SQLModel.metadata


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time: aware UTC in Python, naive UTC in the database (the same on SQLite and PostgreSQL)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def when(nullable: bool = False) -> Any:
    """A UTC time column."""
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable) if nullable else \
        Field(sa_type=UtcDateTime, nullable=False)


class Organization(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("kind", "unit_code"),)

    id: int | None = Field(default=None, primary_key=True)
    # bureau | district_bureau | committee | self_review_unit | employer | supervisory | exam_body
    kind: str = Field(max_length=32, index=True)
    name: str = Field(max_length=200)
    unit_code: str = Field(max_length=18)
    # The bureau's issuer region (6-digit division code): the digits after the level letter.
    region_code: str | None = Field(default=None, max_length=6)
    # An employer's supervisory department (业务主管部门) or archive custodian: the second review level.
    supervisor_id: int | None = Field(default=None, foreign_key="organization.id")
    # An employer's district bureau: the second level of paper → electronic conversion (Ningxia).
    district_id: int | None = Field(default=None, foreign_key="organization.id")
    # A committee's organizing unit (组建单位), as printed.
    organizing_unit: str | None = Field(default=None, max_length=200)
    created_at: datetime = when()


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # HMAC-SHA256 of the ID number under the server's lookup secret: what every lookup uses.
    id_hmac: str = Field(max_length=64, unique=True)
    id_number: str = Field(max_length=18)
    name: str = Field(max_length=200)
    name_pinyin: str | None = Field(default=None, max_length=200)
    gender: str | None = Field(default=None, max_length=2)
    created_at: datetime = when()


class Account(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", index=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=16)  # admin | officer | holder
    password_hash: str = Field(max_length=200)
    person_id: int | None = Field(default=None, foreign_key="person.id", unique=True)
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = when(nullable=True)
    created_at: datetime = when()
    # A holder's contact for one-time sign-in codes; unique, so that either one names one account.
    phone: str | None = Field(default=None, max_length=20, unique=True)
    email: str | None = Field(default=None, max_length=254, unique=True)


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=16)  # session | api
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = when()
    expires_at: datetime | None = when(nullable=True)
    last_used_at: datetime | None = when(nullable=True)
    revoked_at: datetime | None = when(nullable=True)


class UploadBatch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=16)  # committee | legacy
    org_id: int = Field(foreign_key="organization.id", index=True)
    account_id: int = Field(foreign_key="account.id")
    fmt: str = Field(max_length=8)  # csv | json
    rows_total: int
    rows_stored: int
    keep_valid: bool
    created_at: datetime = when()


class Application(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # review | self_review | self_appointment | exam | entrusted_review | conversion
    channel: str = Field(max_length=24, index=True)
    # pending | returned | rejected | approved | issued
    state: str = Field(max_length=16, index=True)
    # The review chain, fixed at submission: [{"stage": "employer", "orgId": 3}, ...].
    chain_json: str = Field(sa_column=Column(Text, nullable=False))
    stage_index: int = 0
    # The organization whose turn it is (None once decided): what a reviewer's worklist selects on.
    stage_org_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    applicant_account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    uploader_org_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    # Every organization on the chain, as columns: who may see the application is a plain query.
    employer_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    supervisor_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    exam_body_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    district_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    batch_id: int | None = Field(default=None, foreign_key="uploadbatch.id", index=True)
    line: int | None = None
    # The certificate facts as submitted (a certificate record without its number), JSON.
    facts_json: str = Field(sa_column=Column(Text, nullable=False))
    # Paper conversion only: the paper certificate's own facts (old number, appointment document...).
    paper_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = when()
    updated_at: datetime = when()


class ReviewStep(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    at: datetime = when()
    stage: str = Field(max_length=24)
    org_id: int | None = Field(default=None, foreign_key="organization.id")
    actor_account_id: int | None = Field(default=None, foreign_key="account.id")
    # submitted | approved | rejected | returned | corrected | resubmitted | issued
    action: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=1000)


class Photo(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("application_id", "side"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    side: str = Field(max_length=8)  # cover1 | cover2
    media_type: str = Field(max_length=16)
    size: int
    sha256: str = Field(max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class NumberCounter(SQLModel, table=True):
    """The next certificate sequence of one issuer region and year (locked while a number is taken)."""

    region_code: str = Field(primary_key=True, max_length=6)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    next_seq: int = 1


class Certificate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Unique: issuing an application twice reads back the one certificate.
    application_id: int | None = Field(default=None, foreign_key="application.id", unique=True)
    # Unique: a certificate is superseded by at most one reissue.
    reissue_of_id: int | None = Field(default=None, foreign_key="certificate.id", unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    employer_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    channel: str = Field(max_length=24)
    certificate_number: str = Field(max_length=32, unique=True)
    level_code: str = Field(max_length=1)
    region_code: str = Field(max_length=6)
    year: int
    seq: int
    name: str = Field(max_length=200, index=True)
    qualification: str = Field(max_length=200)
    # The full record signed (ID number included): a reissue rebuilds the credential from it.
    record_json: str = Field(sa_column=Column(Text, nullable=False))
    full_id: str = Field(max_length=64, unique=True)
    minimal_id: str = Field(max_length=64, unique=True)
    full_json: str = Field(sa_column=Column(Text, nullable=False))
    minimal_json: str = Field(sa_column=Column(Text, nullable=False))
    full_hash: str = Field(max_length=64)
    minimal_hash: str = Field(max_length=64)
    key_id: str = Field(max_length=300)
    issued_at: datetime = when()
    # active | suspended | revoked | superseded
    state: str = Field(max_length=16, index=True)
    revocation_list_id: str = Field(max_length=32)
    revocation_index: int
    suspension_list_id: str = Field(max_length=32)
    suspension_index: int
    revoked_at: datetime | None = when(nullable=True)
    # forgery | tampering | renting_out | other | superseded: recorded for the credit system
    revocation_reason: str | None = Field(default=None, max_length=16)
    revocation_detail: str | None = Field(default=None, max_length=1000)
    suspended_at: datetime | None = when(nullable=True)
    suspension_detail: str | None = Field(default=None, max_length=1000)


class StatusList(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)
    purpose: str = Field(max_length=16)  # revocation | suspension
    size_bits: int
    bits: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    used: int = 0
    # Bumped whenever a bit changes; the published credential is re-signed then.
    version: int = 1
    published_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    published_hash: str | None = Field(default=None, max_length=64)
    published_at: datetime | None = when(nullable=True)
    published_version: int = 0
    published_key_id: str | None = Field(default=None, max_length=300)
    valid_until: datetime | None = when(nullable=True)
    created_at: datetime = when()


class StatusEntry(SQLModel, table=True):
    """One used index of one list. Unique per list: an index is never given out twice."""

    __table_args__ = (UniqueConstraint("list_id", "index"),)

    id: int | None = Field(default=None, primary_key=True)
    list_id: str = Field(foreign_key="statuslist.id", max_length=32)
    index: int
    certificate_id: int | None = Field(default=None, foreign_key="certificate.id", index=True)
    # For credentials issued through the VC API (no certificate row): their id.
    credential_id: str | None = Field(default=None, max_length=300, index=True)
    created_at: datetime = when()


class IssuedCredential(SQLModel, table=True):
    """A credential issued through `POST /credentials/issue` (the VC API), as signed."""

    id: int | None = Field(default=None, primary_key=True)
    credential_id: str | None = Field(default=None, max_length=300, index=True)
    account_id: int = Field(foreign_key="account.id")
    json_text: str = Field(sa_column=Column(Text, nullable=False))
    hash: str = Field(max_length=64, unique=True)
    key_id: str = Field(max_length=300)
    issued_at: datetime = when()


class AuditEntry(SQLModel, table=True):
    """Append-only: hash = sha256(canonical JSON of the entry with prev_hash). Never updated."""

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: str = Field(max_length=32)  # kept as the exact text that was hashed
    actor: str = Field(max_length=120)
    action: str = Field(max_length=48, index=True)
    subject: str = Field(max_length=120, index=True)
    details_json: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """One row: the last entry's seq and hash. Appenders lock it, so the chain never forks."""

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0
    hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """A head that was published (served at /audit/checkpoint), and when it first was."""

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: str = Field(max_length=64)
    published_at: str = Field(max_length=32)


class CredentialHash(SQLModel, table=True):
    """sha256 of a signed credential's canonical JSON → the audit entry that recorded its issuance."""

    hash: str = Field(primary_key=True, max_length=64)
    audit_seq: int = Field(foreign_key="auditentry.seq", index=True)
    credential_id: str = Field(max_length=300)


class LegacyRecord(SQLModel, table=True):
    """A historical title (paper era) imported so that it can be found and stated (查询单)."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="uploadbatch.id", index=True)
    line: int
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str = Field(max_length=200, index=True)
    gender: str | None = Field(default=None, max_length=2)
    qualification: str = Field(max_length=200)
    series: str = Field(max_length=200)
    specialty: str = Field(max_length=200)
    level: str = Field(max_length=8)
    certificate_number: str = Field(max_length=64, index=True)
    date_qualified: str = Field(max_length=10)
    issuing_body: str = Field(max_length=200)
    review_body: str | None = Field(default=None, max_length=200)
    document_number: str | None = Field(default=None, max_length=100)
    scope_of_use: str | None = Field(default=None, max_length=200)
    created_at: datetime = when()


class QuerySlip(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    legacy_record_id: int | None = Field(default=None, foreign_key="legacyrecord.id")
    certificate_id: int | None = Field(default=None, foreign_key="certificate.id")
    requested_by: int = Field(foreign_key="account.id")
    credential_id: str = Field(max_length=64, unique=True)
    json_text: str = Field(sa_column=Column(Text, nullable=False))
    hash: str = Field(max_length=64)
    issued_at: datetime = when()


class RateCounter(SQLModel, table=True):
    """Attempts under one (already hashed) key in one fixed window; two windows make a sliding estimate."""

    key: str = Field(primary_key=True, max_length=64)
    window_start: datetime = Field(primary_key=True, sa_type=UtcDateTime)
    count: int = 0
    # When this row stops mattering (its window and the next one are over): what purges select on.
    expires_at: datetime = Field(sa_type=UtcDateTime, nullable=False, index=True)


class ConsentCode(SQLModel, table=True):
    """A holder's one-time consent to one lookup of one certificate; the code itself is kept as an HMAC."""

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    code_hmac: str = Field(max_length=64, unique=True)
    # The verifier the code is bound to, as the holder wrote it (None: any verifier).
    verifier: str | None = Field(default=None, max_length=200)
    created_at: datetime = when()
    expires_at: datetime = when()
    used_at: datetime | None = when(nullable=True)
    revoked_at: datetime | None = when(nullable=True)


class LookupLog(SQLModel, table=True):
    """One lookup naming an existing certificate, for its holder to see. No client address, no ID number."""

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    at: datetime = when()
    outcome: str = Field(max_length=16)  # answered | refused
    verifier: str | None = Field(default=None, max_length=200)
    # The authenticated API caller's organization, when there was one.
    org_id: int | None = Field(default=None, foreign_key="organization.id")
    consent_code_id: int | None = Field(default=None, foreign_key="consentcode.id")


class OtpChallenge(SQLModel, table=True):
    """The one live sign-in code of an account (a new request replaces it), kept as an HMAC."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", unique=True)
    channel: str = Field(max_length=8)  # sms | email
    code_hmac: str = Field(max_length=64)
    created_at: datetime = when()
    expires_at: datetime = when()
    tries: int = 0
    used_at: datetime | None = when(nullable=True)


class ReissueRequest(SQLModel, table=True):
    """A holder's request for a reissue (补发) of a lost or damaged certificate, and the bureau's decision."""

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: int = Field(foreign_key="certificate.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    requester_account_id: int = Field(foreign_key="account.id")
    reason: str = Field(max_length=16)  # lost | damaged | other (certificates.REISSUE_REASONS)
    detail: str | None = Field(default=None, max_length=1000)
    # pending | approved | declined
    state: str = Field(max_length=16, index=True)
    # The certificate's id while the request is pending, None once decided: unique, so that the
    # database itself keeps one open request per certificate.
    open_certificate_id: int | None = Field(default=None, unique=True)
    created_at: datetime = when()
    decided_at: datetime | None = when(nullable=True)
    decided_by_account_id: int | None = Field(default=None, foreign_key="account.id")
    decision_reason: str | None = Field(default=None, max_length=1000)
    # The reissued certificate, once approved.
    new_certificate_id: int | None = Field(default=None, foreign_key="certificate.id")


class ContactChange(SQLModel, table=True):
    """A holder's pending new phone or e-mail: it replaces the account's only once the code sent to the
    new address is entered. One per account and channel (a new request replaces it); the code is an HMAC."""

    __table_args__ = (UniqueConstraint("account_id", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    channel: str = Field(max_length=8)  # sms (the phone) | email
    destination: str = Field(max_length=254)
    code_hmac: str = Field(max_length=64)
    created_at: datetime = when()
    expires_at: datetime = when()
    tries: int = 0
    used_at: datetime | None = when(nullable=True)


__all__ = [
    "Account", "ApiToken", "Application", "AuditCheckpoint", "AuditEntry", "AuditHead", "Certificate",
    "ConsentCode", "ContactChange", "CredentialHash", "IssuedCredential", "LegacyRecord", "LookupLog",
    "NumberCounter", "Organization", "OtpChallenge", "Person", "Photo", "QuerySlip", "RateCounter",
    "ReissueRequest", "ReviewStep", "StatusEntry", "StatusList", "UploadBatch", "metadata",
]
from titlecred.db import models_batch as _models_batch  # noqa: E402,F401  (batch runs, issue 17)
from titlecred.db import models_idempotency  # noqa: E402,F401
from titlecred.db.models_elicense import ElicenseOutbox  # noqa: E402,F401
from titlecred.db.models_wallet import Share, ShareOpen, VpRequest, WalletNonce, WalletOffer, WalletToken  # noqa: E402,F401
