"""The holder's "add to wallet" page in a real Chromium: the offer as a QR code and a same-device link,
the transaction code sent to the holder's phone (never shown), and the link from the page taken by an
independent wallet library to the credential."""

from __future__ import annotations

from typing import Any

import pytest
from registry.test_wallet_issuance import PHONE, give_phone
from registry.web.browser import VIEWPORTS, LiveServer, Shots, axe_findings
from registry.web.test_holder_portal import sign_in_with_password

from interop.oid4vc import missing_reason, wallet
from titlecred.services.senders import MemorySender


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    # The page holds no rule; the services under it are tested on both databases.
    return str(request.param)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_holder_adds_a_certificate_to_a_wallet_from_the_page(chromium: Any, size: str, live: LiveServer,
                                                            shots: Shots) -> None:
    # bypass_csp: only so that axe-core can be injected (the page itself runs under its CSP elsewhere).
    context = chromium.new_context(base_url=live.url, locale="zh-CN", bypass_csp=True, **VIEWPORTS[size])
    try:
        _add_to_wallet(context.new_page(), live, shots)
    finally:
        context.close()


def _add_to_wallet(page: Any, live: LiveServer, shots: Shots) -> None:
    w = live.world
    give_phone(w)
    cert = w.issued()
    sender = w.registry.sender
    assert isinstance(sender, MemorySender)
    sign_in_with_password(page)
    page.goto(f"/me/certificates/{cert['id']}")
    page.locator("#add-to-wallet").click()
    page.locator("#wallet-submit").click()
    page.locator("#wallet-qr svg").wait_for()
    shots(page, "wallet-offer")
    link = page.locator("#wallet-link").get_attribute("href")
    assert link.startswith("openid-credential-offer://?credential_offer_uri=")
    sent = sender.last_to(PHONE)
    assert sent is not None
    tx_code = sent.message.split(": ", 1)[1][:6]
    html = page.content()
    assert tx_code not in html and "138****8000" in html
    assert axe_findings(page, "wallet offer") == []
    if missing_reason() is None:
        out = wallet({"op": "issue", "offer": link, "txCode": tx_code, "configurationId": "title_dc_sd_jwt",
                      "bindBy": "jwk"})
        assert isinstance(out.get("credential"), str), out


def test_holder_without_contact_is_told_to_add_one(page: Any, live: LiveServer) -> None:
    cert = live.world.issued()
    sign_in_with_password(page)
    page.goto(f"/me/certificates/{cert['id']}/wallet")
    page.locator("#wallet-submit").click()
    assert "请先绑定手机号或电子邮箱" in page.content()


@pytest.mark.parametrize("size", ["desktop"])
def test_registration_body_asks_on_the_page_and_sees_the_wallets_answer(chromium: Any, size: str,
                                                                       live: LiveServer, shots: Shots) -> None:
    import re

    from registry.kit import PASSWORD

    w = live.world
    give_phone(w)
    cert = w.issued()
    r = w.client.post(f"/api/certificates/{cert['id']}/wallet-offers", json={"configurations": ["title_dc_sd_jwt"]},
                      headers=w["holder"].h)
    sent = w.registry.sender.last_to(PHONE)  # type: ignore[attr-defined]
    context = chromium.new_context(base_url=live.url, locale="zh-CN", bypass_csp=True, **VIEWPORTS[size])
    try:
        page = context.new_page()
        page.goto("/login")
        page.locator("#username").fill("employer")
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="登录", exact=True).click()
        page.wait_for_url(re.compile(r".*/work.*"))
        page.goto("/work/presentations")
        page.locator("#vp-purpose").fill("执业注册")
        page.locator("#vp-submit").click()
        page.locator("#vp-qr svg").wait_for()
        assert page.locator("#vp-state").get_attribute("data-state") == "pending"
        assert axe_findings(page, "presentation request") == []
        shots(page, "presentation-request")
        link = page.locator("#vp-link").get_attribute("href")
        assert link.startswith("openid4vp://?")
        if missing_reason() is not None:
            return
        held = wallet({"op": "issue", "offer": r.json()["link"], "txCode": sent.message.split(": ", 1)[1][:6],
                       "configurationId": "title_dc_sd_jwt", "bindBy": "jwk"})
        out = wallet({"op": "present", "request": link, "credential": held["credential"], "holder": held["holder"]})
        assert out.get("status") == 200, out
        page.locator("#vp-refresh").click()
        page.locator("#vp-verdict").wait_for()
        assert page.locator("#vp-verdict").get_attribute("data-verdict") == "valid"
        assert "高级工程师" in page.locator("#vp-claims").inner_text()
        assert axe_findings(page, "presentation result") == []
        shots(page, "presentation-result")
    finally:
        context.close()


def test_holder_shares_for_a_purpose_sees_openings_and_withdraws(chromium: Any, live: LiveServer,
                                                               shots: Shots) -> None:
    w = live.world
    w.issued()
    context = chromium.new_context(base_url=live.url, locale="zh-CN", bypass_csp=True, **VIEWPORTS["phone"])
    try:
        page = context.new_page()
        sign_in_with_password(page)
        page.goto("/me/shares")
        page.locator("#share-purpose-input").fill("仅用于示例公司招聘审核")
        page.locator("#share-submit").click()
        item = page.locator("#shares li[data-state='active']")
        item.wait_for()
        link = item.locator("a.share-link").get_attribute("href")
        assert axe_findings(page, "shares") == []
        visitor = chromium.new_context(base_url=live.url, locale="zh-CN", bypass_csp=True)
        other = visitor.new_page()
        other.goto(link)
        assert other.locator("#share-verdict").get_attribute("data-verdict") == "valid"
        assert "仅用于示例公司招聘审核" in other.locator("#share-purpose").inner_text()
        assert axe_findings(other, "share link") == []
        page.reload()
        assert "被打开 1 次" in page.locator("#shares").inner_text()
        shots(page, "shares")
        page.locator("#shares li[data-state='active'] button").click()
        page.locator("#shares li[data-state='withdrawn']").wait_for()
        other.reload()
        assert other.locator("#share-verdict").get_attribute("data-verdict") == "withdrawn"
        visitor.close()
    finally:
        context.close()


def test_wallet_pages_say_everything_in_both_languages() -> None:
    import json
    import re
    from pathlib import Path

    from titlecred.web.i18n import catalogs

    web = Path(__file__).resolve().parents[3] / "titlecred" / "web"
    for name in ("wallet", "presentations", "shares"):
        data = json.loads((web / "locale" / f"{name}.json").read_text(encoding="utf-8"))
        assert set(data["zh"]) == set(data["en"]), name
    templates = ["holder/wallet.html", "holder/authorize.html", "holder/shares.html", "share.html",
                 "work/presentation.html", "work/presentation_new.html"]
    for template in templates:
        text = (web / "templates" / template).read_text(encoding="utf-8")
        for key in (k for k in re.findall(r"t\('([a-z_.]+)'", text) if not k.endswith(".")):
            for lang in ("zh", "en"):
                assert key in catalogs()[lang], (template, key, lang)
