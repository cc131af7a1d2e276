"""Who is acting, and the authorization rules every service applies before it reads or writes.

Roles: `admin` (manages its organization's accounts and tokens, and does everything an officer does),
`officer` (the organization's work: uploads, reviews, issuance for the bureau), `holder` (a person:
applies, corrects, sees their own). Organization kinds decide which work: only the bureau issues,
revokes, suspends and reissues; a committee uploads only for itself; an employer sees and reviews its
own staff only.

Services call these checks and raise `Forbidden` (403) before changing anything.

It must never grant by default: a check that does not match raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from titlecred.services.errors import Forbidden

ROLES = ("admin", "officer", "holder")
STAFF_ROLES = ("admin", "officer")

BUREAU = "bureau"
DISTRICT = "district_bureau"
COMMITTEE = "committee"
SELF_REVIEW = "self_review_unit"
EMPLOYER = "employer"
SUPERVISORY = "supervisory"
EXAM_BODY = "exam_body"
ORG_KINDS = (BUREAU, DISTRICT, COMMITTEE, SELF_REVIEW, EMPLOYER, SUPERVISORY, EXAM_BODY)
UPLOADER_KINDS = (COMMITTEE, SELF_REVIEW)
# Organizations whose staff accounts may be holders (a person's employer, or who registers them).
HOLDER_HOME_KINDS = (EMPLOYER, SELF_REVIEW, EXAM_BODY, BUREAU)


@dataclass(frozen=True)
class Principal:
    account_id: int
    username: str
    org_id: int
    org_kind: str
    role: str
    person_id: int | None = None
    token_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this principal (no personal data)."""
        return f"account:{self.account_id}:{self.username}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_bureau_staff(self) -> bool:
        return self.org_kind == BUREAU and self.is_staff

    @property
    def is_holder(self) -> bool:
        return self.role == "holder"


def require_staff(p: Principal, *kinds: str, message: str | None = None) -> None:
    """An admin or officer of an organization of one of `kinds` (any kind if none given)."""
    if not p.is_staff or (kinds and p.org_kind not in kinds):
        raise Forbidden(message or "this needs an officer of " + (" or ".join(kinds) if kinds else "an organization"))


def require_bureau(p: Principal, message: str = "only the bureau's officers may do this") -> None:
    require_staff(p, BUREAU, message=message)


def require_holder(p: Principal) -> None:
    if not p.is_holder or p.person_id is None:
        raise Forbidden("only a holder (an individual's account) may do this")


def require_org_admin(p: Principal, org_id: int) -> None:
    """The admin of `org_id`, or the bureau's admin (who administers every organization)."""
    if p.role != "admin" or (p.org_id != org_id and p.org_kind != BUREAU):
        raise Forbidden("only the organization's admin (or the bureau's admin) may do this")
