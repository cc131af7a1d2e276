"""Independent wallets against a served TitleCred, over HTTP only: the OpenID4VCI 1.0 client of the Credo
wallet framework (@openid4vc/openid4vci) resolves our offer, reads the metadata, gets the token (with the
transaction code the holder received) and a nonce, proves possession of its key and receives the
certificate in both formats; then Digital Bazaar's vc.js verifies the W3C credential and
@sd-jwt/sd-jwt-vc the SD-JWT VC (its status fetched from our Token Status List)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from registry.kit import World
from registry.test_wallet_issuance import PHONE, give_phone
from registry.web.browser import LiveServer

from interop import vcjs
from interop.oid4vc import missing_reason, wallet
from schemas.loader import bundled_contexts

pytestmark = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    # The protocols run over the same services that tests/registry/test_wallet_*.py, test_presentations.py
    # and test_shares.py drive over HTTP on both databases; the independent libraries add the wire format,
    # not the database, and each of them costs a Node.js start.
    return str(request.param)


def offer_for(live: LiveServer, cert: dict[str, Any] | None = None, **body: Any) -> tuple[dict[str, Any], str]:
    w: World = live.world
    cert = cert or w.issued()
    r = w.client.post(f"/api/certificates/{cert['id']}/wallet-offers", json=body or None, headers=w["holder"].h)
    assert r.status_code == 201, r.text
    sent = w.registry.sender.last_to(PHONE)  # type: ignore[attr-defined]
    assert sent is not None
    return r.json(), sent.message.split(": ", 1)[1][:6]


def test_credo_client_obtains_a_bound_ldp_vc_that_vcjs_verifies(live: LiveServer) -> None:
    give_phone(live.world)
    made, tx = offer_for(live)
    assert made["offerUri"].startswith(live.url)
    out = wallet({"op": "issue", "offer": made["link"], "txCode": tx, "configurationId": "title_ldp_vc",
                  "keyType": "Ed25519", "bindBy": "did"})
    assert out.get("credential"), out
    vc = out["credential"]
    assert out["originalDraftVersion"] == "V1"
    assert vc["credentialSubject"]["id"] == out["holder"]["did"]
    documents: dict[str, Any] = {**bundled_contexts(), live.registry.profile.did: live.registry.did_document()}
    for entry in vc["credentialStatus"]:
        url = entry["statusListCredential"]
        documents[url] = httpx.get(url).json()
    answer = vcjs.vcjs_verify(vc, documents)
    assert answer["verified"] is True, answer


def test_credo_client_obtains_an_sd_jwt_vc_that_sd_jwt_vc_verifies_and_sees_revoked(live: LiveServer) -> None:
    w = live.world
    give_phone(w)
    cert = w.issued()
    made, tx = offer_for(live, cert, configurations=["title_dc_sd_jwt"])
    out = wallet({"op": "issue", "offer": made["link"], "txCode": tx, "configurationId": "title_dc_sd_jwt",
                  "keyType": "P-256", "bindBy": "jwk"})
    sd = out.get("credential")
    assert isinstance(sd, str), out
    jwks = httpx.get(f"{live.url}/.well-known/jwks.json").json()
    checked = wallet({"op": "verify-sdjwt", "sdJwt": sd, "jwks": jwks})
    assert checked["verified"] is True, checked
    claims = checked["claims"]
    assert claims["name"] == "张三" and claims["level"] == "副高级" and claims["cnf"]["jwk"]["x"] == \
        out["holder"]["publicJwk"]["x"]
    r = w.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "forgery"}, headers=w["bureau"].h)
    assert r.status_code == 200
    again = wallet({"op": "verify-sdjwt", "sdJwt": sd, "jwks": jwks})
    assert again["verified"] is False and "status" in again["error"].lower(), again


def test_credo_client_is_refused_a_used_offer_and_a_wrong_tx_code(live: LiveServer) -> None:
    give_phone(live.world)
    made, tx = offer_for(live)
    first = wallet({"op": "issue", "offer": made["link"], "txCode": tx, "configurationId": "title_ldp_vc"})
    assert first.get("credential")
    second = wallet({"op": "issue", "offer": made["link"], "txCode": tx, "configurationId": "title_ldp_vc"})
    assert second.get("library_error") and "status '404'" in second["error"], second
    made, tx = offer_for(live)
    wrong = f"{(int(tx) + 1) % 1_000_000:06d}"
    third = wallet({"op": "issue", "offer": made["link"], "txCode": wrong, "configurationId": "title_ldp_vc"})
    assert third.get("library_error") and "invalid_grant" in third["error"], third


def _wallet_with(live: LiveServer, config: str, key_type: str = "Ed25519", bind_by: str = "did") -> dict[str, Any]:
    give_phone(live.world)
    made, tx = offer_for(live, configurations=[config])
    out = wallet({"op": "issue", "offer": made["link"], "txCode": tx, "configurationId": config,
                  "keyType": key_type, "bindBy": bind_by})
    assert out.get("credential"), out
    return out


def _ask(live: LiveServer, fields: list[str], fmt: str) -> dict[str, Any]:
    w = live.world
    r = w.client.post("/api/presentation-requests", json={"fields": fields, "format": fmt},
                      headers=w["employer"].h)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _result(live: LiveServer, req: dict[str, Any]) -> dict[str, Any]:
    w = live.world
    r = w.client.get(f"/api/presentation-requests/{req['id']}", headers=w["employer"].h)
    assert r.json()["state"] == "answered", r.text
    return dict(r.json()["result"])


def test_openid4vp_wallet_presents_an_sd_jwt_vc_and_our_verifier_accepts_it(live: LiveServer) -> None:
    held = _wallet_with(live, "title_dc_sd_jwt", "P-256", "jwk")
    req = _ask(live, ["name", "qualification", "level"], "dc+sd-jwt")
    sent = wallet({"op": "present", "request": req["link"], "credential": held["credential"],
                   "holder": held["holder"]})
    assert sent.get("status") == 200, sent
    assert sent["version"] == 100  # the library read it as OpenID4VP 1.0 final
    res = _result(live, req)
    assert res["verified"] is True, res
    assert res["claims"] == {"name": "张三", "qualification": "高级工程师", "level": "副高级"}
    assert "idNumber" not in sent["presentation"] and "~" in sent["presentation"]


def test_openid4vp_wallet_replay_other_key_and_undisclosed_fields_are_refused(live: LiveServer) -> None:
    held = _wallet_with(live, "title_dc_sd_jwt", "P-256", "jwk")
    other = _wallet_with(live, "title_dc_sd_jwt", "P-256", "jwk")
    fields = ["name", "qualification", "level"]
    cases = [({"nonceOverride": "a-nonce-of-another-request"}, {"key_binding": "nonce_mismatch"}),
             ({"signWith": other["holder"]}, {"key_binding": "wrong_holder_key"}),
             ({"disclose": ["name"]}, {"disclosure": "not_disclosed"})]
    for extra, expected in cases:
        req = _ask(live, fields, "dc+sd-jwt")
        sent = wallet({"op": "present", "request": req["link"], "credential": held["credential"],
                       "holder": held["holder"], **extra})
        assert sent.get("status") == 200, sent
        res = _result(live, req)
        assert res["verified"] is False
        assert {c["name"]: c.get("code") for c in res["checks"] if not c["ok"]} == expected, (extra, res)


def test_openid4vp_wallet_presents_a_w3c_vp_signed_by_vcjs(live: LiveServer) -> None:
    held = _wallet_with(live, "title_ldp_vc")
    req = _ask(live, ["name", "level"], "ldp_vc")
    sent = wallet({"op": "present", "request": req["link"], "credential": held["credential"],
                   "holder": held["holder"], "documents": bundled_contexts()})
    assert sent.get("status") == 200, sent
    vp = sent["presentation"]
    assert vp["proof"]["challenge"] == req["request"]["nonce"] and vp["proof"]["domain"] == req["request"]["client_id"]
    res = _result(live, req)
    assert res["verified"] is True, res
    assert res["claims"] == {"name": "张三", "level": "副高级"}


def test_credo_client_authorization_code_flow_with_pkce(live: LiveServer) -> None:
    import re
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    from registry.kit import PASSWORD

    live.world.issued()
    redirect = "https://wallet.example/callback"
    common = {"issuer": live.url, "configurationId": "title_ldp_vc", "clientId": "credo-test-wallet",
              "redirectUri": redirect}
    started = wallet({"op": "authorize-start", **common})
    assert started.get("authorizationRequestUrl"), started
    url = started["authorizationRequestUrl"]
    assert url.startswith(live.url + "/oid4vci/authorize?") and "code_challenge_method=S256" in url
    # The holder's browser: signs in as on the portal, then chooses the certificate.
    with httpx.Client(base_url=live.url) as browser:
        first = browser.get(url)
        assert first.status_code == 303 and first.headers["location"].startswith("/login")
        form = re.search(r'name="form" value="([^"]+)"', browser.get("/login").text)
        assert form is not None
        browser.post("/login", data={"username": "holder", "password": PASSWORD, "form": form.group(1),
                                     "next": "/me"})
        page = browser.get(url)
        assert page.status_code == 200, page.text
        fields = {k: unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                                                        page.text)}
        cert = re.search(r'name="cert_id" value="(\d+)"', page.text)
        assert cert is not None
        answer = browser.post("/oid4vci/authorize", data={**fields, "cert_id": cert.group(1), "decision": "allow"})
    assert answer.status_code == 303 and answer.headers["location"].startswith(redirect)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    out = wallet({"op": "authorize-finish", **common, "code": code, "codeVerifier": started["codeVerifier"],
                  "credentialOffer": started["credentialOffer"]})
    assert out.get("credential"), out
    assert out["credential"]["credentialSubject"]["id"] == out["holder"]["did"]


def test_vcjs_verifies_a_purpose_bound_share_until_it_is_withdrawn(live: LiveServer) -> None:
    from datetime import timedelta

    from titlecred.services.clock import stamp

    w = live.world
    cert = w.issued()
    until = stamp(live.registry.now() + timedelta(days=3))
    r = w.client.post(f"/api/certificates/{cert['id']}/shares", json={"purpose": "仅用于示例公司招聘审核",
                                                                      "validUntil": until}, headers=w["holder"].h)
    assert r.status_code == 201, r.text
    share = r.json()
    cred = httpx.get(share["link"] + "/credential.json").json()

    def documents() -> dict[str, Any]:
        docs: dict[str, Any] = {**bundled_contexts(), live.registry.profile.did: live.registry.did_document()}
        for entry in cred["credentialStatus"]:
            docs[entry["statusListCredential"]] = httpx.get(entry["statusListCredential"]).json()
        return docs

    before = vcjs.vcjs_verify(cred, documents())
    assert before["verified"] is True and not any(s["status"] for s in before["status"]), before
    w.client.post(f"/api/shares/{share['id']}/withdraw", headers=w["holder"].h)
    # vc.js reports each status entry's bit (its `verified` says the status could be checked).
    after = vcjs.vcjs_verify(cred, documents())
    assert [s["statusPurpose"] for s in after["status"] if s["status"]] == ["revocation"], after["status"]


def test_credo_client_sends_a_di_vp_key_proof_signed_by_vcjs(live: LiveServer) -> None:
    give_phone(live.world)
    made, tx = offer_for(live, configurations=["title_ldp_vc"])
    out = wallet({"op": "issue", "offer": made["link"], "txCode": tx, "configurationId": "title_ldp_vc",
                  "proofType": "di_vp", "documents": bundled_contexts()})
    assert out.get("credential"), out
    assert out["credential"]["credentialSubject"]["id"] == out["holder"]["did"]
