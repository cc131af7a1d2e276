"""Request and response shapes of the API (pydantic), as the OpenAPI description shows them.

Requests forbid unknown fields. Public responses never carry a full resident ID number, except in the
few fields named `idNumber` that are filled only for the holder themself and the bureau's officers.
Nothing here holds a rule: the services validate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_CONTROL = frozenset(chr(c) for c in range(0x20)) - {"\t", "\n", "\r"} | {"\x7f"}


def _no_control(value: Any) -> None:
    if isinstance(value, str):
        if not _CONTROL.isdisjoint(value):
            raise ValueError("text must not contain control characters")
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_control(k)
            _no_control(v)
    elif isinstance(value, list):
        for v in value:
            _no_control(v)


class Request_(BaseModel):
    """A request body: unknown fields refused, and no control characters in any text (a NUL cannot
    even be stored by PostgreSQL, and no certificate needs one)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _text_is_clean(self) -> Request_:
        _no_control(self.model_dump())
        return self


# A row id as clients send it: within the databases' integer range.
DbId = Annotated[int, Field(ge=1, le=2_147_483_647)]


class Problem(BaseModel):
    """An error (RFC 9457 problem details) with our stable code."""

    type: str
    code: str
    title: str
    status: int
    detail: str
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


PROBLEMS: dict[int | str, dict[str, Any]] = {
    s: {"model": Problem, "content": {"application/problem+json": {}}} for s in (400, 401, 403, 404, 409, 413, 422)
}


# ------------------------------------------------------------------ auth


class LoginRequest(Request_):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class PersonOut(BaseModel):
    name: str
    idNumberMasked: str
    idNumber: str | None = None


class AccountOut(BaseModel):
    id: int
    orgId: int
    username: str
    displayName: str
    role: str
    active: bool
    person: PersonOut | None = None


class LoginResponse(BaseModel):
    token: str
    tokenType: Literal["Bearer"] = "Bearer"
    expiresAt: datetime
    account: AccountOut


class PasswordChange(Request_):
    currentPassword: str = Field(max_length=256)
    newPassword: str = Field(max_length=256)


class TokenCreate(Request_):
    name: str = Field(min_length=1, max_length=100)
    accountId: DbId | None = None
    expiresInDays: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    accountId: int
    name: str
    prefix: str
    createdAt: datetime
    expiresAt: datetime | None
    lastUsedAt: datetime | None
    revokedAt: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="shown this once; store it safely")


# ------------------------------------------------------------------ organizations


OrgKind = Literal["district_bureau", "committee", "self_review_unit", "employer", "supervisory", "exam_body"]


class OrgCreate(Request_):
    kind: OrgKind
    name: str = Field(min_length=1, max_length=200)
    unitCode: str = Field(max_length=32)
    supervisorId: DbId | None = None
    districtId: DbId | None = None
    organizingUnit: str | None = Field(default=None, max_length=200)


class OrgOut(BaseModel):
    id: int
    kind: str
    name: str
    unitCode: str
    regionCode: str | None = None
    supervisorId: int | None = None
    districtId: int | None = None
    organizingUnit: str | None = None


class PersonIn(Request_):
    name: str = Field(max_length=200)
    idNumber: str = Field(max_length=32)
    namePinyin: str | None = Field(default=None, max_length=200)


class AccountCreate(Request_):
    username: str = Field(max_length=64)
    displayName: str = Field(max_length=200)
    role: Literal["admin", "officer", "holder"]
    password: str | None = Field(default=None, max_length=256)
    person: PersonIn | None = None
    phone: str | None = Field(default=None, max_length=20, description="holders only: a mainland mobile number "
                              "for sign-in codes")
    email: str | None = Field(default=None, max_length=254, description="holders only: for sign-in codes")


class AccountCreated(BaseModel):
    account: AccountOut
    password: str | None = Field(default=None, description="the generated password, shown this once")


class AccountUpdate(Request_):
    active: bool


# ------------------------------------------------------------------ applications


class ApplicationCreate(Request_):
    channel: Literal["self_appointment", "exam", "entrusted_review"]
    examBodyId: DbId | None = None
    qualification: str = Field(max_length=200)
    series: str = Field(max_length=200)
    specialty: str = Field(max_length=200)
    level: str = Field(max_length=8)
    dateQualified: str = Field(max_length=10)
    namePinyin: str | None = Field(default=None, max_length=200)
    reviewBody: str | None = Field(default=None, max_length=200)
    reportingUnit: str | None = Field(default=None, max_length=200)
    scopeOfUse: str | None = Field(default=None, max_length=200)
    annotations: list[str] | None = Field(default=None, max_length=8)


class ReviewRequest(Request_):
    decision: Literal["approve", "reject", "return"]
    reason: str | None = Field(default=None, max_length=1000)
    issue: bool = Field(default=True, description="the bureau's approval issues at once (false: leave it for a "
                                                  "batch run)")


