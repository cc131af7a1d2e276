"""OpenID4VP 1.0 verifier over HTTP: a registration body asks with DCQL, the wallet answers by
direct_post, the presentation is verified (holder binding over our nonce and client_id, then the
certificate's own checks, then the requested fields); replays, someone else's key and undisclosed fields
fail with their reasons. POST /presentations/verify accepts the same presentations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from registry.kit import World
from registry.test_wallet_issuance import ISSUER, ask, give_phone, make_offer, nonce, token
from registry.walletkit import HolderKey, present_ldp, present_sd_jwt

FIELDS = ["name", "qualification", "level"]
CLIENT_ID = "redirect_uri:http://testserver/oid4vp/response"


@pytest.fixture
def ready(world: World) -> World:
    give_phone(world)
    return world


@pytest.fixture
def held(ready: World) -> dict[str, Any]:
    """A holder's wallet with the certificate in both formats, bound to its own key."""
    offer = make_offer(ready)
    at = token(ready, offer).json()["access_token"]
    holder = HolderKey()
    sd = ask(ready, at, "title_dc_sd_jwt", holder.proof(nonce(ready), ISSUER, by="jwk")).json()
    vc = ask(ready, at, "title_ldp_vc", holder.proof(nonce(ready), ISSUER)).json()
    return {"holder": holder, "sd": sd["credentials"][0]["credential"], "vc": vc["credentials"][0]["credential"],
            "cert": offer.cert}


def new_request(w: World, fields: list[str] = FIELDS, fmt: str = "dc+sd-jwt") -> dict[str, Any]:
    r = w.client.post("/api/presentation-requests", json={"fields": fields, "format": fmt, "purpose": "执业注册"},
                      headers=w["employer"].h)
    assert r.status_code == 201, r.text
    return dict(r.json())


def answer(w: World, req: dict[str, Any], presentation: Any) -> Any:
    return w.client.post("/oid4vp/response", data={"vp_token": json.dumps({"title": [presentation]}),
                                                    "state": req["id"]})


def result(w: World, req: dict[str, Any]) -> dict[str, Any]:
    r = w.client.get(f"/api/presentation-requests/{req['id']}", headers=w["employer"].h)
    assert r.status_code == 200 and r.json()["state"] == "answered", r.text
    return dict(r.json()["result"])


def failed(res: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c.get("code", "") for c in res["checks"] if not c["ok"]}


def test_request_is_an_openid4vp_link_with_dcql_and_direct_post(ready: World) -> None:
    req = new_request(ready)
    assert req["link"].startswith("openid4vp://?") and req["state"] == "pending"
    params = req["request"]
    assert params["client_id"] == CLIENT_ID and params["response_mode"] == "direct_post"
    assert params["response_uri"] == "http://testserver/oid4vp/response" and len(params["nonce"]) >= 32
    claims = params["dcql_query"]["credentials"][0]["claims"]
    assert [c["path"] for c in claims] == [["name"], ["qualification"], ["level"]]
    r = ready.client.post("/api/presentation-requests", json={"fields": ["salary"]}, headers=ready["employer"].h)
    assert r.status_code == 422 and r.json()["code"] == "invalid_fields"
    r = ready.client.post("/api/presentation-requests", json={"fields": FIELDS}, headers=ready["holder"].h)
    assert r.status_code == 403


def test_sd_jwt_presentation_is_accepted_with_only_the_asked_fields(ready: World, held: dict[str, Any]) -> None:
    req = new_request(ready)
    pres = present_sd_jwt(held["sd"], held["holder"], FIELDS, req["request"]["nonce"], CLIENT_ID)
    r = answer(ready, req, pres)
    assert r.status_code == 200 and r.json() == {}, r.text
    res = result(ready, req)
    assert res["verified"] is True and res["verdict"] == "valid", res
    assert res["claims"] == {"name": "张三", "qualification": "高级工程师", "level": "副高级"}
    assert "idNumber" not in json.dumps(res)
    # Answered once: a second response is refused.
    again = answer(ready, req, pres)
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"


def test_replayed_sd_jwt_presentation_fails_on_the_nonce(ready: World, held: dict[str, Any]) -> None:
    first, second = new_request(ready), new_request(ready)
    pres = present_sd_jwt(held["sd"], held["holder"], FIELDS, first["request"]["nonce"], CLIENT_ID)
    answer(ready, second, pres)
    res = result(ready, second)
    assert res["verified"] is False and failed(res) == {"key_binding": "nonce_mismatch"}


def test_sd_jwt_presented_by_someone_elses_key_fails(ready: World, held: dict[str, Any]) -> None:
    req = new_request(ready)
    pres = present_sd_jwt(held["sd"], HolderKey(), FIELDS, req["request"]["nonce"], CLIENT_ID)
    answer(ready, req, pres)
    res = result(ready, req)
    assert res["verdict"] == "wrong_holder" and failed(res) == {"key_binding": "wrong_holder_key"}


