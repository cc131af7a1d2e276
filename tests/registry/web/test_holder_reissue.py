"""A reissue (补发) in a real Chromium, at a phone and a desktop viewport: the holder asks for it on the
certificate's page, the bureau's officer declines without a reason (refused), then approves it on
/work/reissue-requests through the confirmation step, and the holder finds the new certificate, marked
补发 and linked to the old one, and downloads its PDF (whose attached credential is the reissue's).

At every step the page's HTML is checked for the holder's full ID number, and for a text key left
untranslated.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from registry.kit import PASSWORD
from registry.web.browser import AXE, LiveServer, Shots, axe_findings

from printing.extract import pdf_attachment
from titlecred.db.models import Certificate


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    # The pages hold no rule of their own; the services under them are tested on both databases.
    return str(request.param)


class Checks:
    """No full ID number on any page, and no untranslated text key."""

    def __init__(self, *ids: str) -> None:
        self.ids = ids

    def __call__(self, page: Any) -> None:
        html = page.content()
        for full in self.ids:
            assert full not in html and full.lower() not in html, f"a full ID number is on {page.url}"
        keys = re.findall(r"\b(?:holder|reissue|portal|lookup)\.[a-z_]+(?:\.[A-Za-z_0-9]+)?\b", page.inner_text("body"))
        assert not keys, f"untranslated keys on {page.url}: {keys}"


def go(page: Any, target: Any) -> None:
    """Click what loads a new page, and wait for that page."""
    with page.expect_navigation():
        target.click()


def sign_in(page: Any, username: str, lands_on: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    go(page, page.locator("form[action='/login'] button[type=submit]"))
    page.wait_for_url(re.compile(rf".*{lands_on}$"))


def test_holder_requests_a_reissue_the_bureau_approves_and_the_holder_downloads_it(
        page: Any, live: LiveServer, shots: Shots, tmp_path: Path) -> None:
    world = live.world
    check = Checks(world.ids["holder"])
    old = world.issued("holder")
    old_number = old["certificateNumber"]

    # The holder asks on the certificate's page.
    sign_in(page, "holder", "/me")
    assert "联系发证机关" not in page.inner_text("body")
    go(page, page.locator(f".holder-cert[data-number='{old_number}']").get_by_role("link", name="查看"))
    form = page.locator("#reissue-form")
    assert form.is_visible()
    form.get_by_label("遗失").check()
    form.get_by_label("情况说明").fill("手机更换时证书文件丢失")
    check(page)
    shots(page, "holder-reissue-form")
    go(page, form.get_by_role("button", name="申请补发"))
    assert page.locator("#reissue-sent").is_visible()
    assert page.locator("#reissue-open [data-reissue-state='pending']").is_visible()
    assert not page.locator("#reissue-form").is_visible()  # one open request per certificate
    check(page)
    shots(page, "holder-reissue-requested")
    page.goto("/me/applications")
    row = page.locator("#reissue-list tbody tr")
    assert row.count() == 1 and row.get_attribute("data-state") == "pending"
    assert old_number in row.inner_text()
    check(page)
    shots(page, "holder-applications-pending")
    request_id = int(str(row.get_attribute("data-reissue")))

    # The bureau's officer: a decline needs a reason; then the approval, through its confirmation step.
    sign_in(page, "bureau-officer", "/work")
    page.goto("/work/reissue-requests")
    panel = page.locator(f"section[data-request='{request_id}']")
    assert old_number in panel.inner_text() and "手机更换时证书文件丢失" in panel.inner_text()
    assert panel.locator("[data-id-masked]").inner_text().startswith("110")
    check(page)
    shots(page, "bureau-pending")
    panel.locator("summary").click()
    panel.get_by_role("radio", name="不予补发").check()
    go(page, panel.get_by_role("button", name="下一步"))
    assert page.locator("#portal-error").is_visible()
    assert page.locator(f"#reason-{request_id}-error").is_visible()
    check(page)
    shots(page, "bureau-decline-needs-reason")
    panel = page.locator(f"section[data-request='{request_id}']")
    panel.get_by_role("radio", name="批准补发").check()
    go(page, panel.get_by_role("button", name="下一步"))
    assert page.locator("#reissue-confirm").is_visible()
    assert old_number in page.locator("#reissue-confirm").inner_text()
    check(page)
    shots(page, "bureau-confirm")
    go(page, page.locator("#confirm-button"))
    page.wait_for_url(re.compile(r".*/work/reissue-requests\?tab=decided&done=\d+$"))
    new_number = page.locator("#reissue-done-new").inner_text().strip()
    assert new_number != old_number and re.fullmatch(r"B1401022\d{3}000002", new_number)
    assert page.locator(f"#decided-list tr[data-request='{request_id}'][data-state='approved']").is_visible()
    check(page)
    shots(page, "bureau-approved")
    page.goto("/work/reissue-requests")
    assert page.locator("#no-requests").is_visible()

    # The holder sees the new certificate, marked 补发, and downloads its PDF.
    sign_in(page, "holder", "/me")
    new_card = page.locator(f".holder-cert[data-number='{new_number}']")
    assert new_card.locator("[data-status='active']").is_visible()
    assert page.locator(f".holder-cert[data-number='{old_number}'] [data-status='superseded']").is_visible()
    check(page)
    shots(page, "holder-me-reissued")
    go(page, new_card.get_by_role("link", name="查看"))
    predecessor = page.locator("#cert-predecessor")
    assert predecessor.is_visible() and old_number in predecessor.inner_text()
    assert "补发" in page.locator("dl.facts").inner_text()
    check(page)
    shots(page, "holder-new-certificate")
    with page.expect_download() as info:
        page.get_by_role("link", name="下载 PDF").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(str(target))
    pdf = target.read_bytes()
    assert pdf.startswith(b"%PDF") and info.value.suggested_filename == f"{new_number}.pdf"
    attached = json.loads(pdf_attachment(pdf))
    with world.sessions() as s:
        new_row = s.get(Certificate, int(page.url.rsplit("/", 1)[1]))
        assert new_row is not None
        assert attached == json.loads(new_row.full_json)
    assert attached["reissueOf"] == old["fullCredential"]["id"]
    assert "补发" in attached["credentialSubject"]["annotations"]

    # The old certificate's page and the applications list tell what happened, with the new one linked.
    page.goto(f"/me/certificates/{old['id']}")
    history = page.locator("#reissue-history")
    assert history.locator("[data-reissue-state='approved']").is_visible()
    assert new_number in history.inner_text()
    assert not page.locator("#reissue-form").is_visible()
    check(page)
    page.goto("/me/applications")
    row = page.locator("#reissue-list tbody tr")
    assert row.get_attribute("data-state") == "approved" and new_number in row.inner_text()
    check(page)
    shots(page, "holder-applications-approved")

    # In English too; the language switch of a page a POST rendered comes back to the certificate.
    page.goto(f"/me/certificates/{old['id']}/reissue?lang=en")
    page.wait_for_url(re.compile(rf".*/me/certificates/{old['id']}\?lang=en$"))
    assert "Reissued" in page.locator("#reissue-history").inner_text()
    check(page)


def test_reissue_and_contact_pages_pass_wcag_aa_checks(chromium: Any, live: LiveServer) -> None:
    """axe-core (WCAG 2.1 AA) on the pages this feature added or changed, in the states they take: the
    reissue form, an open request, the applications list with requests, a contact change waiting for its
    code, and the bureau's list, decision form with an error, confirmation and decided list. At the
    phone viewport; the CSP is bypassed only to inject axe."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/setup --dev (npm ci in tests/interop)")
    world = live.world
    first, second = world.issued("holder"), world.issued("holder", specialty="结构工程")
    r = world.client.post(f"/api/certificates/{second['id']}/reissue-requests", json={"reason": "damaged"},
                          headers=world["holder"].h)
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    r = world.client.put("/api/me/contact", json={"phone": "13800138000", "email": None}, headers=world["holder"].h)
    assert r.status_code == 202, r.text
    context = chromium.new_context(base_url=live.url, locale="zh-CN", bypass_csp=True,
                                   viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                   has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []

    def audit(where: str) -> None:
        problems.extend(f"{where}: {v['id']} {', '.join(v['nodes'][:3])}" for v in axe_findings(page, where))

    try:
        sign_in(page, "holder", "/me")
        audit("/me")
        for path in (f"/me/certificates/{first['id']}", f"/me/certificates/{second['id']}", "/me/applications",
                     "/me/contact"):
            page.goto(path)
            audit(path)
        sign_in(page, "bureau-officer", "/work")
        page.goto("/work/reissue-requests")
        audit("/work/reissue-requests")
        panel = page.locator(f"section[data-request='{request_id}']")
        panel.locator("summary").click()
        panel.get_by_role("radio", name="不予补发").check()
        go(page, panel.get_by_role("button", name="下一步"))
        audit("decline without a reason")
        panel = page.locator(f"section[data-request='{request_id}']")
        panel.get_by_label("理由").fill("请提供损坏情况说明")
        go(page, panel.get_by_role("button", name="下一步"))
        audit("confirmation")
        go(page, page.locator("#confirm-button"))
        audit("/work/reissue-requests?tab=decided")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
