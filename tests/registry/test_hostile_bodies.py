"""Lone surrogates, 4,300-digit integers and friends, on every API body: a clear 4xx, never a 500."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hostile_inputs import poison_credential
from registry.kit import World

SURROGATE = '"\\ud800"'  # JSON text for a lone surrogate: valid JSON syntax, not valid text
HUGE = "9" * 4400


def _operations(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    spec = world.client.app.openapi()  # type: ignore[attr-defined]
    out = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                out.append((method, path, content["application/json"].get("schema", {})))
    return out


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _hostile_body(schema: dict[str, Any], spec: dict[str, Any], leaf: str) -> str:
    """A JSON object with every property of the schema (one level) set to the hostile leaf."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    props = list(schema.get("properties", {})) or ["credential", "verifiableCredential"]
    return "{" + ", ".join(f'{json.dumps(p)}: {leaf}' for p in props) + "}"


@pytest.mark.parametrize("leaf", [SURROGATE, "[" + HUGE + "]", '{"a": "\\udfff", "b": 1e999999}'])
def test_no_api_body_gives_a_server_error(world: World, leaf: str) -> None:
    spec = world.client.app.openapi()  # type: ignore[attr-defined]
    headers = {**world["bureau"].h, "Content-Type": "application/json"}
    for method, path, schema in _operations(world):
        for body in (_hostile_body(schema, spec, leaf), leaf, '{"x": ' + leaf + "}"):
            r = world.client.request(method.upper(), _fill(path), content=body.encode(), headers=headers)
            assert r.status_code < 500, (method, path, body[:80], r.status_code, r.text[:300])
            assert "Traceback" not in r.text


def test_verify_routes_refuse_surrogates_and_huge_numbers_with_a_code(world: World) -> None:
    vc = poison_credential(3)
    text = json.dumps({"verifiableCredential": vc})
    for bad, code in ((text.replace('"VerifiableCredential"', SURROGATE, 1), "invalid_unicode"),
                      (text.replace('"2026-01-01T00:00:00Z"', HUGE, 1), "malformed_json")):
        r = world.client.post("/credentials/verify", content=bad.encode(),
                              headers={"Content-Type": "application/json"})
        assert r.status_code == 400, r.text
        assert r.json()["problemDetails"][0]["code"] == code
        vp = json.dumps({"verifiablePresentation": {
            "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
            "verifiableCredential": [json.loads("{}")]}}).replace("{}", bad.split(":", 1)[1][:-1])
        r = world.client.post("/presentations/verify", content=vp.encode(),
                              headers={"Content-Type": "application/json"})
        assert r.status_code == 400, r.text


@pytest.mark.parametrize("bad", ["%ED%A0%80", "%FF%FE", "%F0%9F", "9" * 4400, "%5Cud800"])
def test_no_url_gives_a_server_error(world: World, bad: str) -> None:
    for path in (f"/status/{bad}", f"/api/applications/{bad}", f"/api/applications?offset={bad}",
                 f"/api/certificates?q={bad}", f"/v/{bad}", f"/lookup?number={bad}"):
        r = world.client.get(path, headers=world["bureau"].h)
        assert r.status_code < 500, (path, r.status_code, r.text[:200])


@pytest.mark.parametrize("value", [b"%ED%A0%80", b"%FF", b"9" * 4400, b"%00"])
def test_public_forms_never_give_a_server_error(world: World, value: bytes) -> None:
    # The pages' forms from strangers (CSRF or not, the answer is a page or a refusal, never a 500).
    page = world.client.get("/lookup")
    assert page.status_code == 200
    for path, fields in (("/lookup", (b"number", b"idNumber", b"code")), ("/login", (b"username", b"password")),
                         ("/login/code", (b"identifier",))):
        body = b"&".join(f + b"=" + value for f in fields)
        r = world.client.post(path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code < 500, (path, value[:20], r.status_code, r.text[:300])
