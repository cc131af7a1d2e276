"""The wallet formats against their specifications' own examples: the IETF Token Status List
(draft-ietf-oauth-status-list, §4 examples, 1 and 2 bits), the SD-JWT disclosure digest (RFC 9901's
`family_name: Möbius` example), holder keys as did:key / did:jwk, and the SD-JWT parser's refusals."""

from __future__ import annotations

import json

import pytest
from jwcrypto.common import base64url_decode
from nacl.signing import SigningKey

from issuer.sdjwt import digest, disclosure, issue_sd_jwt
from keys.jose import JoseError, b64u, did_for_jwk, jwk_from_did
from schemas import tokenstatus
from verifier.sdjwt import parse_sd_jwt


def test_token_status_list_one_bit_example() -> None:
    lst, bits = tokenstatus.decode({"bits": 1, "lst": "eNrbuRgAAhcBXQ"})
    assert bits == 1 and lst == bytes([0xB9, 0xA3])
    assert [tokenstatus.get_value(lst, i, 1) for i in range(16)] == [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]


def test_token_status_list_two_bit_example_and_round_trip() -> None:
    expected = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    lst, bits = tokenstatus.decode({"bits": 2, "lst": "eNo76fITAAPfAgc"})
    assert bits == 2 and lst == bytes([0xC9, 0x44, 0xF9])
    assert [tokenstatus.get_value(lst, i, 2) for i in range(12)] == expected
    ours = tokenstatus.empty(12, 2)
    for i, v in enumerate(expected):
        tokenstatus.set_value(ours, i, v, 2)
    assert tokenstatus.decode(tokenstatus.encode(ours, 2))[0] == lst


def test_token_status_list_refuses_a_zlib_bomb() -> None:
    import base64
    import zlib

    bomb = base64.urlsafe_b64encode(zlib.compress(bytes(64 * 1024 * 1024))).decode().rstrip("=")
    with pytest.raises(Exception, match="too large"):
        tokenstatus.decode({"bits": 1, "lst": bomb})


def test_sd_jwt_digest_matches_rfc_9901_example() -> None:
    assert digest("WyI2cU1RdlJMNWhhaiIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0") == \
        "uutlBuYeMDyjLLTpf6Jxi7yNkEF35jdyWMn9U7b_RYY"


def _token(**disclosable: object) -> str:
    key = SigningKey.generate()
    return issue_sd_jwt(visible={"iss": "did:web:x", "iat": 1, "vct": "v"}, disclosable=disclosable,
                        kid="did:web:x#k", sign=lambda m: bytes(key.sign(m).signature))


def test_every_fact_is_hidden_until_disclosed() -> None:
    token = _token(name="张三", idNumber="110105198503120418")
    parsed = parse_sd_jwt(token)
    assert "name" not in parsed.payload and len(parsed.payload["_sd"]) == 2
    assert parsed.claims["name"] == "张三"
    jwt, *discs, _ = token.split("~")
    name_disc = next(d for d in discs if json.loads(base64url_decode(d))[1] == "name")
    only_name = parse_sd_jwt(f"{jwt}~{name_disc}~")
    assert "idNumber" not in only_name.claims and only_name.claims["name"] == "张三"


def test_sd_jwt_parser_refusals() -> None:
    token = _token(name="张三")
    jwt, disc, _ = token.split("~")
    with pytest.raises(JoseError, match="not referenced"):
        parse_sd_jwt(f"{jwt}~{disclosure('level', '正高级')}~")
    with pytest.raises(JoseError, match="twice"):
        parse_sd_jwt(f"{jwt}~{disc}~{disc}~")
    with pytest.raises(JoseError):
        parse_sd_jwt(f"{jwt}~{b64u(b'[' * 5000 + b']' * 5000)}~")
    with pytest.raises(JoseError):
        parse_sd_jwt("no tilde")


def test_holder_keys_as_dids() -> None:
    key = SigningKey.generate()
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u(bytes(key.verify_key))}
    did = did_for_jwk(jwk)
    assert did.startswith("did:key:z6Mk") and jwk_from_did(did) == jwk
    ec = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
          "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
    assert did_for_jwk(ec).startswith("did:jwk:") and jwk_from_did(did_for_jwk(ec) + "#0") == ec
    with pytest.raises(JoseError):
        jwk_from_did("did:web:example.org")
    with pytest.raises(JoseError):
        did_for_jwk({**jwk, "d": "secret"})
