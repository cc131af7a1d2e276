"""The public GETs answered from memory (titlecred.api.fastpath) say exactly what the routes say.

A query string sends a request past the fast path to the application, so each answer is compared with
the application's own answer to the same request, headers and bytes, and each is counted once in the
access log and the metrics.
"""

from __future__ import annotations

import logging

import pytest
from registry.kit import World

from titlecred.services import status

PATHS = ["/status/revocation-1", "/status/suspension-1", "/.well-known/did.json", "/.well-known/jwks.json",
         "/jwks.json", "/scan/tc1-format.js", "/scan-sw.js", "/static/scan/scan.js", "/static/scan/scan.css",
         "/static/site.css"]


def _same(world: World, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    fast = world.client.get(path, headers=headers)
    slow = world.client.get(path + "?via=app", headers=headers)
    assert fast.status_code == slow.status_code, path
    assert fast.content == slow.content, path
    assert dict(fast.headers) == dict(slow.headers), path
    return fast.status_code, dict(fast.headers)


@pytest.mark.parametrize("gzip", [False, True])
def test_fast_answers_equal_the_applications(world: World, gzip: bool) -> None:
    world.issued()
    headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
    for _ in range(3):  # the first answer is recorded, the next ones replayed
        for path in PATHS:
            code, got = _same(world, path, headers)
            assert code == 200, path
            if "etag" in got:  # the service worker has none (no-cache)
                code, _ = _same(world, path, {**headers, "If-None-Match": got["etag"]})
                assert code == 304, path
    assert _same(world, "/status/no-such-list", headers)[0] == 404


def test_the_fast_path_answers_without_the_application(world: World) -> None:
    from titlecred.api.fastpath import PublicFastPath

    with world.sessions() as s:
        status.ensure_lists(s, world.registry)
    for path in PATHS:
        assert world.client.get(path).status_code == 200  # recorded
    stack = world.client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(stack, PublicFastPath):  # inside Starlette's and FastAPI's own outer layers
        stack = stack.app
    inner = stack.app

    async def refuse(scope: object, receive: object, send: object) -> None:
        raise AssertionError(f"reached the application: {scope!r}")

    stack.app = refuse
    try:
        for path in PATHS:
            assert world.client.get(path).status_code == 200, path
    finally:
        stack.app = inner


def test_a_revocation_is_served_at_once(world: World) -> None:
    cert = world.issued()
    url = cert["fullCredential"]["credentialStatus"][0]["statusListCredential"].removeprefix("http://testserver")
    before = world.client.get(url).content
    r = world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "renting_out"},
                          headers=world["bureau"].h)
    assert r.status_code == 200, r.text
    after = world.client.get(url)
    assert after.status_code == 200 and after.content != before
    assert after.content == world.client.get(url + "?via=app").content


def test_each_fast_answer_is_logged_once_by_route_template(world: World, caplog: pytest.LogCaptureFixture) -> None:
    with world.sessions() as s:
        status.ensure_lists(s, world.registry)
    for path in PATHS:
        world.client.get(path)  # recorded (and logged by the application)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="titlecred.access"):
        world.client.get("/status/revocation-1?x=1")
        world.client.get("/status/revocation-1")
        world.client.get("/.well-known/did.json")
        world.client.get("/scan/tc1-format.js")
        world.client.get("/static/scan/scan.js?x=1")
        world.client.get("/static/scan/scan.js")
    lines = [r.getMessage().rsplit(" ", 1)[0] for r in caplog.records if r.name == "titlecred.access"]
    assert lines == ["GET /status/{list_id} 200", "GET /status/{list_id} 200", "GET /.well-known/did.json 200",
                     "GET /scan/tc1-format.js 200", "GET (no route) 200", "GET (no route) 200"]
    assert all("revocation-1" not in r.getMessage() for r in caplog.records)
