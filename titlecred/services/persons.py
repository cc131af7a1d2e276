"""People (holders) identified by resident ID number, found through an HMAC of it.

The HMAC (SHA-256 under the server's lookup secret) is what every lookup and join uses, so that a
search by ID number needs no index on the number itself and a stolen lookup column alone reveals
nothing. The number is kept beside it for the bureau's own use (it is printed on the certificate).

Never put the number in a message or a log line; `mask_id_number` is the only form shown to others.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlmodel import Session, select

from schemas.identifiers import IdentifierError, gender_from_id, validate_resident_id
from titlecred.db.models import Person
from titlecred.services.config import RegistryConfig
from titlecred.services.errors import Invalid


def id_lookup_hash(config: RegistryConfig, id_number: str) -> str:
    return hmac.new(config.lookup_secret, id_number.encode("ascii"), hashlib.sha256).hexdigest()


def normalize_id(value: object, *, allow_15: bool = False, field: str = "idNumber") -> str:
    """A valid 18-character ID number, or `Invalid(invalid_id_number)` naming only the field."""
    try:
        return validate_resident_id(value if isinstance(value, str) else "", allow_15=allow_15)
    except IdentifierError as e:
        raise Invalid(e.code, f"{field}: {e.message}", 422, field) from None


def find_person(session: Session, config: RegistryConfig, id_number: str) -> Person | None:
    return session.exec(select(Person).where(Person.id_hmac == id_lookup_hash(config, id_number))).first()


def get_or_create_person(session: Session, config: RegistryConfig, *, id_number: str, name: str,
                         now: datetime, gender: str | None = None, name_pinyin: str | None = None) -> Person:
    """The person with this (valid, normalized) ID number; created, or their name details refreshed."""
    person = find_person(session, config, id_number)
    if person is None:
        person = Person(id_hmac=id_lookup_hash(config, id_number), id_number=id_number, name=name,
                        gender=gender or gender_from_id(id_number), name_pinyin=name_pinyin, created_at=now)
        session.add(person)
        session.flush()
        return person
    if name_pinyin and not person.name_pinyin:
        person.name_pinyin = name_pinyin
        session.add(person)
    return person
