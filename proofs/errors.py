"""Errors of the proofs layer. Each has a stable `code` reused by the CLI's --json and the API."""


class ProofLayerError(Exception):
    code = "proof_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputTooLarge(ProofLayerError):
    """A document exceeds a size, depth, node or canonicalization-work bound."""

    code = "input_too_large"


class CanonicalizationError(ProofLayerError):
    code = "canonicalization_error"


class CanonicalizationTooComplex(ProofLayerError):
    """RDFC-1.0 would need more than the work limit (a "poison graph"): unsupported, not tampered."""

    code = "canonicalization_too_complex"


class CanonicalizationBusy(CanonicalizationTooComplex):
    """Complex canonicalization is already running for someone else; refused now rather than queued."""

    code = "canonicalization_busy"


class UndefinedTerm(ProofLayerError):
    """Safe mode: a property or type that no context defines would be silently dropped."""

    code = "undefined_term"


class UnknownCryptosuite(ProofLayerError):
    code = "unknown_cryptosuite"


class MalformedProof(ProofLayerError):
    code = "malformed_proof"


class MissingContext(ProofLayerError):
    code = "missing_context"
