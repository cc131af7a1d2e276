"""Proof purposes: what a proof is for, and what the verifier expects of it.

As in jsonld-signatures' `purposes/`: assertionMethod for credentials the issuer asserts,
authentication for presentations, where the verifier's challenge and domain must match (no replay).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProofPurpose:
    term: str = "assertionMethod"
    challenge: str | None = None
    domain: str | None = None

    def mismatch(self, proof: dict[str, Any]) -> str | None:
        """A reason why `proof` does not serve this purpose, or None if it does."""
        if proof.get("proofPurpose") != self.term:
            return f"proof purpose is {proof.get('proofPurpose')!r}, expected {self.term!r}"
        if self.challenge is not None and proof.get("challenge") != self.challenge:
            return "proof challenge does not match the verifier's challenge"
        if self.domain is not None:
            domains = proof.get("domain")
            domains = domains if isinstance(domains, list) else [domains]
            if self.domain not in domains:
                return "proof domain does not match the verifier's domain"
        return None


ASSERTION = ProofPurpose("assertionMethod")


def authentication(challenge: str | None, domain: str | None) -> ProofPurpose:
    return ProofPurpose("authentication", challenge=challenge, domain=domain)
