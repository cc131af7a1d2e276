"""DCQL (OpenID4VP 1.0 §6): the query a registration body sends for a title credential, and whether
a presentation disclosed every field it asked for.

One credential query with id `title`, of the chosen format:
- `dc+sd-jwt`: `meta.vct_values` = our vct, claim paths `[field]`;
- `ldp_vc`: `meta.type_values` = our types, claim paths `["credentialSubject", field]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.credential import FULL_TYPE
from issuer.sdjwt import TITLE_VCT
from titlecred.oid4vci.metadata import CLAIMS

QUERY_ID = "title"
FIELDS = tuple(name for name, _, _ in CLAIMS)
FORMATS = ("dc+sd-jwt", "ldp_vc")


class DcqlError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def build_query(fields: list[str], fmt: str) -> dict[str, Any]:
    if fmt not in FORMATS:
        raise DcqlError("invalid_format", "format must be dc+sd-jwt or ldp_vc")
    if not fields or len(set(fields)) != len(fields) or any(f not in FIELDS for f in fields):
        raise DcqlError("invalid_fields", "fields must be distinct names among " + ", ".join(FIELDS))
    prefix = [] if fmt == "dc+sd-jwt" else ["credentialSubject"]
    meta: dict[str, Any] = {"vct_values": [TITLE_VCT]} if fmt == "dc+sd-jwt" else {"type_values": [list(FULL_TYPE)]}
    query: dict[str, Any] = {"id": QUERY_ID, "format": fmt, "meta": meta,
                             "claims": [{"path": [*prefix, f]} for f in fields]}
    if fmt == "ldp_vc":
        query["require_cryptographic_holder_binding"] = True
    return {"credentials": [query]}


def requested_paths(query: Mapping[str, Any]) -> list[list[str]]:
    out: list[list[str]] = []
    for cred in query.get("credentials", []):
        for claim in cred.get("claims", []):
            out.append([str(p) for p in claim.get("path", [])])
    return out


def missing_claims(query: Mapping[str, Any], disclosed: Mapping[str, Any]) -> list[str]:
    """The requested claim paths (joined by '.') that `disclosed` does not carry."""
    missing = []
    for path in requested_paths(query):
        node: Any = disclosed
        for step in path:
            if not isinstance(node, Mapping) or step not in node:
                missing.append(".".join(path))
                break
            node = node[step]
    return missing