class ResubmitRequest(Request_):
    changes: dict[str, Any] | None = Field(default=None, description="corrected facts (the same fields as when "
                                                                     "applying; paper facts for a conversion)")


class StepOut(BaseModel):
    at: datetime
    stage: str
    action: str
    orgId: int | None
    orgName: str | None
    actor: str | None
    reason: str | None


class ChainStage(BaseModel):
    stage: str
    orgId: int
    orgName: str


class ApplicationOut(BaseModel):
    id: int
    channel: str
    channelName: str
    state: str
    stage: str | None
    awaitingOrgId: int | None
    chain: list[ChainStage]
    person: PersonOut
    facts: dict[str, Any]
    paper: dict[str, Any] | None = None
    batchId: int | None = None
    line: int | None = None
    certificateId: int | None = None
    createdAt: datetime
    updatedAt: datetime
    steps: list[StepOut]


class ReviewOut(BaseModel):
    application: ApplicationOut
    certificate: CertificateOut | None = None


# ------------------------------------------------------------------ uploads and issuance


class UploadOut(BaseModel):
    batchId: int | None
    total: int
    stored: int
    applicationIds: list[int] = []
    recordIds: list[int] = []
    errors: list[dict[str, Any]]


class BatchOut(BaseModel):
    id: int
    purpose: str
    orgId: int
    fmt: str
    rowsTotal: int
    rowsStored: int
    keepValid: bool
    createdAt: datetime


class RunRequest(Request_):
    batchId: DbId | None = None


class IssuedItem(BaseModel):
    applicationId: int | None
    certificateId: int
    certificateNumber: str


class RunOut(BaseModel):
    issued: list[IssuedItem]
    failed: list[dict[str, Any]]
    runId: int | None = None  # the durable report: GET /api/issuance/runs/{runId}


# ------------------------------------------------------------------ certificates


class RevocationOut(BaseModel):
    reason: str
    detail: str | None
    at: datetime | None


class CertificateOut(BaseModel):
    id: int
    certificateNumber: str
    state: str
    channel: str
    name: str
    qualification: str
    levelCode: str
    idNumberMasked: str
    applicationId: int | None
    issuedAt: datetime
    keyId: str
    revocation: RevocationOut | None = None
    suspendedAt: datetime | None = None
    reissueOfId: int | None = None
    reissuedAsId: int | None = None
    fullCredential: dict[str, Any] | None = Field(default=None, description="the holder's and the bureau's only")
    minimalCredential: dict[str, Any]


class RevokeRequest(Request_):
    reason: Literal["forgery", "tampering", "renting_out", "other"]
    detail: str | None = Field(default=None, max_length=1000)


class SuspendRequest(Request_):
    detail: str | None = Field(default=None, max_length=1000)


class ReissueRequest(Request_):
    reason: Literal["lost", "damaged", "other"]
    detail: str | None = Field(default=None, max_length=1000)


class SearchRequest(Request_):
    name: str | None = Field(default=None, max_length=200)
    idNumber: str | None = Field(default=None, max_length=32)
    certificateNumber: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class CreditRecord(BaseModel):
    certificateNumber: str
    name: str
    idNumberMasked: str
    reason: str
    reasonName: str
    detail: str | None
    revokedAt: datetime | None


# ------------------------------------------------------------------ legacy records and slips


class LegacyRecordOut(BaseModel):
    id: int
    name: str
    idNumberMasked: str
    idNumber: str | None = None
    gender: str | None
    qualification: str
    series: str
    specialty: str
    level: str
    certificateNumber: str
    dateQualified: str
    issuingBody: str
    reviewBody: str | None
    documentNumber: str | None
    scopeOfUse: str | None
    batchId: int
    line: int


class SlipRequest(Request_):
    legacyRecordId: DbId | None = None
    certificateId: DbId | None = None


class SlipOut(BaseModel):
    id: int
    credentialId: str
    issuedAt: datetime
    verifiableCredential: dict[str, Any]


# ------------------------------------------------------------------ audit


class CheckpointOut(BaseModel):
    seq: int
    hash: str
    publishedAt: str | None


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prevHash: str
    hash: str


# ------------------------------------------------------------------ VC API (documented; parsed by hand)


class IssueRequest(BaseModel):
    credential: dict[str, Any]
    options: dict[str, Any] | None = Field(default=None, description='e.g. {"credentialId": "urn:uuid:...", '
                                           '"credentialStatus": {"type": "BitstringStatusListEntry"}}')


class IssueResponse(BaseModel):
    verifiableCredential: dict[str, Any]


class StatusEntryRef(Request_):
    type: Literal["BitstringStatusListEntry"] = "BitstringStatusListEntry"
    statusPurpose: Literal["revocation", "suspension"]