def test_sd_jwt_without_a_requested_field_fails_naming_it(ready: World, held: dict[str, Any]) -> None:
    req = new_request(ready)
    pres = present_sd_jwt(held["sd"], held["holder"], ["name", "level"], req["request"]["nonce"], CLIENT_ID)
    answer(ready, req, pres)
    res = result(ready, req)
    assert res["verdict"] == "not_disclosed" and failed(res) == {"disclosure": "not_disclosed"}
    assert "qualification" in next(c["reason"] for c in res["checks"] if c["name"] == "disclosure")
    assert res["claims"] == {}


def test_sd_jwt_of_a_revoked_certificate_fails_as_revoked(ready: World, held: dict[str, Any]) -> None:
    ready.client.post(f"/api/certificates/{held['cert']['id']}/revoke", json={"reason": "forgery"},
                      headers=ready["bureau"].h)
    req = new_request(ready)
    answer(ready, req, present_sd_jwt(held["sd"], held["holder"], FIELDS, req["request"]["nonce"], CLIENT_ID))
    res = result(ready, req)
    assert res["verdict"] == "revoked" and failed(res) == {"status": "revoked"}


def test_tampered_disclosure_fails(ready: World, held: dict[str, Any]) -> None:
    from keys.jose import b64u

    req = new_request(ready)
    pres = present_sd_jwt(held["sd"], held["holder"], FIELDS, req["request"]["nonce"], CLIENT_ID)
    forged = b64u(json.dumps(["salt", "level", "正高级"], ensure_ascii=False).encode())
    parts = pres.split("~")
    pres = "~".join([parts[0], forged, *parts[1:]])
    r = answer(ready, req, pres)
    assert r.status_code == 200
    assert result(ready, req)["verified"] is False


def test_w3c_presentation_is_accepted_and_replay_or_other_key_fail(ready: World, held: dict[str, Any]) -> None:
    req = new_request(ready, fmt="ldp_vc")
    vp = present_ldp(held["vc"], held["holder"], req["request"]["nonce"], CLIENT_ID)
    answer(ready, req, vp)
    res = result(ready, req)
    assert res["verified"] is True, res
    assert res["claims"]["qualification"] == "高级工程师" and res["holder"] == held["holder"].did
    replay = new_request(ready, fmt="ldp_vc")
    answer(ready, replay, vp)
    assert failed(result(ready, replay)) == {"holder_proof": "nonce_mismatch"}
    other = new_request(ready, fmt="ldp_vc")
    stranger = HolderKey()
    answer(ready, other, present_ldp(held["vc"], stranger, other["request"]["nonce"], CLIENT_ID))
    assert failed(result(ready, other)) == {"holder_proof": "wrong_holder_key"}


def test_presentations_verify_accepts_an_sd_jwt_presentation(ready: World, held: dict[str, Any]) -> None:
    pres = present_sd_jwt(held["sd"], held["holder"], FIELDS, "n-123", "https://rb.example")
    opts = {"challenge": "n-123", "domain": "https://rb.example"}
    r = ready.client.post("/presentations/verify", json={"verifiablePresentation": pres, "options": opts})
    assert r.status_code == 200 and r.json()["verified"] is True, r.text
    r = ready.client.post("/presentations/verify", json={"verifiablePresentation": pres,
                                                         "options": {**opts, "challenge": "other"}})
    assert r.status_code == 422 and any(d["code"] == "nonce_mismatch" for d in r.json()["problemDetails"])
    r = ready.client.post("/presentations/verify", json={"verifiablePresentation": "not~an~sd-jwt"})
    assert r.status_code == 400


def test_response_endpoint_errors(ready: World) -> None:
    r = ready.client.post("/oid4vp/response", data={"vp_token": "{}"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = ready.client.post("/oid4vp/response", data={"vp_token": "{}", "state": "nope"})
    assert r.json()["error"] == "invalid_request"
    req = new_request(ready)
    r = ready.client.post("/oid4vp/response", data={"vp_token": "[1,", "state": req["id"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = ready.client.post("/oid4vp/response", data={"error": "access_denied", "state": req["id"]})
    assert r.status_code == 200 and result(ready, req)["verdict"] == "declined"


def test_hostile_inputs_get_clear_refusals_not_500s(ready: World, held: dict[str, Any]) -> None:
    from keys.jose import b64u

    deep = "[" * 100_000 + "]" * 100_000
    req = new_request(ready)
    r = ready.client.post("/oid4vp/response", data={"vp_token": deep[:400_000], "state": req["id"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = ready.client.post("/oid4vci/credential", content=deep[:60_000].encode(),
                          headers={"Authorization": "Bearer x", "Content-Type": "application/json"})
    assert r.status_code in (400, 401)
    bomb = b64u(("[" * 5000 + "]" * 5000).encode())
    parts = held["sd"].split("~")
    for pres in (parts[0] + "~" + bomb + "~", b64u(b"{" * 3000) + "." + b64u(b"{}") + ".x~",
                 "~".join(["a"] * 10_000)):
        r = ready.client.post("/presentations/verify", json={"verifiablePresentation": pres})
        assert r.status_code in (400, 413, 422) and r.json()["verified"] is False, r.text
