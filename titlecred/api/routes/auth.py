"""Login (password, or a one-time code by SMS or e-mail), logout, the current account, password change,
contact details, API tokens.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from titlecred.api import models as m
from titlecred.api import views
from titlecred.api.deps import Id, PrincipalDep, RegistryDep, SessionDep
from titlecred.api.routes import lookup
from titlecred.db.models import Account
from titlecred.services import auth, otp, ratelimit
from titlecred.services.context import Registry
from titlecred.services.principal import Principal

router = APIRouter(tags=["authentication"], responses=m.PROBLEMS)


@router.post("/api/auth/login", summary="Log in with username and password; returns a bearer token",
             response_model=m.LoginResponse)
def login(body: m.LoginRequest, session: SessionDep, registry: RegistryDep) -> m.LoginResponse:
    issued, account = auth.login(session, registry, body.username, body.password)
    assert issued.row.expires_at is not None
    return m.LoginResponse(token=issued.token, expiresAt=issued.row.expires_at,
                           account=views.account_out(session, account))


@router.post("/api/auth/otp/request", summary="Ask for a one-time sign-in code by SMS or e-mail (holders; "
             "the same answer whether or not the account exists)", response_model=m.OtpRequested,
             responses=lookup.RATE_LIMITED)
async def otp_request(body: m.OtpRequest, request: Request, session: SessionDep, registry: RegistryDep) -> Any:
    try:
        await lookup.padded(registry, otp.request_code, session, registry, identifier=body.identifier,
                            channel=body.channel, client=lookup.client_address(request, registry), padded=False)
    except ratelimit.RateLimited as e:
        return lookup.too_many(e)
    return m.OtpRequested(detail="if an account with that contact exists, a code was sent to it")


@router.post("/api/auth/otp/verify", summary="Sign in with the one-time code; returns a bearer token like a "
             "password login", response_model=m.LoginResponse, responses=lookup.RATE_LIMITED)
async def otp_verify(body: m.OtpVerify, request: Request, session: SessionDep, registry: RegistryDep) -> Any:
    try:
        issued = await lookup.padded(registry, otp.verify_code, session, registry, identifier=body.identifier,
                                     code=body.code, client=lookup.client_address(request, registry), padded=False)
    except ratelimit.RateLimited as e:
        return lookup.too_many(e)
    account = session.get(Account, issued.row.account_id)
    assert account is not None and issued.row.expires_at is not None
    return m.LoginResponse(token=issued.token, expiresAt=issued.row.expires_at,
                           account=views.account_out(session, account))


@router.post("/api/auth/logout", summary="End this session (revoke the bearer token used)", status_code=204)
def logout(session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> Response:
    auth.logout(session, registry, actor)
    return Response(status_code=204)


@router.get("/api/me", summary="The account behind the bearer token", response_model=m.AccountOut)
def me(session: SessionDep, actor: PrincipalDep) -> m.AccountOut:
    account = session.get(Account, actor.account_id)
    assert account is not None
    return views.account_out(session, account, actor)


@router.put("/api/me/password", summary="Change your password (ends your other sessions)", status_code=204)
def change_password(body: m.PasswordChange, session: SessionDep, registry: RegistryDep,
                    actor: PrincipalDep) -> Response:
    auth.change_password(session, registry, actor, body.currentPassword, body.newPassword)
    return Response(status_code=204)


def _contact_out(session: Session, registry: Registry, actor: Principal) -> m.ContactOut:
    account = session.get(Account, actor.account_id)
    assert account is not None
    pending = [m.ContactPendingOut(field="phone" if p.channel == "sms" else "email", destination=p.destination,
                                   expiresAt=p.expires_at) for p in otp.pending_changes(session, registry, actor)]
    return m.ContactOut(phone=account.phone, email=account.email, pending=pending)


@router.get("/api/me/contact", summary="Your phone and e-mail for sign-in codes, and new ones waiting for their "
            "code (holders)", response_model=m.ContactOut)
def get_contact(session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> m.ContactOut:
    return _contact_out(session, registry, actor)


@router.put("/api/me/contact", summary="Change your phone and e-mail for sign-in codes (holders). null removes one "
            "at once; a new one takes effect only once the code sent to it is confirmed (202, `pending`)",
            response_model=m.ContactOut, responses={202: {"model": m.ContactOut, "description": "pending "
                                                          "confirmation: a code was sent to each new address"},
                                                    **lookup.RATE_LIMITED})
def set_contact(body: m.ContactIn, response: Response, session: SessionDep, registry: RegistryDep,
                actor: PrincipalDep) -> Any:
    try:
        result = otp.set_contact(session, registry, actor, phone=body.phone, email=body.email)
    except ratelimit.RateLimited as e:
        return lookup.too_many(e)
    if result.pending:
        response.status_code = 202
    return _contact_out(session, registry, actor)


@router.post("/api/me/contact/confirm", summary="Confirm a new phone or e-mail with the code sent to it; it takes "
             "effect now (holders)", response_model=m.ContactOut)
def confirm_contact(body: m.ContactConfirm, session: SessionDep, registry: RegistryDep,
                    actor: PrincipalDep) -> m.ContactOut:
    otp.confirm_contact(session, registry, actor, field=body.field, code=body.code)
    return _contact_out(session, registry, actor)


@router.post("/api/tokens", summary="Create an API token (shown once) for yourself or, as admin, an account of "
             "your organization", response_model=m.TokenCreated, status_code=201)
def create_token(body: m.TokenCreate, session: SessionDep, registry: RegistryDep,
                 actor: PrincipalDep) -> m.TokenCreated:
    issued = auth.create_api_token(session, registry, actor, body.name, body.accountId, body.expiresInDays)
    return m.TokenCreated(**views.token_out(issued.row).model_dump(), token=issued.token)


@router.get("/api/tokens", summary="Your API tokens (an admin: the organization's); never the secrets",
            response_model=list[m.TokenOut])
def list_tokens(session: SessionDep, actor: PrincipalDep) -> list[m.TokenOut]:
    return [views.token_out(t) for t in auth.list_tokens(session, actor)]


@router.delete("/api/tokens/{token_id}", summary="Revoke an API token", response_model=m.TokenOut)
def revoke_token(token_id: Id, session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> m.TokenOut:
    return views.token_out(auth.revoke_token(session, registry, actor, token_id))
