"""The service works where there is no internet (issue 15): no page, /docs included, asks for anything
outside the service's origin; Swagger UI is served from the package and renders the API; a favicon."""

from __future__ import annotations

import re
from typing import Any

from registry.kit import PASSWORD
from registry.web.browser import LiveServer, axe_findings

PUBLIC_PAGES = ["/", "/v", "/lookup", "/login", "/docs"]
SIGNED_IN = {"holder": ["/me"], "bureau-admin": ["/work", "/work/keys", "/work/verify-batch"]}


def test_no_page_reaches_outside_the_service_and_docs_render_offline(chromium: Any, live: LiveServer) -> None:
    live.world.issued()
    context = chromium.new_context(base_url=live.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    outside: list[str] = []
    seen: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        seen.append(url)
        if url.startswith(live.url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    for path in PUBLIC_PAGES:
        page.goto(path, wait_until="networkidle")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() > 20  # Swagger UI drew the API's operations
    assert page.get_by_text("/api/verify/batch").first.is_visible()
    for username, paths in SIGNED_IN.items():
        context.clear_cookies()
        page.goto("/login")
        page.locator("#username").fill(username)
        page.locator("#password").fill(PASSWORD)
        page.locator("form[action='/login'] button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        for path in paths:
            r = page.goto(path, wait_until="networkidle")
            assert r is not None and r.status == 200, path
    context.close()
    assert outside == []
    assert any("/static/swagger/swagger-ui-bundle.js" in u for u in seen)


def test_favicon_and_swagger_assets_are_served_from_the_package(live: LiveServer) -> None:
    client = live.world.client
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon" and icon.content[:4] == \
        b"\0\0\1\0"
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()
    assert not re.search(r"(src|href)=\"https?://", docs.text)
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc", follow_redirects=False).headers["location"] == "/docs"


def test_bureau_staff_verify_a_zip_and_files_in_the_portal_and_download_the_csv(
        chromium: Any, live: LiveServer, tmp_path: Any) -> None:
    import io
    import json
    import zipfile

    world = live.world
    good, bad = world.issued(), world.issued()
    r = world.client.post(f"/api/certificates/{bad['id']}/revoke", json={"reason": "forgery"},
                          headers=world["bureau"].h)
    assert r.status_code == 200
    pdf = world.client.get(f"/api/certificates/{good['id']}/pdf", headers=world["holder"].h).content
    (tmp_path / "applicant-1.pdf").write_bytes(pdf)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("revoked.json", json.dumps(bad["minimalCredential"], ensure_ascii=False))
        z.writestr("junk.pdf", b"%PDF-1.4 broken")
    (tmp_path / "more.zip").write_bytes(buf.getvalue())

    context = chromium.new_context(base_url=live.url, locale="zh-CN", accept_downloads=True, bypass_csp=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto("/login")
    page.locator("#username").fill("bureau-admin")
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/work$"))
    page.locator("#verify-batch-link").click()
    page.wait_for_url(re.compile(r".*/work/verify-batch$"))
    page.locator("#vb-files").set_input_files([str(tmp_path / "applicant-1.pdf"), str(tmp_path / "more.zip")])
    page.locator("#vb-submit").click()
    page.wait_for_selector("#vb-table")
    rows = {row.locator("td").nth(0).inner_text(): row.get_attribute("data-verdict")
            for row in page.locator("#vb-table tbody tr").all()}
    assert rows == {"applicant-1.pdf": "valid", "more.zip/revoked.json": "revoked", "more.zip/junk.pdf": "unreadable"}
    assert "有效" in page.locator("#vb-table").inner_text()
    assert axe_findings(page, "verify-batch") == []
    page.locator("#vb-files").set_input_files([str(tmp_path / "more.zip")])
    with page.expect_download() as info:
        page.locator("#vb-csv").click()
    text = open(info.value.path(), encoding="utf-8-sig").read()
    assert text.splitlines()[0].startswith("index,name,verdict") and "revoked" in text
    context.close()
