"""OpenID4VCI authorization code flow with PKCE over HTTP: the wallet sends the holder to
/oid4vci/authorize, the holder signs in as on the portal and chooses a certificate, the wallet trades
the code (with its PKCE verifier) for a token and gets the credential; every misuse is refused."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi.testclient import TestClient
from registry.kit import PASSWORD, World
from registry.test_wallet_issuance import ISSUER, ask, nonce
from registry.walletkit import HolderKey

from keys.jose import b64u

REDIRECT = "https://wallet.example/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, b64u(hashlib.sha256(verifier.encode()).digest())


def sign_in(client: TestClient, username: str = "holder", next_url: str = "/me") -> None:
    page = client.get("/login").text
    form = re.search(r'name="form" value="([^"]+)"', page)
    assert form, "the login form carries its token"
    r = client.post("/login", data={"username": username, "password": PASSWORD, "form": form.group(1),
                                    "next": next_url}, follow_redirects=False)
    assert r.status_code == 303, r.text


def authorize(w: World, challenge: str, **extra: str) -> Any:
    params = {"response_type": "code", "client_id": "test-wallet", "redirect_uri": REDIRECT,
              "code_challenge": challenge, "code_challenge_method": "S256", "scope": "title_ldp_vc",
              "state": "s-1", **extra}
    return w.client.get("/oid4vci/authorize?" + urlencode(params), follow_redirects=False)


def consent(w: World, page: str, decision: str = "allow", cert_id: int | None = None) -> Any:
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    if cert_id is not None:
        fields["cert_id"] = str(cert_id)
    else:
        fields["cert_id"] = re.search(r'name="cert_id" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    fields["decision"] = decision
    import html
    fields = {k: html.unescape(v) for k, v in fields.items()}
    return w.client.post("/oid4vci/authorize", data=fields, follow_redirects=False)


def code_flow(w: World) -> tuple[str, str]:
    verifier, challenge = pkce()
    first = authorize(w, challenge)
    assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
    sign_in(w.client)
    page = authorize(w, challenge)
    assert page.status_code == 200 and "test-wallet" in page.text
    r = consent(w, page.text)
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["s-1"] and query["iss"] == [ISSUER]
    return query["code"][0], verifier


def exchange(w: World, code: str, verifier: str, redirect: str = REDIRECT) -> Any:
    return w.client.post("/oid4vci/token", data={"grant_type": "authorization_code", "code": code,
                                                 "code_verifier": verifier, "redirect_uri": redirect,
                                                 "client_id": "test-wallet"})


def test_holder_signs_in_chooses_and_the_wallet_gets_the_credential(world: World) -> None:
    world.issued()
    assert "authorization_code" in world.client.get("/.well-known/oauth-authorization-server").json()[
        "grant_types_supported"]
    code, verifier = code_flow(world)
    r = exchange(world, code, verifier)
    assert r.status_code == 200, r.text
    holder = HolderKey()
    cred = ask(world, r.json()["access_token"], "title_ldp_vc", holder.proof(nonce(world), ISSUER))
    assert cred.status_code == 200, cred.text
    assert cred.json()["credentials"][0]["credential"]["credentialSubject"]["id"] == holder.did
    # Not asked for in the scope: not issued.
    other = ask(world, r.json()["access_token"], "title_dc_sd_jwt", holder.proof(nonce(world), ISSUER))
    assert other.json()["error"] == "unknown_credential_configuration"


def test_code_needs_the_right_verifier_and_redirect_and_works_once(world: World) -> None:
    world.issued()
    code, verifier = code_flow(world)
    assert exchange(world, code, pkce()[0]).json()["error"] == "invalid_grant"
    assert exchange(world, code, verifier, "https://evil.example/cb").json()["error"] == "invalid_grant"
    assert exchange(world, code, verifier).status_code == 200
    assert exchange(world, code, verifier).json()["error"] == "invalid_grant"


def test_a_pre_authorized_grant_cannot_use_an_authorization_code(world: World) -> None:
    world.issued()
    code, _ = code_flow(world)
    r = world.client.post("/oid4vci/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                                                  "pre-authorized_code": code, "tx_code": "000000"})
    assert r.json()["error"] == "invalid_grant"


def test_authorization_request_errors(world: World) -> None:
    world.issued()
    sign_in(world.client)
    _, challenge = pkce()
    r = authorize(world, challenge, code_challenge_method="plain")
    assert r.status_code == 303 and "error=invalid_request" in r.headers["location"]
    r = authorize(world, challenge, scope="something")
    assert "error=invalid_scope" in r.headers["location"] and "state=s-1" in r.headers["location"]
    r = authorize(world, challenge, redirect_uri="javascript:alert(1)")
    assert r.status_code == 400  # never redirected to a bad redirect_uri
    r = authorize(world, challenge, redirect_uri="http://evil.example/cb")
    assert r.status_code == 400
    page = authorize(world, challenge)
    r = consent(world, page.text, decision="deny")
    assert "error=access_denied" in r.headers["location"]


def test_someone_elses_certificate_cannot_be_chosen(world: World) -> None:
    app = world.application("holder2", namePinyin="Li Si")
    other = world.approve_all(app["id"], "employer2", "supervisory", "bureau")["certificate"]
    world.issued()
    sign_in(world.client)
    _, challenge = pkce()
    page = authorize(world, challenge)
    r = consent(world, page.text, cert_id=other["id"])
    assert r.status_code in (403, 404)
