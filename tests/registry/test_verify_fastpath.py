"""`POST /credentials/verify` answered without the framework (titlecred.api.verify_fast) says exactly
what the route says, and leaves every refusal to the application.

A query string sends a request past the fast path to the route, so each answer is compared with the
route's own answer to the same body: status, headers and bytes.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import pytest
from registry.kit import World

from titlecred.api.verify_fast import VerifyFastPath


def _fast_path(world: World) -> VerifyFastPath:
    world.client.get("/healthz")  # the middleware stack is built on the first request
    stack = world.client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(stack, VerifyFastPath):  # inside Starlette's and FastAPI's own outer layers
        stack = stack.app
    return stack


def _post(world: World, body: bytes, query: str = "", **headers: str) -> Any:
    return world.client.post("/credentials/verify" + query, content=body,
                             headers={"Content-Type": "application/json", **headers})


def _same(world: World, body: bytes) -> Any:
    fast = _post(world, body)
    slow = _post(world, body, "?via=route")
    assert (fast.status_code, fast.content) == (slow.status_code, slow.content)
    assert dict(fast.headers) == dict(slow.headers)
    return fast


def _request(vc: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"verifiableCredential": vc, **extra}, ensure_ascii=False).encode("utf-8")


def test_fast_answers_equal_the_routes_for_every_verdict(world: World) -> None:
    fast_path = _fast_path(world)
    cert = world.issued()
    vc = cert["fullCredential"]
    tampered = copy.deepcopy(vc)
    tampered["credentialSubject"]["name"] = "李四"
    unsupported = copy.deepcopy(vc)
    unsupported["proof"]["cryptosuite"] = "ecdsa-rdfc-2019"
    before = fast_path.answered
    assert _same(world, _request(vc)).status_code == 200
    assert _same(world, _request(vc, options={"checks": ["proof"]})).status_code == 200
    assert _same(world, _request(tampered)).json()["results"]["verdict"] == "tampered"
    assert _same(world, _request(unsupported)).status_code in (400, 422)
    r = world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "renting_out"},
                          headers=world["bureau"].h)
    assert r.status_code == 200, r.text
    revoked = _same(world, _request(vc))
    assert revoked.status_code == 422 and revoked.json()["results"]["verdict"] == "revoked"
    assert fast_path.answered - before == 5  # each of them answered by the fast path, not the route


@pytest.mark.parametrize("body, code", [
    (b'{"verifiableCredential": "\\ud800"}', "invalid_unicode"),
    (b'{"verifiableCredential": ' + b"1" * 5000 + b"}", "malformed_json"),
    (b"[1, 2]", "malformed_request"),
    (b'{"verifiableCredential": [1]}', "malformed_request"),
    (b"not json", "malformed_json"),
    (b'{"verifiableCredential": {}, "verifiableCredential": {}}', "malformed_json"),  # a duplicate key
])
def test_refusals_are_the_routes_own(world: World, body: bytes, code: str) -> None:
    fast_path = _fast_path(world)
    before = fast_path.answered
    r = _same(world, body)
    assert r.status_code == 400 and r.json()["code"] == code and r.json()["verified"] is False
    assert fast_path.answered == before  # the route answered, with the body replayed to it


def test_a_body_over_the_limit_or_without_a_length_goes_to_the_application(world: World) -> None:
    fast_path = _fast_path(world)
    vc = world.issued()["fullCredential"]
    before = fast_path.answered
    big = _post(world, b" " * (1024 * 1024 + 1))
    assert big.status_code == 413 and big.json()["code"] == "request_too_large"

    def chunks() -> Any:
        yield _request(vc)

    streamed = world.client.post("/credentials/verify", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 200 and streamed.json()["verified"] is True
    assert fast_path.answered == before


def test_each_fast_answer_is_logged_and_counted_once(world: World, caplog: pytest.LogCaptureFixture) -> None:
    vc = world.issued()["fullCredential"]
    with caplog.at_level(logging.INFO, logger="titlecred.access"):
        assert _post(world, _request(vc)).status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "titlecred.access"]
    assert len(lines) == 1 and lines[0].startswith("POST /credentials/verify 200 ")
    metrics = world.client.get("/metrics").text
    assert 'titlecred_verifications_total{verdict="valid"}' in metrics
