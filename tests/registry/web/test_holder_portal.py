"""The holder's portal in a real Chromium, at a phone and a desktop viewport: signing in with a one-time
code, the certificates with their downloads (the PDF carries the full credential), a consent code that
a registration body (a second browser) uses on the lookup page, the lookup log, and an application from
submission through a return, a correction and the review chain to the downloaded certificate.

At every step the page's HTML is checked for the holder's full ID number, which no page may carry.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from registry.kit import PASSWORD
from registry.web.browser import AXE, VIEWPORTS, LiveServer, Shots, axe_findings

from printing.extract import pdf_attachment
from titlecred.db.models import Certificate
from titlecred.services.senders import MemorySender

PHONE = "13800138000"
VERIFIER = "示例市执业注册中心"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    # The pages hold no rule of their own; the services under them are tested on both databases.
    return str(request.param)


@pytest.fixture
def sender(live: LiveServer) -> MemorySender:
    memory = MemorySender()
    live.registry.sender = memory
    return memory


@pytest.fixture
def verifier_page(chromium: Any, viewport: str, live: LiveServer) -> Iterator[Any]:
    """A second browser (its own cookies): the registration body at the lookup page."""
    context = chromium.new_context(base_url=live.url, locale="zh-CN", **VIEWPORTS[viewport])
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


class NoFullId:
    """Checks every page it is shown for a full ID number (and for a text key left untranslated)."""

    def __init__(self, *ids: str) -> None:
        self.ids = ids
        self.pages = 0

    def __call__(self, page: Any) -> None:
        html = page.content()
        for full in self.ids:
            assert full not in html and full.lower() not in html, f"a full ID number is on {page.url}"
        untranslated = re.findall(r"\b(?:holder|lookup|login)\.[a-z_]+(?:\.[A-Za-z_0-9]+)?\b", page.inner_text("body"))
        assert not untranslated, f"untranslated keys on {page.url}: {untranslated}"
        self.pages += 1


def go(page: Any, target: Any) -> None:
    """Click what loads a new page and wait for that page: a plain click returns before it is there,
    and the old page's elements would answer the next question."""
    with page.expect_navigation():
        target.click()


def sign_in_with_password(page: Any, username: str = "holder") -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r".*/me$"))


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r".*/$"))


def download(page: Any, link: Any, folder: Path) -> tuple[bytes, str]:
    with page.expect_download() as info:
        link.click()
    d = info.value
    target = folder / d.suggested_filename
    d.save_as(str(target))
    return target.read_bytes(), d.suggested_filename


def lookup(page: Any, number: str, id_number: str, code: str, verifier: str = VERIFIER) -> None:
    page.goto("/lookup")
    page.get_by_label("证书编号").fill(number)
    page.get_by_label("持证人身份证号").fill(id_number)
    page.get_by_label("授权码").fill(code)
    page.get_by_label("查询单位名称").fill(verifier)
    go(page, page.get_by_role("button", name="查询", exact=True))
    page.wait_for_load_state()


