"""The consent-gated lookup page (/lookup): a verifier (a registration body, an employer) enters the
certificate number, the holder's ID number and the one-time consent code the holder made, and gets the
certificate's minimal facts (the ID number masked) and its status as read at that moment.

Every refusal shows one message, whatever was wrong; the service pads every answer to the same time
and rate-limits failures per client and per certificate number. The page keeps the ID number out of
everything it sends back: the form is POSTed (never in a URL), the answer shows the masked number
only, and the ID and code fields come back empty.

It must never echo the ID number or the consent code into a page, a URL or a log line.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from titlecred.api.deps import RegistryDep, SessionDep
from titlecred.api.routes.lookup import client_address
from titlecred.errors import AppError
from titlecred.services import consent
from titlecred.services.context import Registry
from titlecred.services.principal import Principal
from titlecred.web import session as web_session
from titlecred.web.deps import MaybeUser
from titlecred.web.i18n import pick_language, translator
from titlecred.web.routes.login import clean_text, form_token, form_token_ok, keep_form_token
from titlecred.web.templating import render
from titlecred.web.views import when

router = APIRouter(include_in_schema=False)

# The facts a lookup shows, in the order of a paper certificate; the ID number only ever masked.
FACTS = ("name", "idNumberMasked", "gender", "qualification", "series", "specialty", "level", "reviewBody",
         "reviewChannel", "dateQualified", "reportingUnit", "certificateNumber", "scopeOfUse", "annotations")


def subject_facts(credential: dict[str, Any]) -> list[tuple[str, str]]:
    """(fact key, text) of a minimal credential's subject, as the page shows them."""
    subject = credential.get("credentialSubject") or {}
    out: list[tuple[str, str]] = []
    for key in FACTS:
        value = subject.get(key)
        if value in (None, "", []):
            continue
        out.append((key, "；".join(str(v) for v in value) if isinstance(value, list) else str(value)))
    issuer = credential.get("issuer")
    if isinstance(issuer, dict) and issuer.get("name"):
        out.append(("issuer", str(issuer["name"])))
    if credential.get("validFrom"):
        out.append(("validFrom", when(str(credential["validFrom"]))))
    return out


def _data_url(credential: dict[str, Any]) -> str:
    # The signed minimal credential, for the verifier to keep or check offline; it holds no full ID number.
    raw = json.dumps(credential, ensure_ascii=False, indent=2).encode("utf-8")
    return "data:application/ld+json;base64," + base64.b64encode(raw).decode("ascii")


def _page(request: Request, registry: Registry, user: Principal | None, *, status_code: int = 200,
          **ctx: Any) -> Response:
    token = form_token(request, registry)
    context: dict[str, Any] = {"form_token": token, "number": "", "verifier": "", "answer": None, "error": None,
                               "when": when, "retry_at": None}
    context.update(ctx)
    response = render(request, "lookup.html", context, status_code=status_code, user=user,
                      csrf=web_session.csrf_token(request, registry))
    return keep_form_token(request, registry, response, token)


@router.get("/lookup")
def lookup_page(request: Request, registry: RegistryDep, user: MaybeUser) -> Response:
    return _page(request, registry, user)


@router.post("/lookup")
def lookup_submit(request: Request, session: SessionDep, registry: RegistryDep, user: MaybeUser,
                  certificate_number: Annotated[str, Form(max_length=64)] = "",
                  id_number: Annotated[str, Form(max_length=32)] = "",
                  consent_code: Annotated[str, Form(max_length=32)] = "",
                  verifier: Annotated[str, Form(max_length=200)] = "",
                  form: Annotated[str, Form(max_length=64)] = "") -> Response:
    t = translator(pick_language(request))
    number, named = clean_text(certificate_number), clean_text(verifier)
    if not form_token_ok(request, registry, form):
        return _page(request, registry, user, status_code=403, number=number, verifier=named,
                     error=t("login.form_expired"))
    try:
        answer = consent.lookup(session, registry, certificate_number=number, id_number=id_number,
                                consent_code=consent_code, verifier=named or None,
                                client=client_address(request, registry))
    except AppError as e:
        if e.code == "rate_limited":
            seconds = int(getattr(e, "retry_after_seconds", 60) or 60)
            retry_at = when(registry.now() + timedelta(seconds=seconds))
            response = _page(request, registry, user, status_code=429, number=number, verifier=named,
                             error=t("lookup.rate_limited", time=retry_at), retry_at=retry_at)
            response.headers["Retry-After"] = str(seconds)
            return response
        if e.code == "lookup_refused":
            return _page(request, registry, user, status_code=403, number=number, verifier=named,
                         error=t("lookup.refused"))
        raise
    return _page(request, registry, user, number=number, verifier=named,
                 answer={"number": answer.certificate_number, "status": answer.status,
                         "since": when(answer.status_since), "checked_at": when(answer.checked_at),
                         "facts": subject_facts(answer.credential), "download": _data_url(answer.credential),
                         "filename": f"{answer.certificate_number}.minimal.json"})
