"""Verification policy: what the verifier trusts and requires, passed in per call.

As in sigstore-python, trust is explicit and the safe choice is the default: no trust material means
nothing verifies, a did:key issuer is trusted only when named, and the one way to skip the status
check is called `unsafe_skip_status`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from keys.did import DidResolver
from proofs.bounds import DEFAULT_LIMITS, Limits
from proofs.purposes import ASSERTION, ProofPurpose
from schemas.loader import DocumentLoader, default_loader
from verifier.status import StaticStatusSource, StatusSource


@dataclass(frozen=True)
class IssuanceEvidence:
    """Independent evidence of when a credential was issued (e.g. a published log checkpoint)."""

    issued_before: datetime
    description: str


# Given a signed credential, find evidence of its issuance time that its signer could not forge.
EvidenceLookup = Callable[[dict[str, Any]], IssuanceEvidence | None]


@dataclass(frozen=True)
class Policy:
    resolver: DidResolver
    # Issuers trusted beyond those whose DID documents / JWKS the resolver was given.
    trusted_issuers: frozenset[str] = frozenset()
    # Trust any issuer whose key resolves (did:key included): for the VC API's interop endpoint only.
    unsafe_any_issuer: bool = False
    # Trust a did:web issuer whose DID document was fetched over HTTPS (did:web's own trust model: the
    # domain's TLS certificate vouches for the keys). `titlecred verify --online` only.
    trust_fetched_did_web: bool = False
    status: StatusSource = field(default_factory=StaticStatusSource)
    unsafe_skip_status: bool = False
    status_max_age: timedelta | None = None
    # The status lists are a dated snapshot (a verification bundle): they are verified as of this time,
    # and the verdict states the status as of it.
    status_snapshot_at: datetime | None = None
    evidence: EvidenceLookup | None = None
    purpose: ProofPurpose = ASSERTION
    loader: DocumentLoader = field(default_factory=default_loader)
    allowed_contexts: frozenset[str] | None = None  # None: every bundled context
    limits: Limits = DEFAULT_LIMITS
    now: datetime | None = None
    # How a status list credential is checked (default: verified in full each time); a server that
    # verifies many credentials against its own few lists passes a memo of the same check.
    list_verifier: Callable[[dict[str, Any], Policy], str | None] | None = None

    def contexts(self) -> frozenset[str]:
        return self.allowed_contexts if self.allowed_contexts is not None else self.loader.urls

    def trusts_issuer(self, issuer: str) -> bool:
        if self.unsafe_any_issuer or issuer in self.trusted_issuers or self.resolver.has_document_for(issuer):
            return True
        return self.trust_fetched_did_web and issuer.startswith("did:web:") and issuer in self.resolver.fetched_dids