def test_holder_signs_in_with_a_code_downloads_and_consents_to_a_lookup(
        page: Any, verifier_page: Any, live: LiveServer, sender: MemorySender, shots: Shots,
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    world = live.world
    full_id = world.ids["holder"]
    check = NoFullId(full_id, world.ids["holder2"])
    cert = world.issued("holder")
    number = cert["certificateNumber"]

    # The holder adds a phone number and an e-mail address (signed in with the password once): each takes
    # effect once the code sent to it is entered. Then the holder signs out.
    sign_in_with_password(page)
    check(page)
    go(page, page.get_by_role("link", name="联系方式").first)
    page.get_by_label("手机号").fill("138 0013 8000")
    page.get_by_label("电子邮箱").fill("zhang.san@example.org")
    go(page, page.get_by_role("button", name="保存"))
    assert page.locator("#contact-sent").is_visible()
    assert page.get_by_label("手机号").input_value() == ""  # not in force yet
    assert page.locator("#contact-pending form").count() == 2
    check(page)
    shots(page, "contact-pending")
    for field, destination in (("phone", PHONE), ("email", "zhang.san@example.org")):
        message = sender.last_to(destination)
        assert message is not None and full_id not in message.message
        sent_code = re.search(r"\d{6}", message.message)
        assert sent_code is not None
        form = page.locator(f"#confirm-{field}")
        form.get_by_role("textbox").fill(sent_code.group(0))
        go(page, form.get_by_role("button"))
        assert page.locator("#contact-saved").is_visible()
    assert page.locator("#contact-pending").count() == 0
    assert page.get_by_label("手机号").input_value() == PHONE
    shots(page, "contact-saved")
    sign_out(page)
    sender.clear()

    # Asking for a code says the same whether or not the account exists.
    page.goto("/login")
    page.get_by_label("账号、手机号或电子邮箱").fill("13900000000")
    go(page, page.get_by_role("button", name="获取验证码"))
    stranger_notice = page.locator("#otp-notice").inner_text()
    assert sender.sent == []
    page.goto("/login")
    page.get_by_label("账号、手机号或电子邮箱").fill(PHONE)
    page.get_by_label("短信").check()
    go(page, page.get_by_role("button", name="获取验证码"))
    assert page.locator("#otp-notice").inner_text() == stranger_notice
    message = sender.last_to(PHONE)
    assert message is not None and message.channel == "sms"
    assert full_id not in message.message
    code = re.search(r"\d{6}", message.message)
    assert code is not None
    shots(page, "otp-enter")
    # A wrong code first: one message, and the form stays.
    page.get_by_label("6 位验证码").fill("000000" if code.group(0) != "000000" else "111111")
    go(page, page.get_by_role("button", name="验证并进入"))
    assert page.locator("#otp-error").is_visible()
    page.get_by_label("6 位验证码").fill(code.group(0))
    go(page, page.get_by_role("button", name="验证并进入"))
    page.wait_for_url(re.compile(r".*/me$"))
    assert {c["name"]: c for c in page.context.cookies()}["tc_session"]["httpOnly"] is True

    # The certificate list, with its state.
    card = page.locator(f".holder-cert[data-number='{number}']")
    assert card.locator("[data-status='active']").is_visible()
    check(page)
    shots(page, "me")

    # Downloads: the PDF carries the full credential; the JSON forms are JSON-LD attachments.
    with world.sessions() as s:
        row = s.get(Certificate, cert["id"])
        assert row is not None
        stored_full, stored_minimal = json.loads(row.full_json), json.loads(row.minimal_json)
    pdf, name = download(page, card.get_by_role("link", name="下载 PDF"), tmp_path)
    assert pdf.startswith(b"%PDF") and name == f"{number}.pdf"
    assert json.loads(pdf_attachment(pdf)) == stored_full
    full_json, name = download(page, card.get_by_role("link", name="完整凭证（JSON）"), tmp_path)
    assert json.loads(full_json) == stored_full and name == f"{number}.full.json"
    minimal_json, _ = download(page, card.get_by_role("link", name="简要凭证（JSON）"), tmp_path)
    assert json.loads(minimal_json) == stored_minimal
    response = page.request.get(f"/me/certificates/{cert['id']}/full.json")
    assert response.headers["content-type"].startswith("application/ld+json")
    assert response.headers["content-disposition"].startswith("attachment")

    # A consent code, shown once with its expiry.
    go(page, card.get_by_role("link", name="查看"))
    check(page)
    page.get_by_label("有效期").select_option("30")
    go(page, page.get_by_role("button", name="生成授权码"))
    consent_code = page.locator("#consent-code-value").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", consent_code)
    assert page.locator("#consent-code-expires").inner_text()
    assert page.get_by_role("button", name="复制授权码").is_visible()
    check(page)
    shots(page, "consent-code")

    # The registration body looks it up with all three: the minimal facts and the status.
    vp = verifier_page
    lookup(vp, number, full_id, consent_code.lower().replace("-", ""))
    answer = vp.locator("#lookup-answer")
    assert answer.locator("[data-status='active']").is_visible()
    assert "110***********" in answer.inner_text()
    assert vp.locator("#lookup-checked").is_visible()
    assert vp.get_by_label("持证人身份证号").input_value() == ""
    assert vp.get_by_label("授权码").input_value() == ""
    assert consent_code not in vp.content()
    check(vp)
    shots(vp, "lookup-answered")

    # Each wrong part, and the used code again, gets the same one message.
    refusals = []
    for args in ((number, world.ids["holder2"], consent_code), (number, full_id, "ABCD-EFGH"),
                 ("B1401022026999999", full_id, consent_code), (number, full_id, consent_code)):
        lookup(vp, *args)
        assert not vp.locator("#lookup-answer").is_visible()
        refusals.append(vp.locator("#lookup-error").inner_text())
        check(vp)
    assert len(set(refusals)) == 1, refusals
    shots(vp, "lookup-refused")

    # Attempts against one certificate number are limited: past five failures, "try again after ...".
    lookup(vp, number, full_id, "ZZZZ-ZZZZ")
    lookup(vp, number, full_id, "YYYY-YYYY")
    assert vp.locator("#lookup-error").inner_text() == refusals[0]
    lookup(vp, number, full_id, "XXXX-XXXX")
    limited = vp.locator("#lookup-error").inner_text()
    assert limited != refusals[0] and "尝试次数过多" in limited
    check(vp)
    shots(vp, "lookup-rate-limited")

    # The holder sees every lookup of the certificate: the answered one, named, and the refusals.
    page.goto("/me/log")
    rows = page.locator("table.holder-log tbody tr")
    assert rows.count() == 6  # the wrong number names no certificate of theirs; the limited one did no work
    assert page.locator("tr[data-outcome='answered']").count() == 1
    assert VERIFIER in page.locator("tr[data-outcome='answered']").inner_text()
    assert page.locator("tr[data-outcome='refused']").count() == 5
    check(page)
    shots(page, "lookup-log")
    page.goto("/me/consent")
    assert page.locator("tr[data-state='used']").count() == 1
    check(page)

    # Nor is the full ID number in any log line the server wrote meanwhile.
    assert full_id not in caplog.text


@pytest.mark.parametrize("viewport", ["desktop"])  # the same pages as above: one viewport is enough
def test_consent_codes_can_be_bound_to_a_verifier_and_withdrawn(
        page: Any, verifier_page: Any, live: LiveServer, shots: Shots) -> None:
    world = live.world
    cert = world.issued("holder")
    number, full_id = cert["certificateNumber"], world.ids["holder"]
    sign_in_with_password(page)
    page.goto(f"/me/certificates/{cert['id']}")

    page.get_by_label("指定查询单位").fill(VERIFIER)
    go(page, page.get_by_role("button", name="生成授权码"))
    bound = page.locator("#consent-code-value").inner_text().strip()
    go(page, page.get_by_role("link", name="完成"))
    go(page, page.get_by_role("button", name="生成授权码"))
    withdrawn = page.locator("#consent-code-value").inner_text().strip()
    go(page, page.get_by_role("link", name="完成"))
    # Withdraw the newest (the second) code.
    go(page, page.locator("table.holder-codes tr[data-state='active']").first.get_by_role("button", name="撤回"))
    assert page.locator("table.holder-codes tr[data-state='revoked']").count() == 1
    shots(page, "codes")

    vp = verifier_page
    lookup(vp, number, full_id, withdrawn)
    assert vp.locator("#lookup-error").is_visible()
    lookup(vp, number, full_id, bound, verifier="另一家单位")
    assert vp.locator("#lookup-error").is_visible()
    lookup(vp, number, full_id, bound, verifier=VERIFIER)
    assert vp.locator("#lookup-answer [data-status='active']").is_visible()


def test_an_application_from_submission_to_the_downloaded_certificate(
        page: Any, live: LiveServer, shots: Shots, tmp_path: Path) -> None:
    world = live.world
    check = NoFullId(world.ids["holder"])
    sign_in_with_password(page)
    go(page, page.get_by_role("link", name="申请职称证书").first)
    check(page)
    page.get_by_label("自主聘任").check()
    page.get_by_label("资格名称").fill("高级工程师")
    page.get_by_label("系列").fill("工程技术")
    page.get_by_label("专业", exact=True).fill("建筑")
    page.get_by_label("级别").select_option("副高级")
    page.get_by_label("取得资格时间").fill("2025-06-30")
    shots(page, "apply-form")
    go(page, page.get_by_role("button", name="提交申请"))
    page.wait_for_url(re.compile(r".*/me/applications/\d+$"))
    app_id = int(page.url.rsplit("/", 1)[1])
    chain = page.locator("ol.holder-chain li")
    assert chain.count() == 3
    assert chain.nth(0).get_attribute("data-where") == "current"
    check(page)
    shots(page, "submitted")

    # The employer returns it with a reason; the holder sees where and why, corrects and resubmits.
    r = world.review(app_id, "employer", "return", reason="专业名称请写全称：建筑工程")
    assert r.status_code == 200, r.text
    page.reload()
    assert chain.nth(0).get_attribute("data-where") == "returned"
    assert "专业名称请写全称" in page.locator("table.holder-steps").inner_text()
    shots(page, "returned")
    form = page.locator("#resubmit-form")
    form.get_by_label("专业", exact=True).fill("建筑工程")
    go(page, form.get_by_role("button", name="重新提交"))
    page.wait_for_url(re.compile(rf".*/me/applications/{app_id}$"))
    assert chain.nth(0).get_attribute("data-where") == "current"
    actions = page.locator("table.holder-steps tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert actions == ["submitted", "returned", "corrected", "resubmitted"]

    # The chain approves; the bureau's approval issues the certificate.
    world.approve_all(app_id, "employer")
    page.reload()
    assert [chain.nth(i).get_attribute("data-where") for i in range(3)] == ["passed", "current", "waiting"]
    shots(page, "in-review")
    world.approve_all(app_id, "supervisory", "bureau")
    page.reload()
    assert page.locator("[data-state='issued']").first.is_visible()
    check(page)
    shots(page, "issued")
    pdf, _ = download(page, page.get_by_role("link", name="下载 PDF"), tmp_path)
    assert pdf.startswith(b"%PDF")
    facts = json.loads(pdf_attachment(pdf))["credentialSubject"]
    assert facts["specialty"] == "建筑工程" and facts["reviewChannel"] == "自主聘任"

    go(page, page.get_by_role("link", name="查看证书"))
    assert page.locator("[data-status='active']").first.is_visible()
    check(page)
    page.goto("/me/applications")
    assert page.locator("table.holder-apps [data-state='issued']").count() == 1
    check(page)


def _png(path: Path, colour: str) -> Path:
    from PIL import Image

    Image.new("RGB", (64, 40), colour).save(path, "PNG")
    return path


def test_a_paper_conversion_with_photos_in_english(page: Any, live: LiveServer, shots: Shots, tmp_path: Path) -> None:
    world = live.world
    check = NoFullId(world.ids["holder"])
    sign_in_with_password(page)
    page.goto("/me?lang=en")
    assert page.get_by_role("heading", level=1).inner_text() == "My certificates"
    go(page, page.get_by_role("link", name="Convert a paper certificate").first)
    check(page)
    page.get_by_label("Series").fill("工程技术")
    page.get_by_label("Qualification").fill("高级工程师")
    page.get_by_label("Specialty").fill("建筑工程")
    page.get_by_label("Level").select_option("副高级")
    page.get_by_label("Old certificate number").fill("宁职改字2015第0123号")
    page.get_by_label("Appointment document").fill("宁人社函〔2015〕210号")
    page.get_by_label("Issue date of the paper certificate").fill("2015-09-01")
    page.get_by_label("Issuing body").fill("宁夏回族自治区职称改革领导小组办公室")
    page.get_by_label("valid only within non-public").check()
    # An over-large photo is refused in the browser before anything is sent.
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024 + 10))
    page.get_by_label("Photo of the front cover").set_input_files(str(big))
    assert page.locator("#f-cover1-error").is_visible()
    page.get_by_label("Photo of the front cover").set_input_files(str(_png(tmp_path / "c1.png", "white")))
    assert not page.locator("#f-cover1-error").is_visible()
    page.get_by_label("Photo of the inside cover").set_input_files(str(_png(tmp_path / "c2.png", "grey")))
    go(page, page.get_by_role("button", name="Submit the conversion"))
    # The service's refusal comes back with its reason, the form kept (the photos must be chosen again).
    assert "non-public" in page.locator("#form-error").inner_text()
    assert page.get_by_label("Old certificate number").input_value() == "宁职改字2015第0123号"
    shots(page, "conversion-refused")
    page.get_by_label("valid only within non-public").uncheck()
    page.get_by_label("Photo of the front cover").set_input_files(str(_png(tmp_path / "c1.png", "white")))
    page.get_by_label("Photo of the inside cover").set_input_files(str(_png(tmp_path / "c2.png", "grey")))
    go(page, page.get_by_role("button", name="Submit the conversion"))
    page.wait_for_url(re.compile(r".*/me/applications/\d+$"))
    app_id = int(page.url.rsplit("/", 1)[1])
    stages = page.locator("ol.holder-chain .holder-chain-stage").all_inner_texts()
    assert stages == ["Employer", "District bureau", "Bureau"]
    photos = page.locator(".holder-photos img")
    assert photos.count() == 2
    page.wait_for_function("() => [...document.querySelectorAll('.holder-photos img')].every(i => i.complete)")
    assert photos.evaluate_all("imgs => imgs.map(i => i.naturalWidth)") == [64, 64]
    check(page)
    shots(page, "conversion-submitted")

    world.approve_all(app_id, "employer", "district", "bureau")
    page.reload()
    assert page.locator("[data-state='issued']").first.is_visible()
    go(page, page.get_by_role("link", name="See the certificate"))
    facts = page.locator("dl.facts").inner_text()
    assert "换证" in facts and "宁人社函〔2015〕210号" in facts
    check(page)
    shots(page, "converted-certificate")


