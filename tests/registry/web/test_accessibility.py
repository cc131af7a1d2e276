"""Every page, checked by axe-core (Deque's accessibility engine) in Chromium against WCAG 2.1 A and
AA: labels, contrast, landmarks, names of links and buttons, language of the page.

axe-core comes from the test npm packages (tests/interop, installed by `scripts/setup --dev`). The
pages forbid inline scripts (CSP), so this test's browser context bypasses CSP to inject it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from registry.kit import PASSWORD
from registry.web.browser import AXE, VIEWPORTS, LiveServer, Shots, axe_findings

from issuer.compact import compact_from_minimal


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    # The pages' markup does not depend on the database; the services under them are tested on both.
    return str(request.param)


@pytest.fixture(params=list(VIEWPORTS))
def axe_page(request: pytest.FixtureRequest, chromium: Any, live: LiveServer) -> Iterator[Any]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/setup --dev (npm ci in tests/interop)")
    context = chromium.new_context(base_url=live.url, locale="zh-CN", bypass_csp=True,
                                   **VIEWPORTS[str(request.param)])
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _check(page: Any, where: str, problems: dict[str, list[dict[str, Any]]]) -> None:
    blocking = axe_findings(page, where)
    if blocking:
        problems[where] = blocking


def _sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").first.click()
    page.wait_for_load_state()


def test_every_page_passes_wcag_aa_checks(axe_page: Any, live: LiveServer, shots: Shots) -> None:
    world = live.world
    cert = world.issued("holder")
    qr = compact_from_minimal(cert["minimalCredential"], live.registry.keys.active(), live.url)
    problems: dict[str, list[dict[str, Any]]] = {}
    page = axe_page

    for path in ("/", "/login", "/lookup", "/v", "/?lang=en"):
        page.goto(path)
        _check(page, path, problems)
    page.goto(qr.replace(live.url, ""))
    page.locator("[data-verdict]").first.wait_for()
    _check(page, "/v#TC1 (valid)", problems)

    _sign_in(page, "holder")
    for path in ("/me",):
        page.goto(path)
        _check(page, path, problems)
    page.context.clear_cookies()

    for user, paths in (("employer", ("/work", "/work/reviews", "/work/staff")),
                        ("bureau-officer", ("/work", "/work/keys"))):
        _sign_in(page, user)
        for path in paths:
            page.goto(path)
            _check(page, f"{user} {path}", problems)
        page.context.clear_cookies()
    assert not problems, "\n".join(f"{where}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
                                   for where, vs in problems.items() for v in vs)
