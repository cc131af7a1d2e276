"""The purpose-bound share (加注) of a certificate: a credential of type `TitleShareCredential`, signed
by the bureau, that repeats the certificate's public facts (the minimal form: ID number masked) and
states, under the same signature, the purpose the holder gave (`sharePurpose`) and the period
(`validFrom` / `validUntil`). It carries the certificate's own status entries (a revoked certificate's
shares fail too) and one of its own (the holder's withdrawal), and names the minimal credential it
was made from (`sharedCredential`).
"""

from __future__ import annotations

from typing import Any

from issuer.credential import CONTEXT, new_credential_id

SHARE_TYPE = ["VerifiableCredential", "TitleShareCredential"]


def build_share(minimal: dict[str, Any], *, purpose: str, valid_from: str, valid_until: str,
                share_status: dict[str, Any], credential_id: str | None = None) -> dict[str, Any]:
    """The unsigned share credential of the (signed) minimal credential `minimal`."""
    if not purpose or len(purpose) > 200:
        raise ValueError("a share states its purpose in 1 to 200 characters")
    status = minimal.get("credentialStatus", [])
    status = list(status) if isinstance(status, list) else [status]
    subject = {k: v for k, v in minimal["credentialSubject"].items() if k != "id"}
    return {
        "@context": list(CONTEXT),
        "id": credential_id or new_credential_id(),
        "type": list(SHARE_TYPE),
        "issuer": minimal["issuer"],
        "validFrom": valid_from,
        "validUntil": valid_until,
        "sharePurpose": purpose,
        "sharedCredential": minimal["id"],
        "credentialStatus": [*status, share_status],
        "credentialSubject": subject,
    }