def test_holder_pages_pass_wcag_aa_checks(chromium: Any, live: LiveServer, tmp_path: Path) -> None:
    """axe-core on the holder pages not covered by test_accessibility.py (which checks /me, /login and
    /lookup), at the phone viewport; the CSP is bypassed only to inject axe."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/setup --dev (npm ci in tests/interop)")
    world = live.world
    cert = world.issued("holder")
    app = world.application("holder", specialty="结构工程")
    world.review(app["id"], "employer", "return", reason="请补充材料")
    context = chromium.new_context(base_url=live.url, locale="zh-CN", bypass_csp=True, **VIEWPORTS["phone"])
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []

    def audit(where: str) -> None:
        problems.extend(f"{where}: {v['id']} {', '.join(v['nodes'][:3])}" for v in axe_findings(page, where))

    try:
        page.goto("/login")
        page.get_by_label("账号、手机号或电子邮箱").fill("holder")
        go(page, page.get_by_role("button", name="获取验证码"))
        audit("/login (code step)")
        sign_in_with_password(page)
        for path in (f"/me/certificates/{cert['id']}", "/me/consent", "/me/log", "/me/contact", "/me/applications",
                     "/me/applications/new", f"/me/applications/{app['id']}", "/me/conversions/new",
                     "/me/certificates/999999"):
            page.goto(path)
            audit(path)
        page.goto(f"/me/certificates/{cert['id']}")
        go(page, page.get_by_role("button", name="生成授权码"))
        audit("consent code")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
