"""OpenID4VCI 1.0 pre-authorized code flow over HTTP: the holder's offer, the transaction code sent
through the code sender, token, nonce, credential in both formats bound to the proved key, and every
attack on offers and key proofs refused with the spec's error code."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from registry.kit import World
from registry.walletkit import PRE_AUTH, HolderKey

from keys.jose import decode_compact
from titlecred.db.models import Account
from verifier.sdjwt import parse_sd_jwt

PHONE = "13800138000"
ISSUER = "http://testserver"


@dataclass
class Offer:
    cert: dict[str, Any]
    made: dict[str, Any]
    offer: dict[str, Any]
    tx_code: str

    @property
    def code(self) -> str:
        return str(self.offer["grants"][PRE_AUTH]["pre-authorized_code"])


def give_phone(w: World, who: str = "holder") -> None:
    with w.sessions() as s:
        account = s.get(Account, w[who].account_id)
        account.phone = PHONE
        s.add(account)
        s.commit()


def make_offer(w: World, cert: dict[str, Any] | None = None, **body: Any) -> Offer:
    cert = cert or w.issued()
    r = w.client.post(f"/api/certificates/{cert['id']}/wallet-offers", json=body or None, headers=w["holder"].h)
    assert r.status_code == 201, r.text
    made = r.json()
    sent = w.registry.sender.last_to(PHONE)  # type: ignore[attr-defined]
    assert sent is not None and sent.channel == "sms"
    tx_code = sent.message.split(": ", 1)[1][:6]
    assert tx_code.isdigit()
    offer_path = made["offerUri"].removeprefix(ISSUER)
    offer = w.client.get(offer_path)
    assert offer.status_code == 200, offer.text
    return Offer(cert, made, offer.json(), tx_code)


def token(w: World, offer: Offer, tx_code: str | None = None) -> Any:
    return w.client.post("/oid4vci/token", data={"grant_type": PRE_AUTH, "pre-authorized_code": offer.code,
                                                 "tx_code": tx_code or offer.tx_code})


def nonce(w: World) -> str:
    r = w.client.post("/oid4vci/nonce")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    return str(r.json()["c_nonce"])


def ask(w: World, access: str, config: str, proof: Any, kind: str = "jwt", **extra: Any) -> Any:
    body = {"credential_configuration_id": config, "proofs": {kind: [proof]}, **extra}
    return w.client.post("/oid4vci/credential", json=body, headers={"Authorization": f"Bearer {access}"})


@pytest.fixture
def ready(world: World) -> World:
    give_phone(world)
    return world


@pytest.fixture
def access(ready: World) -> tuple[Offer, str]:
    offer = make_offer(ready)
    r = token(ready, offer)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer" and r.headers["cache-control"] == "no-store"
    return offer, str(r.json()["access_token"])


def test_metadata_names_the_endpoints_formats_and_proof_types(world: World) -> None:
    md = world.client.get("/.well-known/openid-credential-issuer").json()
    assert md["credential_issuer"] == ISSUER and md["nonce_endpoint"] == ISSUER + "/oid4vci/nonce"
    configs = md["credential_configurations_supported"]
    assert configs["title_ldp_vc"]["format"] == "ldp_vc"
    assert configs["title_dc_sd_jwt"]["format"] == "dc+sd-jwt"
    assert configs["title_ldp_vc"]["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == \
        ["EdDSA", "ES256"]
    asm = world.client.get("/.well-known/oauth-authorization-server").json()
    assert asm["issuer"] == ISSUER and asm["token_endpoint"] == ISSUER + "/oid4vci/token"
    assert asm["pre-authorized_grant_anonymous_access_supported"] is True


def test_offer_link_holds_the_offer_uri_and_the_tx_code_goes_to_the_holder_only(ready: World) -> None:
    offer = make_offer(ready)
    assert offer.made["link"].startswith("openid-credential-offer://?credential_offer_uri=http%3A%2F%2Ftestserver")
    assert offer.made["txCodeSentTo"] == "138****8000"
    assert offer.offer["credential_configuration_ids"] == ["title_ldp_vc", "title_dc_sd_jwt"]
    tx = offer.offer["grants"][PRE_AUTH]["tx_code"]
    assert tx["input_mode"] == "numeric" and tx["length"] == 6
    assert offer.tx_code not in json.dumps(offer.offer) and offer.tx_code not in json.dumps(offer.made)
    # Someone else's certificate cannot be offered.
    r = ready.client.post(f"/api/certificates/{offer.cert['id']}/wallet-offers", headers=ready["holder2"].h)
    assert r.status_code in (403, 404)


def test_holder_without_phone_or_email_is_told_to_add_one(world: World) -> None:
    cert = world.issued()
    r = world.client.post(f"/api/certificates/{cert['id']}/wallet-offers", headers=world["holder"].h)
    assert r.status_code == 409 and r.json()["code"] == "no_contact"


def test_ldp_vc_is_bound_to_the_did_key_and_verifies(ready: World, access: tuple[Offer, str]) -> None:
    offer, at = access
    holder = HolderKey()
    r = ask(ready, at, "title_ldp_vc", holder.proof(nonce(ready), ISSUER))
    assert r.status_code == 200, r.text
    vc = r.json()["credentials"][0]["credential"]
    assert vc["credentialSubject"]["id"] == holder.did and holder.did.startswith("did:key:z6Mk")
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    full = ready.client.get(f"/api/certificates/{offer.cert['id']}", headers=ready["holder"].h).json()
    assert vc["id"] != full.get("fullCredential", {}).get("id")
    v = ready.client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert v.status_code == 200 and v.json()["verified"] is True, v.text


def test_ldp_vc_for_a_p256_jwk_is_bound_to_a_did_jwk(ready: World, access: tuple[Offer, str]) -> None:
    _, at = access
    holder = HolderKey(ec=True)
    r = ask(ready, at, "title_ldp_vc", holder.proof(nonce(ready), ISSUER, by="jwk"))
    assert r.status_code == 200, r.text
    assert r.json()["credentials"][0]["credential"]["credentialSubject"]["id"].startswith("did:jwk:")


def test_sd_jwt_hides_every_fact_and_is_revoked_with_the_certificate(ready: World, access: tuple[Offer, str]) -> None:
    offer, at = access
    holder = HolderKey()
    r = ask(ready, at, "title_dc_sd_jwt", holder.proof(nonce(ready), ISSUER, by="jwk"))
    assert r.status_code == 200, r.text
    sd = r.json()["credentials"][0]["credential"]
    parsed = parse_sd_jwt(sd)
    assert parsed.header["typ"] == "dc+sd-jwt" and parsed.payload["cnf"]["jwk"] == holder.jwk
    for fact in ("name", "idNumber", "level", "qualification", "certificateNumber"):
        assert fact not in parsed.payload and parsed.claims[fact]
    assert parsed.claims["name"] == "张三"
    ref = parsed.payload["status"]["status_list"]
    path = ref["uri"].removeprefix(ISSUER)
    from schemas import tokenstatus

    def value() -> int:
        tok = ready.client.get(path)
        assert tok.status_code == 200 and tok.headers["content-type"] == "application/statuslist+jwt"
        header, payload = decode_compact(tok.text)
        assert header["typ"] == "statuslist+jwt" and payload["sub"] == ref["uri"]
        lst, bits = tokenstatus.decode(payload["status_list"])
        return tokenstatus.get_value(lst, ref["idx"], bits)

    assert value() == tokenstatus.VALID
    r = ready.client.post(f"/api/certificates/{offer.cert['id']}/suspend", json={}, headers=ready["bureau"].h)
    assert r.status_code == 200, r.text
    assert value() == tokenstatus.SUSPENDED
    ready.client.post(f"/api/certificates/{offer.cert['id']}/unsuspend", json={}, headers=ready["bureau"].h)
    r = ready.client.post(f"/api/certificates/{offer.cert['id']}/revoke", json={"reason": "forgery"},
                          headers=ready["bureau"].h)
    assert r.status_code == 200, r.text
    assert value() == tokenstatus.INVALID


def test_offer_is_single_use(ready: World, access: tuple[Offer, str]) -> None:
    offer, _ = access
    r = token(ready, offer)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert ready.client.get(offer.made["offerUri"].removeprefix(ISSUER)).status_code == 404


def test_offer_expires(ready: World, clock: Any) -> None:
    offer = make_offer(ready)
    clock.advance(minutes=11)
    r = token(ready, offer)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant" and "expired" in r.json()["error_description"]


def test_wrong_tx_codes_are_refused_and_five_kill_the_offer(ready: World) -> None:
    offer = make_offer(ready)
    wrong = f"{(int(offer.tx_code) + 1) % 1_000_000:06d}"
    missing = ready.client.post("/oid4vci/token", data={"grant_type": PRE_AUTH, "pre-authorized_code": offer.code})
    assert missing.json()["error"] == "invalid_request"
    for _ in range(5):
        r = token(ready, offer, wrong)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = token(ready, offer)  # the right code, too late
    assert r.json()["error"] == "invalid_grant" and "too many" in r.json()["error_description"]


def test_token_endpoint_errors(world: World) -> None:
    r = world.client.post("/oid4vci/token", data={"grant_type": "password"})
    assert r.json()["error"] == "unsupported_grant_type"
    r = world.client.post("/oid4vci/token", data={"grant_type": PRE_AUTH, "pre-authorized_code": "nope",
                                                  "tx_code": "123456"})
    assert r.json()["error"] == "invalid_grant"
    r = world.client.post("/oid4vci/token", json={"grant_type": PRE_AUTH})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def _bad_proofs(holder: HolderKey, other: HolderKey, fresh: str) -> dict[str, tuple[str, str]]:
    now = time.time()
    forged = holder.proof(fresh, ISSUER)
    head, payload, _ = forged.split(".")
    return {
        "wrong typ": (holder.proof(fresh, ISSUER, typ="JWT"), "invalid_proof"),
        "alg none": (f"{head}.{payload}.", "invalid_proof"),
        "alg HS256": (holder.proof(fresh, ISSUER, alg="HS256"), "invalid_proof"),
        "alg not the key's": (holder.proof(fresh, ISSUER, alg="ES256"), "invalid_proof"),
        "kid and jwk": (holder.proof(fresh, ISSUER, by="both"), "invalid_proof"),
        "no key": (holder.proof(fresh, ISSUER, by="none"), "invalid_proof"),
        "x5c": (holder.proof(fresh, ISSUER, by="none", extra_header={"x5c": ["MII"]}), "invalid_proof"),
        "private jwk": (holder.proof(fresh, ISSUER, by="jwk", extra_header={"jwk": {**holder.jwk, "d": "AA"}}),
                        "invalid_proof"),
        "aud another issuer": (holder.proof(fresh, "https://evil.example"), "invalid_proof"),
        "iat too old": (holder.proof(fresh, ISSUER, iat=now - 600), "invalid_proof"),
        "iat in the future": (holder.proof(fresh, ISSUER, iat=now + 600), "invalid_proof"),
        "someone else's signature": (f"{head}.{payload}.{other.proof(fresh, ISSUER).split('.')[2]}",
                                     "invalid_proof"),
        "no nonce": (holder.proof(None, ISSUER), "invalid_nonce"),
        "unknown nonce": (holder.proof("made-up", ISSUER), "invalid_nonce"),
        "not a JWT": ("hello", "invalid_proof"),
    }


def test_every_bad_key_proof_is_refused_with_the_spec_error(ready: World, access: tuple[Offer, str]) -> None:
    _, at = access
    holder, other = HolderKey(), HolderKey()
    fresh = nonce(ready)
    for name, (proof, error) in _bad_proofs(holder, other, fresh).items():
        r = ask(ready, at, "title_ldp_vc", proof)
        assert r.status_code == 400 and r.json()["error"] == error, (name, r.text)
    # None of those used up the nonce: a good proof with it still works, once.
    good = holder.proof(fresh, ISSUER)
    assert ask(ready, at, "title_ldp_vc", good).status_code == 200
    r = ask(ready, at, "title_ldp_vc", holder.proof(fresh, ISSUER))
    assert r.status_code == 400 and r.json()["error"] == "invalid_nonce"


def test_nonce_expires(ready: World, access: tuple[Offer, str], clock: Any) -> None:
    _, at = access
    holder = HolderKey()
    fresh = nonce(ready)
    clock.advance(minutes=6)
    r = ask(ready, at, "title_ldp_vc", holder.proof(fresh, ISSUER, iat=clock.now.timestamp()))
    assert r.status_code == 401 or r.json()["error"] == "invalid_nonce"


def test_credential_request_errors(ready: World, access: tuple[Offer, str]) -> None:
    offer, at = access
    holder = HolderKey()
    r = ask(ready, "not-a-token", "title_ldp_vc", holder.proof(nonce(ready), ISSUER))
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = ask(ready, at, "something_else", holder.proof(nonce(ready), ISSUER))
    assert r.json()["error"] == "unknown_credential_configuration"
    r = ready.client.post("/oid4vci/credential", json={"credential_configuration_id": "title_ldp_vc",
                                                       "proof": {"proof_type": "jwt", "jwt": "x"}},
                          headers={"Authorization": f"Bearer {at}"})
    assert r.json()["error"] == "invalid_credential_request"
    r = ask(ready, at, "title_ldp_vc", holder.proof(nonce(ready), ISSUER), credential_identifier="x")
    assert r.json()["error"] == "unknown_credential_identifier"
    r = ready.client.post("/oid4vci/credential", content=b"{not json", headers={"Authorization": f"Bearer {at}",
                                                                               "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_credential_request"
    # A revoked certificate is no longer issued to a wallet.
    ready.client.post(f"/api/certificates/{offer.cert['id']}/revoke", json={"reason": "forgery"},
                      headers=ready["bureau"].h)
    r = ask(ready, at, "title_ldp_vc", holder.proof(nonce(ready), ISSUER))
    assert r.json()["error"] == "credential_request_denied"


def test_di_vp_key_proof_binds_the_ldp_vc_and_its_attacks_are_refused(ready: World,
                                                                      access: tuple[Offer, str]) -> None:
    from registry.walletkit import di_vp_proof

    _, at = access
    holder, other = HolderKey(), HolderKey()
    fresh = nonce(ready)
    bad = {
        "domain of another issuer": di_vp_proof(holder, fresh, "https://evil.example"),
        "holder is someone else": di_vp_proof(holder, fresh, ISSUER, holder_did=other.did),
        "proof tampered": {**di_vp_proof(holder, fresh, ISSUER), "holder": other.did},
        "not a presentation": {"hello": "world"},
    }
    for name, proof in bad.items():
        r = ask(ready, at, "title_ldp_vc", proof, kind="di_vp")
        assert r.status_code == 400 and r.json()["error"] == "invalid_proof", (name, r.text)
    r = ask(ready, at, "title_ldp_vc", di_vp_proof(holder, fresh, ISSUER), kind="di_vp")
    assert r.status_code == 200, r.text
    assert r.json()["credentials"][0]["credential"]["credentialSubject"]["id"] == holder.did
    r = ask(ready, at, "title_ldp_vc", di_vp_proof(holder, fresh, ISSUER), kind="di_vp")
    assert r.json()["error"] == "invalid_nonce"
    r = ask(ready, at, "title_dc_sd_jwt", di_vp_proof(holder, nonce(ready), ISSUER), kind="di_vp")
    assert r.json()["error"] == "invalid_proof"


def test_nonce_endpoint_is_rate_limited_per_client(world: World) -> None:
    codes = [world.client.post("/oid4vci/nonce").status_code for _ in range(125)]
    assert codes[:120] == [200] * 120 and codes[-1] == 429
    assert world.client.post("/oid4vci/nonce").json()["error"] == "rate_limited"
