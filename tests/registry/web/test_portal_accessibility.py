"""Every workbench page, in each of its states (lists, forms with errors, confirmation steps, results,
a conversion with its cover photos), checked by axe-core in Chromium against WCAG 2.1 A and AA, at the
phone-sized viewport (the journeys in test_portal_journeys.py run both viewports).

axe-core comes from the test npm packages (tests/interop); the pages forbid inline scripts (CSP), so
this browser context bypasses CSP to inject it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from registry.kit import PASSWORD
from registry.web.browser import AXE, VIEWPORTS, LiveServer, Shots, axe_findings
from registry.web.test_portal_journeys import upload_rows

PAPER = {"series": "农业", "qualification": "高级农艺师", "specialty": "农学", "level": "副高级",
         "oldCertificateNumber": "NX2015-0042", "appointmentDocument": "宁人社函〔2015〕210号",
         "issueDate": "2015-12-12", "issuingBody": "宁夏回族自治区人力资源和社会保障厅"}


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def axe_page(chromium: Any, live: LiveServer) -> Iterator[Any]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/setup --dev (npm ci in tests/interop)")
    context = chromium.new_context(base_url=live.url, locale="zh-CN", bypass_csp=True, **VIEWPORTS["phone"])
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _png(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (178, 34, 34)).save(out, format=fmt)
    return out.getvalue()


class Audit:
    def __init__(self, page: Any, secrets: list[str]) -> None:
        self.page, self.secrets = page, secrets
        self.problems: dict[str, list[dict[str, Any]]] = {}

    def sign_in(self, username: str) -> None:
        self.page.context.clear_cookies()
        self.page.goto("/login")
        self.page.locator("#username").fill(username)
        self.page.locator("#password").fill(PASSWORD)
        self.page.locator("form[action='/login'] button[type=submit]").click()
        self.page.wait_for_url("**/work")

    def check(self, where: str) -> None:
        html = self.page.content()
        assert not any(s in html for s in self.secrets), f"a full ID number is on {where}"
        blocking = axe_findings(self.page, where)
        if blocking:
            self.problems[where] = blocking

    def visit(self, *paths: str) -> None:
        for path in paths:
            self.page.goto(path)
            self.check(path)


def test_every_portal_page_passes_wcag_aa_checks(axe_page: Any, live: LiveServer, shots: Shots) -> None:
    world, page = live.world, axe_page
    rows = upload_rows(2, start=20)
    audit = Audit(page, [*world.ids.values(), *(r["idNumber"] for r in rows)])
    app = world.application("holder")
    up = world.client.post(f"/api/organizations/{world.orgs['committee']}/uploads", json=rows,
                           headers=world["committee"].h).json()
    batch, uploaded = up["batchId"], up["applicationIds"]
    assert world.review(uploaded[0], "bureau", "return", reason="请核对姓名拼音").status_code == 200
    cert = world.issued("holder", qualification="工程师", level="中级")
    files = {"cover1": ("cover1.png", _png("PNG"), "image/png"), "cover2": ("cover2.jpg", _png("JPEG"), "image/jpeg")}
    r = world.client.post("/api/conversions", data={"paper": json.dumps(PAPER)}, files=files, headers=world["holder"].h)
    assert r.status_code == 201, r.text
    conversion = r.json()["id"]
    assert world.review(conversion, "employer").status_code == 200

    audit.sign_in("employer")
    audit.visit("/work", "/work/reviews", "/work/reviews?tab=all", f"/work/applications/{app['id']}", "/work/staff",
                f"/work/certificates/{cert['id']}", "/work/reviews?lang=en", "/work/certificates/999999")
    page.goto(f"/work/applications/{app['id']}?lang=zh")
    page.locator("#decision-reject").check()
    page.locator("#review-submit").click()
    audit.check("review: reason missing")
    # The language switch of a page a POST rendered leads back to the form's page, in English.
    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"**/work/applications/{app['id']}?lang=en")
    assert page.get_by_role("heading", level=1).inner_text() == f"Application #{app['id']}"
    page.goto(f"/work/applications/{app['id']}?lang=zh")
    page.locator("#decision-reject").check()
    page.locator("#review-submit").click()
    page.locator("#decision-approve").check()
    page.locator("#review-submit").click()
    audit.check("review: confirmation")

    # The district bureau reviews a paper conversion: its cover photos are shown.
    audit.sign_in("district")
    audit.visit("/work", "/work/reviews", f"/work/applications/{conversion}")
    for img in page.locator(".portal-photos img").all():
        assert img.evaluate("i => i.complete && i.naturalWidth > 0")
    shots(page, "conversion-review")

    audit.sign_in("committee")
    audit.visit("/work", "/work/uploads", f"/work/uploads/{batch}", f"/work/applications/{uploaded[0]}")
    page.locator("#c-idNumber").fill("123")
    page.locator("#correct-submit").click()
    audit.check("correction refused")
    page.goto("/work/uploads")
    page.locator("#upload-file").set_input_files(files=[{"name": "rows.csv", "mimeType": "text/csv",
                                                         "buffer": "姓名,级别\n某人,高级\n".encode()}])
    page.locator("#upload-submit").click()
    audit.check("upload: row errors")

    audit.sign_in("bureau-officer")
    audit.visit("/work", "/work/reviews", "/work/issuing", "/work/uploads", f"/work/uploads/{batch}", "/work/keys")
    audit.visit("/work/certificates", "/work/certificates?state=active", f"/work/certificates/{cert['id']}")
    page.goto(f"/work/certificates/{cert['id']}")
    page.locator("#action-revoke summary").click()
    page.locator("#revoke-submit").click()
    audit.check("revoke: errors")
    page.goto(f"/work/uploads/{batch}")
    page.locator("#approve-batch").click()
    audit.check("batch: confirmation")
    page.locator("#confirm-button").click()
    audit.visit("/work/issuing")
    page.locator("#run-submit").click()
    audit.check("run: confirmation")
    page.locator("#confirm-button").click()
    audit.check("run: result")
    assert not audit.problems, "\n".join(f"{where}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
                                         for where, vs in audit.problems.items() for v in vs)
