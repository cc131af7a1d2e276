"""The site's frame: the front page in both languages, signing in and out, and what every page sends."""

from __future__ import annotations

import html
import re
from typing import Any

from registry.kit import PASSWORD
from registry.web.browser import LiveServer, Shots


def test_front_page_is_chinese_first_with_an_english_switch(page: Any, live: LiveServer, shots: Shots) -> None:
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", level=1).inner_text() == "电子职称证书签发与核验"
    shots(page, "home-zh")
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Electronic professional title certificates"
    # The choice is remembered across pages.
    page.goto("/login")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    shots(page, "login-en")


def test_staff_sign_in_and_out_through_the_login_page(page: Any, live: LiveServer) -> None:
    page.goto("/login?next=/")
    page.get_by_label("用户名").fill("employer")
    page.get_by_label("密码").fill("wrong password!")
    page.get_by_role("button", name="登录").click()
    assert page.locator("#login-error").is_visible()
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(live.url + "/")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["tc_session"]["httpOnly"] is True
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(live.url + "/")
    assert "tc_session" not in {c["name"] for c in page.context.cookies()}


def test_pages_forbid_inline_scripts_and_caching(live: LiveServer) -> None:
    response = live.world.client.get("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_scripts_are_compressed_but_pages_with_personal_data_are_not(live: LiveServer) -> None:
    client = live.world.client
    script = client.get("/static/scan/verify.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200 and script.headers["content-encoding"] == "gzip"
    # A page carrying a CSRF token is never compressed (BREACH); nor the API.
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in page.headers
    api = client.get("/.well-known/did.json", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in api.headers


def test_language_switch_keeps_the_next_page_whole(live: LiveServer) -> None:
    from urllib.parse import parse_qs, urlsplit

    page = live.world.client.get("/login", params={"next": "/work/certificates?state=active&q=张"})
    link = re.search(r'href="(/login\?[^"]+)" lang="en"', page.text)
    assert link is not None
    query = parse_qs(urlsplit(html.unescape(link.group(1))).query)
    assert query == {"next": ["/work/certificates?state=active&q=张"], "lang": ["en"]}
