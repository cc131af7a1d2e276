"""The verification result: every check with its outcome and reason, shaped like the VC API's.

Outcomes keep apart what a person must act on differently: `passed`, `failed` (forged, changed,
revoked...), and `indeterminate` (could not check, e.g. the status list was unreachable: an outage,
never to be read as a forgery).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["passed", "failed", "indeterminate", "skipped"]


@dataclass
class Check:
    name: str
    outcome: Outcome
    reason: str
    code: str = ""
    required: bool = True

    @property
    def ok(self) -> bool:
        return self.outcome in ("passed", "skipped")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "ok": self.ok, "reason": self.reason, "outcome": self.outcome}
        if self.code:
            out["code"] = self.code
        return out


# The verdict a person sees, in the order that decides it: input we cannot read or do not support is
# said first (it is no forgery: nothing was checked); then a forgery outranks a revocation, which
# outranks an outage. `tampered` means one thing: a proof failed over a document we could process.
VERDICTS = ("valid", "unreadable", "unsupported", "tampered", "unknown_issuer", "revoked", "suspended", "expired",
            "not_yet_valid", "invalid", "status_unknown")
# Verdicts for which nothing could be checked: the CLI exits 2 on them, the API answers 400.
UNCHECKED = frozenset({"unreadable", "unsupported"})
# Codes of what we could read but do not support: contexts we do not hold, inline contexts we refuse,
# proof types and cryptosuites we do not implement, terms no context defines, work beyond our bounds.
UNSUPPORTED_CODES = frozenset({
    "unknown_context", "inline_context", "unsupported_context", "protected_term", "invalid_context",
    "unsupported_proof_type", "unknown_cryptosuite", "undefined_term", "canonicalization_error",
    "input_too_large", "canonicalization_work_limit", "work_limit", "unsupported_credential",
    "unsupported_algorithm", "unsupported_version", "canonicalization_too_complex",
    "canonicalization_busy",
})


@dataclass
class VerificationResult:
    checks: list[Check] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    status: str | None = None  # "valid" | "revoked" | "suspended" | "unknown"
    status_as_of: str | None = None
    credential: dict[str, Any] | None = None

    @property
    def verified(self) -> bool:
        # An empty result verifies nothing (as sigstore's empty AllOf fails).
        if self.errors or not self.checks:
            return False
        return all(c.ok for c in self.checks if c.required)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def verdict(self) -> str:
        """One word a person can act on (the scan page's headline)."""
        if self.verified:
            return "valid"
        if self.errors:
            # Nothing was checked: the input could not be read (a missing file, not JSON, refused
            # characters, too large or deep), or it is a form we do not support.
            return "unsupported" if self.errors[0].get("code") in UNSUPPORTED_CODES - {"input_too_large"} \
                else "unreadable"
        failed = {c.name: c for c in self.checks if not c.ok and c.required}
        if "shape" in failed:
            # Not a credential we can read (no context, no issuer; a QR text that does not decode):
            # nothing to call forged. Another TC1 version or signature algorithm: not supported.
            return "unsupported" if failed["shape"].code in UNSUPPORTED_CODES else "unreadable"
        if "contexts" in failed:
            return "unsupported"
        # A proof that could not be checked (an undefined term, a cryptosuite we do not implement, a
        # work bound) is no evidence of forgery.
        if "proof" in failed and failed["proof"].code in UNSUPPORTED_CODES:
            return "unsupported"
        unknown_key = ("unknown_key", "unresolvable_did")
        if ("proof" in failed and failed["proof"].code in unknown_key) or (
                "key" in failed and failed["key"].code in unknown_key):
            return "unknown_issuer"
        if "proof" in failed:
            return "tampered"
        if "issuer" in failed:
            return "unknown_issuer"
        if "key" in failed:
            return "invalid"
        if "status" in failed:
            if self.status in ("revoked", "suspended"):
                return self.status
            return "status_unknown"
        if "validity" in failed:
            return "not_yet_valid" if failed["validity"].code == "not_yet_valid" else "expired"
        return "invalid"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verified": self.verified,
            "verdict": self.verdict,
            "checks": [c.to_json() for c in self.checks],
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }
        if self.status is not None:
            out["status"] = {"value": self.status, "asOf": self.status_as_of}
        return out


def unusable(code: str, message: str) -> VerificationResult:
    """The result for input that could not be read at all (the CLI exits 2 on it)."""
    return VerificationResult(errors=[{"code": code, "message": message}])