class StatusUpdate(Request_):
    credentialId: str = Field(min_length=1, max_length=300)
    credentialStatus: StatusEntryRef
    status: bool = True


class StatusUpdateOut(BaseModel):
    credentialId: str
    state: str


class VerifyRequest(BaseModel):
    verifiableCredential: dict[str, Any]
    options: dict[str, Any] | None = Field(default=None, description='e.g. {"checks": ["proof", "credentialStatus"]}')


class VerifyResponse(BaseModel):
    verified: bool
    results: dict[str, Any] | None = None
    problemDetails: list[dict[str, Any]] = []


class VerifyPresentationRequest(BaseModel):
    verifiablePresentation: dict[str, Any] | None = None
    presentation: dict[str, Any] | None = None
    options: dict[str, Any] | None = Field(default=None, description='{"challenge": "...", "domain": "..."}')


# ------------------------------------------------------------------ consent-gated lookup


class LookupRequest(Request_):
    certificateNumber: str = Field(max_length=64)
    idNumber: str = Field(max_length=32)
    consentCode: str = Field(max_length=32, description="the one-time code the holder made, e.g. K7QM-2XPD")
    verifier: str | None = Field(default=None, max_length=200, description="who is asking (ignored when "
                                 "authenticated: then it is the caller's organization)")


class LookupOut(BaseModel):
    certificateNumber: str
    status: Literal["active", "suspended", "revoked", "superseded", "expired"]
    statusSince: datetime | None = Field(default=None, description="when it was revoked, suspended, superseded "
                                         "or expired")
    checkedAt: datetime = Field(description="when the status was read from the registry")
    credential: dict[str, Any] = Field(description="the signed minimal credential (ID number masked)")


class ConsentCreate(Request_):
    certificateId: DbId
    validMinutes: int = Field(default=30, ge=1, le=100_000)
    verifier: str | None = Field(default=None, max_length=200, description="bind the code to this verifier only")


class ConsentOut(BaseModel):
    id: int
    certificateId: int
    certificateNumber: str
    verifier: str | None
    createdAt: datetime
    expiresAt: datetime
    usedAt: datetime | None
    revokedAt: datetime | None
    state: Literal["active", "used", "expired", "revoked"]


class ConsentCreated(ConsentOut):
    code: str = Field(description="shown this once; give it to the verifier")


class LookupLogOut(BaseModel):
    id: int
    at: datetime
    certificateId: int
    certificateNumber: str
    outcome: Literal["answered", "refused"]
    verifier: str | None


# ------------------------------------------------------------------ one-time-code sign-in and contact


class OtpRequest(Request_):
    identifier: str = Field(min_length=1, max_length=254, description="username, phone number or e-mail")
    channel: Literal["sms", "email"] = "sms"


class OtpRequested(BaseModel):
    detail: str


class OtpVerify(Request_):
    identifier: str = Field(min_length=1, max_length=254)
    code: str = Field(max_length=16)


class ContactIn(Request_):
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)


class ContactPendingOut(BaseModel):
    field: Literal["phone", "email"]
    destination: str = Field(description="the new phone number or e-mail address, waiting for its code")
    expiresAt: datetime


class ContactOut(BaseModel):
    phone: str | None = Field(description="the phone number sign-in codes go to (confirmed)")
    email: str | None = Field(description="the e-mail address sign-in codes go to (confirmed)")
    pending: list[ContactPendingOut] = Field(default_factory=list, description="new addresses waiting for the "
                                             "code sent to them (POST /api/me/contact/confirm)")


class ContactConfirm(Request_):
    field: Literal["phone", "email"]
    code: str = Field(max_length=16, description="the 6-digit code sent to the new phone number or e-mail address")


ReviewOut.model_rebuild()


# ------------------------------------------------------------------ holders' reissue (补发) requests


class ReissueRequestCreate(Request_):
    reason: Literal["lost", "damaged", "other"] = Field(description="lost 遗失, damaged 损坏, other 其他")
    detail: str | None = Field(default=None, max_length=1000, description="what happened, for the bureau")


class ReissueDecision(Request_):
    decision: Literal["approve", "decline"]
    reason: str | None = Field(default=None, max_length=1000, description="required to decline")


class ReissueRequestOut(BaseModel):
    id: int
    certificateId: int
    certificateNumber: str
    certificateState: str
    name: str
    idNumberMasked: str
    qualification: str
    reason: str = Field(description="lost, damaged or other")
    detail: str | None
    state: str = Field(description="pending, approved or declined")
    createdAt: datetime
    decidedAt: datetime | None = None
    decisionReason: str | None = None
    newCertificateId: int | None = Field(default=None, description="the reissued certificate, once approved")
    newCertificateNumber: str | None = None
