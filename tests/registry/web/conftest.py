"""Fixtures of the browser tests: the real app served by uvicorn on a free port (the same database,
registry and keys as the `world` fixture's API client), and a real headless Chromium driven by
Playwright, at a phone-sized and a desktop viewport.

Screenshots are kept under TITLECRED_TEST_OUTPUT (default: test-output/ in the repository), one
folder per test, as artifacts of the run.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from registry.kit import World
from registry.web.browser import CHROMIUM, OUTPUT, VIEWPORTS, LiveServer, Shots, _free_port
from sqlalchemy import Engine

from titlecred.api.app import create_app
from titlecred.services.context import Registry
from titlecred.settings import Settings


@pytest.fixture
def live(world: World, home: Path, db_url: tuple[str, str | None], registry: Registry,
         engine: Engine) -> Iterator[LiveServer]:
    """The app on a real socket. The registry's base URL is the server's, so QR links point at it."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    registry.base_url = url
    settings = Settings(home=home, database_url=db_url[0], base_url=url, passphrase_from_env="")
    app = create_app(settings, registry=registry, engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(url, registry, world)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup --dev (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    folder = OUTPUT / "screenshots" / name
    shutil.rmtree(folder, ignore_errors=True)
    return Shots(folder)


@pytest.fixture
def page(chromium: Any, viewport: str, live: LiveServer) -> Iterator[Any]:
    """A fresh browser context (no cookies, no cache, no service worker) at the test's viewport."""
    context = chromium.new_context(base_url=live.url, locale="zh-CN", **VIEWPORTS[viewport])
    context.set_default_timeout(10_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
