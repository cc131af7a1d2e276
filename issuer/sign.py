"""Sign credentials with an issuer key: the one place where the issuer creates Data Integrity proofs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from issuer.credential import IssuerProfile, bound_copy, build_full_credential, build_minimal_credential
from issuer.errors import NotIJson
from issuer.record import TitleRecord
from proofs.canon import DocumentLoaderFn
from proofs.dataintegrity import ProofOptions, Signer, add_proof, format_datetime
from schemas.loader import default_loader
from schemas.vcdm import ijson_problem


@dataclass(frozen=True)
class IssuerKey:
    """What signing needs: the verification method id and a sign function (the key stays in keys/)."""

    verification_method: str
    sign: Signer


def sign_document(
    document: dict[str, Any],
    key: IssuerKey,
    *,
    created: str | None = None,
    cryptosuite: str = "eddsa-rdfc-2022",
    loader: DocumentLoaderFn | None = None,
) -> dict[str, Any]:
    # Only I-JSON is signed: every conforming verifier reads it the same way (no lone surrogates, no
    # integers beyond ±(2^53-1), no NaN); anything else is a clear error, never a signature.
    problem = ijson_problem(document)
    if problem:
        raise NotIJson(problem[1])
    options = ProofOptions(
        verification_method=key.verification_method,
        created=created or format_datetime(datetime.now(UTC)),
        cryptosuite=cryptosuite,
    )
    return add_proof(document, options, key.sign, loader or default_loader())


@dataclass(frozen=True)
class IssuedPair:
    full: dict[str, Any]
    minimal: dict[str, Any]


def issue_pair(
    record: TitleRecord,
    issuer: IssuerProfile,
    key: IssuerKey,
    *,
    now: datetime | None = None,
    status: list[dict[str, Any]] | None = None,
    full_id: str | None = None,
    minimal_id: str | None = None,
) -> IssuedPair:
    """Build and sign the full and the minimal credential of one certificate."""
    stamp = format_datetime(now or datetime.now(UTC))
    full = build_full_credential(record, issuer, valid_from=stamp, credential_id=full_id, status=status)
    minimal = build_minimal_credential(record, full, credential_id=minimal_id)
    return IssuedPair(sign_document(full, key, created=stamp), sign_document(minimal, key, created=stamp))


def issue_bound(full: dict[str, Any], key: IssuerKey, *, holder_did: str, now: datetime,
                credential_id: str | None = None) -> dict[str, Any]:
    """A copy of a certificate's full credential bound to a wallet's key (`credentialSubject.id` = the
    holder's DID), newly signed: the same facts and the same status entries, so revoking the certificate
    revokes this copy too."""
    stamp = format_datetime(now)
    return sign_document(bound_copy(full, holder_did, valid_from=stamp, credential_id=credential_id), key,
                         created=stamp)
