"""Organizations and their accounts: the bureau creates organizations, each organization its accounts.

Kinds (titlecred.services.principal): bureau (one per registry: the issuer), district_bureau,
committee (with its organizing unit), self_review_unit, employer (linked to its supervisory department
or archive custodian, and its district bureau), supervisory, exam_body. Unit codes are checked
(GB 32100). Holder accounts carry their person (ID number, name), and optionally a phone and an e-mail
for sign-in codes; they are created by the organization that knows them (their employer, exam body, or
the bureau).

Never returns a password or token except the one just generated, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from schemas.identifiers import IdentifierError, validate_unit_code
from schemas.text import is_printable
from titlecred.db.models import Account, Organization
from titlecred.services import audit, otp
from titlecred.services.auth import check_password_policy, generate_password, hash_password
from titlecred.services.context import Registry
from titlecred.services.errors import Conflict, Forbidden, Invalid, NotFound
from titlecred.services.persons import get_or_create_person, normalize_id
from titlecred.services.principal import (
    BUREAU,
    DISTRICT,
    EMPLOYER,
    HOLDER_HOME_KINDS,
    ORG_KINDS,
    ROLES,
    SELF_REVIEW,
    SUPERVISORY,
    Principal,
    require_bureau,
    require_org_admin,
)
from titlecred.services.tx import atomic

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
_REGION = re.compile(r"[1-9][0-9]{5}")


def _unit_code(value: str) -> str:
    try:
        return validate_unit_code(value)
    except IdentifierError as e:
        raise Invalid(e.code, f"unitCode: {e.message}", 422, "unitCode") from None


def _text(value: Any, field: str, max_len: int = 200, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid("missing_field", f"{field} is required", 422, field)
        return None
    if not isinstance(value, str) or not is_printable(value) or len(value) > max_len or value != value.strip():
        raise Invalid("invalid_field", f"{field} must be printable text of at most {max_len} characters",
                      422, field)
    return value


def bureau(session: Session) -> Organization:
    org = session.exec(select(Organization).where(Organization.kind == BUREAU)).first()
    if org is None:
        raise Conflict("no_bureau", "the registry has no bureau yet; run 'titlecred bootstrap' (or 'titlecred demo')")
    return org


def _linked(session: Session, org_id: int | None, kind: str, field: str) -> int | None:
    if org_id is None:
        return None
    org = session.get(Organization, org_id)
    if org is None or org.kind != kind:
        raise Invalid("invalid_link", f"{field} must be the id of a {kind} organization", 422, field)
    return org_id


@dataclass(frozen=True)
class NewAccount:
    account: Account
    password: str | None  # the generated password, shown once; None when the caller chose it


def bootstrap(session: Session, registry: Registry, *, region_code: str, admin_username: str,
              admin_password: str | None = None) -> tuple[Organization, NewAccount]:
    """The bureau organization (from the issuer profile) and its first admin; once per registry."""
    if not _REGION.fullmatch(region_code or ""):
        raise Invalid("invalid_region_code", "the region code is the bureau's 6-digit division code", 422,
                      "regionCode")
    if not registry.profile.unit_code:
        raise Invalid("invalid_unit_code", "the issuer profile has no unit code (keys generate --unit-code)")
    now = registry.now()
    with atomic(session):
        if session.exec(select(Organization).where(Organization.kind == BUREAU)).first() is not None:
            raise Conflict("bureau_exists", "this registry already has its bureau")
        org = Organization(kind=BUREAU, name=registry.profile.name, unit_code=_unit_code(registry.profile.unit_code),
                           region_code=region_code, created_at=now)
        session.add(org)
        session.flush()
        assert org.id is not None
        new = _add_account(session, registry, org, admin_username, "管理员", "admin", admin_password, None)
        audit.append(session, at=now, actor="system:bootstrap", action="organization.created",
                     subject=f"organization:{org.id}", details={"kind": BUREAU, "regionCode": region_code})
    return org, new


def create_org(session: Session, registry: Registry, actor: Principal, data: dict[str, Any]) -> Organization:
    require_bureau(actor)
    if actor.role != "admin":
        raise Forbidden("only the bureau's admin creates organizations")
    kind = data.get("kind")
    if kind not in ORG_KINDS or kind == BUREAU:
        raise Invalid("invalid_kind", "kind must be one of " + ", ".join(k for k in ORG_KINDS if k != BUREAU),
                      422, "kind")
    name = _text(data.get("name"), "name")
    code = _unit_code(data.get("unitCode") or "")
    now = registry.now()
    with atomic(session):
        supervisor = _linked(session, data.get("supervisorId"), SUPERVISORY, "supervisorId")
        district = _linked(session, data.get("districtId"), DISTRICT, "districtId")
        if (supervisor or district) and kind not in (EMPLOYER, SELF_REVIEW):
            raise Invalid("invalid_link", "only an employer (or self-review unit) has a supervisory department "
                          "and a district bureau", 422, "supervisorId")
        if session.exec(select(Organization).where(Organization.kind == kind,
                                                   Organization.unit_code == code)).first():
            raise Conflict("organization_exists", f"a {kind} with this unit code exists")
        org = Organization(kind=kind, name=str(name), unit_code=code, supervisor_id=supervisor, district_id=district,
                           organizing_unit=_text(data.get("organizingUnit"), "organizingUnit", required=False),
                           created_at=now)
        session.add(org)
        session.flush()
        audit.append(session, at=now, actor=actor.actor, action="organization.created",
                     subject=f"organization:{org.id}", details={"kind": kind})
    return org


def list_orgs(session: Session, actor: Principal, kind: str | None = None) -> list[Organization]:
    stmt = select(Organization).order_by(col(Organization.id))
    if kind:
        stmt = stmt.where(Organization.kind == kind)
    if actor.org_kind != BUREAU or not actor.is_staff:
        # Others see their own organization, and the exam bodies a holder may apply to.
        stmt = stmt.where((Organization.id == actor.org_id) | (Organization.kind == "exam_body"))
    return list(session.exec(stmt).all())


def get_org(session: Session, actor: Principal, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound("organization")
    if not (actor.is_bureau_staff or org.id == actor.org_id or org.kind == "exam_body"):
        raise Forbidden("you may see your own organization only")
    return org


def _add_account(session: Session, registry: Registry, org: Organization, username: Any, display_name: Any,
                 role: Any, password: str | None, person: dict[str, Any] | None, phone: Any = None,
                 email: Any = None) -> NewAccount:
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        raise Invalid("invalid_username", "a username is 3–64 characters: lowercase letters, digits, . _ -",
                      422, "username")
    display = _text(display_name, "displayName")
    if role not in ROLES:
        raise Invalid("invalid_role", "role must be admin, officer or holder", 422, "role")
    if session.exec(select(Account).where(Account.username == username)).first() is not None:
        raise Conflict("username_taken", "that username is taken")
    generated = None
    if password is None:
        password = generated = generate_password()
    else:
        check_password_policy(password)
    now = registry.now()
    person_id = None
    if role == "holder":
        if org.kind not in HOLDER_HOME_KINDS:
            raise Invalid("invalid_role", f"a {org.kind} has no holder accounts", 422, "role")
        if not isinstance(person, dict):
            raise Invalid("missing_field", "a holder account needs its person: name and idNumber", 422, "person")
        id_number = normalize_id(person.get("idNumber"), field="person.idNumber")
        p = get_or_create_person(session, registry.config, id_number=id_number,
                                 name=str(_text(person.get("name"), "person.name")), now=now,
                                 name_pinyin=_text(person.get("namePinyin"), "person.namePinyin", required=False))
        if session.exec(select(Account).where(Account.person_id == p.id)).first() is not None:
            raise Conflict("holder_exists", "this person already has an account")
        person_id = p.id
    elif person is not None:
        raise Invalid("invalid_field", "only holder accounts carry a person", 422, "person")
    if role != "holder" and (phone is not None or email is not None):
        raise Invalid("invalid_field", "only holder accounts carry a phone or e-mail (for sign-in codes)", 422,
                      "phone" if phone is not None else "email")
    phone = otp.normalize_phone(phone) if phone is not None else None
    email = otp.normalize_email(email) if email is not None else None
    otp.check_contact_free(session, phone, email, None)
    assert org.id is not None
    account = Account(org_id=org.id, username=username, display_name=str(display), role=role,
                      password_hash=hash_password(registry.config, password), person_id=person_id, created_at=now,
                      phone=phone, email=email)
    session.add(account)
    session.flush()
    return NewAccount(account, generated)


def create_account(session: Session, registry: Registry, actor: Principal, org_id: int,
                   data: dict[str, Any]) -> NewAccount:
    require_org_admin(actor, org_id)
    with atomic(session):
        org = session.get(Organization, org_id)
        if org is None:
            raise NotFound("organization")
        new = _add_account(session, registry, org, data.get("username"), data.get("displayName"),
                           data.get("role"), data.get("password"), data.get("person"), data.get("phone"),
                           data.get("email"))
        audit.append(session, at=registry.now(), actor=actor.actor, action="account.created",
                     subject=f"account:{new.account.id}", details={"orgId": org_id, "role": new.account.role})
    return new


def list_accounts(session: Session, actor: Principal, org_id: int) -> list[Account]:
    require_org_admin(actor, org_id)
    return list(session.exec(select(Account).where(Account.org_id == org_id).order_by(col(Account.id))).all())


def set_account_active(session: Session, registry: Registry, actor: Principal, account_id: int,
                       active: bool) -> Account:
    with atomic(session):
        account = session.get(Account, account_id)
        if account is None:
            raise NotFound("account")
        require_org_admin(actor, account.org_id)
        if account.id == actor.account_id and not active:
            raise Invalid("invalid_field", "you cannot deactivate your own account", 422, "active")
        account.active = active
        session.add(account)
        audit.append(session, at=registry.now(), actor=actor.actor,
                     action="account.activated" if active else "account.deactivated",
                     subject=f"account:{account.id}", details={})
    return account
