"""The e-license identifier a newly issued certificate states (GB/T 36904; `schemas.elicense`).

The license type code is assigned by the defining authority to the kind of license; a deployment
sets the one its provincial library uses for professional title certificates in
TITLECRED_ELICENSE_TYPE_CODE (21 characters: the authority's unified social credit code and a 3-digit
sequence). The default is a placeholder for development and tests. An issuer without a unit code
(`issuer.unitCode`) cannot form an identifier: its certificates state none.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Final

from issuer.credential import IssuerProfile
from issuer.record import TitleRecord
from schemas import elicense

DEFAULT_TYPE_CODE: Final = "11100000000013338W009"


def license_type_code() -> str:
    return os.environ.get("TITLECRED_ELICENSE_TYPE_CODE", DEFAULT_TYPE_CODE).strip().upper()


def with_identifier(record: TitleRecord, profile: IssuerProfile, *, version: int = 1) -> TitleRecord:
    """`record` with its e-license identifier (the certificate number as serial), unless it has one or
    the issuer has no unit code."""
    if record.eLicenseIdentifier or not profile.unit_code:
        return record
    identifier = elicense.compute_identifier(license_type_code(), profile.unit_code, record.certificateNumber,
                                             version)
    return replace(record, eLicenseIdentifier=identifier)
