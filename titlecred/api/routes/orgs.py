"""Organizations (created by the bureau's admin) and their accounts (created by each organization's admin).

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from fastapi import APIRouter

from titlecred.api import models as m
from titlecred.api import views
from titlecred.api.deps import Id, PrincipalDep, RegistryDep, SessionDep
from titlecred.services import orgs

router = APIRouter(tags=["organizations"], responses=m.PROBLEMS)


@router.post("/api/organizations", summary="Create an organization (bureau admin)", response_model=m.OrgOut,
             status_code=201)
def create_org(body: m.OrgCreate, session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> m.OrgOut:
    return views.org_out(orgs.create_org(session, registry, actor, body.model_dump()))


@router.get("/api/organizations", summary="Organizations you may see (the bureau: all; others: their own and "
            "the exam bodies)", response_model=list[m.OrgOut])
def list_orgs(session: SessionDep, actor: PrincipalDep, kind: str | None = None) -> list[m.OrgOut]:
    return [views.org_out(o) for o in orgs.list_orgs(session, actor, kind)]


@router.get("/api/organizations/{org_id}", summary="One organization", response_model=m.OrgOut)
def get_org(org_id: Id, session: SessionDep, actor: PrincipalDep) -> m.OrgOut:
    return views.org_out(orgs.get_org(session, actor, org_id))


@router.post("/api/organizations/{org_id}/accounts", summary="Create an account of the organization (its admin, "
             "or the bureau admin); a generated password is shown once", response_model=m.AccountCreated,
             status_code=201)
def create_account(org_id: Id, body: m.AccountCreate, session: SessionDep, registry: RegistryDep,
                   actor: PrincipalDep) -> m.AccountCreated:
    data = body.model_dump()
    data["person"] = body.person.model_dump() if body.person else None
    new = orgs.create_account(session, registry, actor, org_id, data)
    return m.AccountCreated(account=views.account_out(session, new.account), password=new.password)


@router.get("/api/organizations/{org_id}/accounts", summary="The organization's accounts (its admin, or the "
            "bureau admin)", response_model=list[m.AccountOut])
def list_accounts(org_id: Id, session: SessionDep, actor: PrincipalDep) -> list[m.AccountOut]:
    return [views.account_out(session, a, actor) for a in orgs.list_accounts(session, actor, org_id)]


@router.patch("/api/accounts/{account_id}", summary="Activate or deactivate an account (its organization's "
              "admin)", response_model=m.AccountOut)
def update_account(account_id: Id, body: m.AccountUpdate, session: SessionDep, registry: RegistryDep,
                   actor: PrincipalDep) -> m.AccountOut:
    return views.account_out(session, orgs.set_account_active(session, registry, actor, account_id, body.active),
                             actor)
