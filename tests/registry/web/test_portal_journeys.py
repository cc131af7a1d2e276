"""The unit and bureau portals (/work), each role's job done through the pages alone in Chromium, on a
phone-sized and a desktop viewport, with screenshots at the key steps:

- an application from review to download: the employer's reviewer approves, rejects (the reason is
  required) and returns; the supervisory department and the bureau approve, which issues; the
  employer's HR clerk sees their own staff's certificates only and downloads the PDF (the ID number
  masked in it); a POST without the CSRF token is refused; the English switch;
- a committee's bulk upload: bad rows reported line by line with nothing stored, then a good file;
  a row the bureau returned is corrected and resubmitted;
- the bureau: approving an upload, issuing one application and a batch run, suspending and lifting it,
  reissuing, revoking with a reason, searching by ID number, and the key status.

Every page visited is checked for a full ID number, and so is the log of the whole run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from registry.kit import PASSWORD, count, resident_id
from registry.web.browser import LiveServer, Shots

from printing.extract import pdf_text
from schemas.identifiers import mask_id_number
from titlecred.db.models import Application, Certificate


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    # The pages hold no rule: the services under them are tested on both databases.
    return str(request.param)


@pytest.fixture(autouse=True)
def _log_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


class Journey:
    """A signed-in browser with the checks every page gets: no full ID number, a screenshot."""

    def __init__(self, page: Any, live: LiveServer, shots: Shots, secrets: list[str]) -> None:
        self.page, self.live, self.shots, self.secrets = page, live, shots, secrets

    def sign_in(self, username: str) -> None:
        self.page.context.clear_cookies()
        self.page.goto("/login")
        self.page.locator("#username").fill(username)
        self.page.locator("#password").fill(PASSWORD)
        self.page.locator("form[action='/login'] button[type=submit]").click()
        self.page.wait_for_url(self.live.url + "/work")

    def go(self, path: str) -> None:
        self.page.goto(path)
        self.check()

    def check(self) -> None:
        html = self.page.content()
        for secret in self.secrets:
            assert secret not in html, f"a full ID number is on {self.page.url}"

    def shot(self, name: str) -> None:
        self.check()
        self.shots(self.page, name)

    def confirm(self) -> None:
        """The confirmation step every change goes through."""
        self.page.locator("#confirm-heading").wait_for()
        self.check()
        self.page.locator("#confirm-button").click()
        self.page.wait_for_load_state()
        self.check()

    def notice(self) -> str:
        return str(self.page.locator("#portal-notice").inner_text())


def upload_rows(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"name": f"评审{i}", "namePinyin": "Ping Shen", "gender": "男",
             "idNumber": resident_id(born="19790101", seq=101 + 2 * i), "reportingUnit": "示例市住房和城乡建设局",
             "qualification": "高级工程师", "series": "工程技术", "specialty": "结构工程", "level": "副高级",
             "dateQualified": "2025-11-20"} for i in range(start, start + n)]


def csv_of(rows: list[dict[str, Any]]) -> bytes:
    header = ["姓名", "姓名拼音", "性别", "身份证号", "呈报单位", "资格名称", "系列", "专业", "级别", "取得资格时间"]
    keys = ["name", "namePinyin", "gender", "idNumber", "reportingUnit", "qualification", "series", "specialty",
            "level", "dateQualified"]
    lines = [",".join(header)] + [",".join(str(r[k]) for k in keys) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def no_id_in_log(caplog: pytest.LogCaptureFixture, secrets: list[str]) -> None:
    text = caplog.text
    for secret in secrets:
        assert secret not in text


def test_an_application_from_review_to_pdf_download(page: Any, live: LiveServer, shots: Shots,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    world = live.world
    secrets = list(world.ids.values())
    j = Journey(page, live, shots, secrets)
    to_approve = world.application("holder")
    to_reject = world.application("holder", qualification="工程师", level="中级")
    to_return = world.application("holder", qualification="助理工程师", level="助理级")
    other = world.application("holder2")
    other_cert = world.approve_all(other["id"], "employer2", "supervisory", "bureau")["certificate"]

    # The employer's reviewer: the dashboard counts the queue, the queue lists the facts.
    j.sign_in("employer")
    assert "3" in page.locator("#count-reviews").inner_text()
    j.shot("dashboard-employer")
    page.get_by_role("link", name="审核", exact=True).first.click()
    rows = page.locator("#review-list tbody tr")
    assert rows.count() == 3
    assert mask_id_number(world.ids["holder"]) in page.locator("#review-list").inner_text()
    j.shot("queue")

    # A POST without the form's CSRF token is refused and changes nothing.
    r = page.request.post(f"{live.url}/work/applications/{to_approve['id']}/review",
                          form={"decision": "approve", "confirm": "1"})
    assert r.status == 403 and "表单已过期" in r.text()
    assert count(world.sessions, Application, Application.id == to_approve["id"],
                 Application.state == "pending", Application.stage_index == 0) == 1

    # Approve, through the confirmation step.
    page.locator(f"#review-list a[href='/work/applications/{to_approve['id']}']").click()
    assert page.locator(".portal-chain li").count() == 3
    j.shot("application")
    page.locator("#decision-approve").check()
    page.locator("#review-submit").click()
    j.shot("confirm-approve")
    j.confirm()
    assert f"#{to_approve['id']}" in j.notice() and "审核通过" in j.notice()

    # Reject: the reason is required; the message sits by the field and the choice is kept.
    j.go(f"/work/applications/{to_reject['id']}")
    page.locator("#decision-reject").check()
    page.locator("#review-submit").click()
    reason = page.locator("#reason")
    assert reason.get_attribute("aria-invalid") == "true"
    assert "reason-error" in (reason.get_attribute("aria-describedby") or "")
    assert "须填写理由" in page.locator("#reason-error").inner_text()
    assert page.locator("#decision-reject").is_checked()
    j.shot("reason-required")
    reason.fill("资格条件不符：任职年限不足")
    page.locator("#review-submit").click()
    # "Go back and change" keeps what was typed.
    page.get_by_role("button", name="返回修改").click()
    assert page.locator("#reason").input_value() == "资格条件不符：任职年限不足"
    page.locator("#review-submit").click()
    j.confirm()
    assert "不予通过" in j.notice()

    # Return for correction, with a reason: by keyboard alone.
    j.go(f"/work/applications/{to_return['id']}")
    page.locator("#decision-approve").focus()
    page.keyboard.press("ArrowDown")  # within the radio group: the next choice, 退回修改
    assert page.locator("#decision-return").is_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "reason"
    page.keyboard.type("请补充取得资格时间的证明")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "review-submit"
    page.keyboard.press("Enter")
    page.locator("#confirm-heading").wait_for()
    page.locator("#confirm-button").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/work/reviews?**")
    j.check()
    assert "退回" in j.notice()
    assert page.locator("#empty-queue").is_visible()

    # Everything this employer decided, newest first, with the state each is in.
    page.get_by_role("link", name="全部相关申请").click()
    states = {r.get_attribute("data-app"): r.get_attribute("data-state")
              for r in page.locator("#review-list tbody tr").all()}
    assert states == {str(to_approve["id"]): "pending", str(to_reject["id"]): "rejected",
                      str(to_return["id"]): "returned"}
    j.shot("all-on-chain")

    # The English switch.
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Reviews"
    assert page.locator("#review-list [data-state='rejected'] .portal-badge").inner_text() == "Rejected"
    j.shot("queue-en")
    page.get_by_role("link", name="中文").click()

    # The supervisory department, then the bureau (whose approval issues at once).
    for who in ("supervisory", "bureau-officer"):
        j.sign_in(who)
        j.go(f"/work/applications/{to_approve['id']}")
        page.locator("#decision-approve").check()
        page.locator("#review-submit").click()
        j.confirm()
    assert "证书已签发" in j.notice()
    issued = page.locator(f"#review-list tr[data-app='{to_approve['id']}']")
    assert issued.count() == 0  # it left the bureau's queue
    with world.sessions() as s:
        from sqlmodel import select

        cert = s.exec(select(Certificate).where(Certificate.application_id == to_approve["id"])).one()
        cert_id, number = cert.id, cert.certificate_number

    # The employer's HR clerk: their own staff only.
    j.sign_in("employer")
    page.get_by_role("link", name="本单位证书").first.click()
    j.check()
    listed = page.locator("#cert-list").inner_text()
    assert number in listed and "张三" in listed and mask_id_number(world.ids["holder"]) in listed
    assert other_cert["certificateNumber"] not in listed and "李四" not in listed
    assert page.locator(f"#cert-list tr[data-cert='{cert_id}'] .portal-badge").inner_text() == "有效"
    j.shot("staff")
    page.locator("#s-name").fill("李四")
    page.locator("#search-submit").click()
    assert page.locator("#no-results").is_visible()
    page.locator("#s-name").fill("张三")
    page.locator("#search-submit").click()
    assert page.locator("#cert-list tbody tr").count() == 1
    j.shot("staff-search")

    # Another employer's certificate: refused by URL too, page and PDF alike.
    j.go(f"/work/certificates/{other_cert['id']}")
    assert page.locator("#portal-error").is_visible() and other_cert["certificateNumber"] not in page.content()
    assert page.request.get(f"{live.url}/work/certificates/{other_cert['id']}/pdf").status == 403

    # The PDF: a real PDF, printing the masked ID number, never the full one.
    j.go(f"/work/certificates/{cert_id}")
    j.shot("staff-certificate")
    with page.expect_download() as info:
        page.locator("#pdf-link").click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert mask_id_number(world.ids["holder"]) in text and world.ids["holder"] not in text
    no_id_in_log(caplog, secrets)


def test_a_committee_uploads_its_results_and_corrects_a_returned_row(page: Any, live: LiveServer, shots: Shots,
                                                                     caplog: pytest.LogCaptureFixture,
                                                                     tmp_path: Path) -> None:
    world = live.world
    good = upload_rows(3)
    bad_id = dict(good[1], idNumber=good[1]["idNumber"][:-1] + ("0" if good[1]["idNumber"][-1] != "0" else "1"))
    bad_level = dict(good[2], level="高级")
    secrets = [*world.ids.values(), *(r["idNumber"] for r in good), bad_id["idNumber"]]
    j = Journey(page, live, shots, secrets)
    bad_file = tmp_path / "bad.csv"
    bad_file.write_bytes(csv_of([good[0], bad_id, bad_level]))
    good_file = tmp_path / "good.csv"
    good_file.write_bytes(csv_of(good))

    j.sign_in("committee")
    page.get_by_role("link", name="批量上报").first.click()
    assert page.locator("#no-batches").is_visible()
    j.shot("uploads")

    # Bad rows: each reported with its line, field and reason; nothing stored.
    before = count(world.sessions, Application)
    page.locator("#upload-file").set_input_files(str(bad_file))
    page.locator("#upload-submit").click()
    j.check()
    report = page.locator("#row-errors tbody tr")
    assert [r.get_attribute("data-line") for r in report.all()] == ["3", "4"]
    assert [r.get_attribute("data-code") for r in report.all()] == ["invalid_id_number", "invalid_level"]
    assert "身份证号" in report.nth(0).inner_text() and "级别" in report.nth(1).inner_text()
    assert "未保存任何数据" in page.locator("#portal-error").inner_text()
    assert count(world.sessions, Application) == before
    j.shot("row-errors")

    # A file with no usable format is refused next to the file field.
    page.locator("#upload-submit").click()
    assert page.locator("#upload-file").get_attribute("aria-invalid") == "true"
    assert page.locator("#upload-file-error").is_visible()

    # The good file: stored as a batch awaiting the bureau.
    page.locator("#upload-file").set_input_files(str(good_file))
    page.locator("#upload-submit").click()
    assert "3 / 3" in j.notice()
    assert page.locator("#batch-list tbody tr").count() == 1
    j.shot("stored")
    page.locator("#batch-list a").first.click()
    j.check()
    apps = page.locator("#batch-apps tbody tr")
    assert apps.count() == 3 and mask_id_number(good[0]["idNumber"]) in page.locator("#batch-apps").inner_text()
    j.shot("batch")
    first_app = int(apps.nth(0).get_attribute("data-app") or 0)

    # The bureau returns a row; the committee corrects it through the page and resubmits.
    r = world.review(first_app, "bureau", "return", reason="姓名拼音有误")
    assert r.status_code == 200, r.text
    j.go("/work/uploads")
    page.locator(f"#returned-list a[href^='/work/applications/{first_app}']").click()
    j.check()
    assert page.locator("#c-idNumber").input_value() == ""  # the stored number is never shown
    page.locator("#c-namePinyin").fill("Ping Shenn")
    j.shot("correction")
    page.locator("#correct-submit").click()
    j.check()
    assert "重新提交" in j.notice()
    assert page.locator(".portal-status-line [data-state]").get_attribute("data-state") == "pending"
    with world.sessions() as s:
        app = s.get(Application, first_app)
        assert app is not None and json.loads(app.facts_json)["namePinyin"] == "Ping Shenn"
    no_id_in_log(caplog, secrets)


def test_the_bureau_issues_and_manages_certificates_and_sees_its_keys(page: Any, live: LiveServer, shots: Shots,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    world = live.world
    rows = upload_rows(3, start=5)
    secrets = [*world.ids.values(), *(r["idNumber"] for r in rows)]
    j = Journey(page, live, shots, secrets)
    r = world.client.post(f"/api/organizations/{world.orgs['committee']}/uploads", json=rows,
                          headers=world["committee"].h)
    assert r.status_code == 201, r.text
    batch_id = r.json()["batchId"]

    j.sign_in("bureau-officer")
    assert "3" in page.locator("#count-reviews").inner_text()
    j.shot("dashboard-bureau")

    # Approve the whole upload, then issue one application, then the rest in a batch run.
    j.go(f"/work/uploads/{batch_id}")
    page.locator("#approve-batch").click()
    j.confirm()
    assert "已批准" in j.notice()
    page.get_by_role("link", name="发证", exact=True).first.click()
    j.check()
    assert page.locator("#approved-list tbody tr").count() == 3
    j.shot("issuing")
    page.locator("#approved-list tbody tr").first.get_by_role("button").click()
    j.confirm()
    assert "证书已签发" in j.notice()
    j.go("/work/issuing")
    page.locator("#run-batch").select_option(str(batch_id))
    page.locator("#run-submit").click()
    j.confirm()
    assert "已签发 2 份证书" in j.notice()
    j.shot("run-result")
    assert count(world.sessions, Certificate) == 3

    # Find a certificate by the holder's ID number: the number never comes back into the page.
    page.get_by_role("link", name="证书管理").first.click()
    page.locator("#s-id").fill(rows[0]["idNumber"])
    page.locator("#search-submit").click()
    j.check()
    assert page.locator("#s-id").input_value() == ""
    assert page.locator("#cert-list tbody tr").count() == 1
    page.locator("#cert-list tbody tr a").first.click()
    j.check()
    cert_url = page.url

    def act(name: str) -> None:
        details = page.locator(f"#action-{name}")
        details.locator("summary").click()
        details.locator(f"#{name}-submit").click()

    # Suspend (a reason for the audit trail), then lift it.
    page.locator("#action-suspend summary").click()
    page.locator("#suspend-detail").fill("单位反映证书信息存疑，核查期间暂停")
    page.locator("#suspend-submit").click()
    j.shot("confirm-suspend")
    j.confirm()
    assert page.locator("#cert-state [data-state]").get_attribute("data-state") == "suspended"
    assert "已暂停" in page.locator("#cert-state").inner_text()
    act("unsuspend")
    j.confirm()
    assert page.locator("#cert-state [data-state]").get_attribute("data-state") == "active"

    # Reissue (补发): a new certificate; the old one shows it was replaced.
    page.locator("#action-reissue summary").click()
    page.locator("#reissue-reason").select_option("lost")
    page.locator("#reissue-submit").click()
    j.confirm()
    assert "补发" in j.notice() and page.locator("#cert-predecessor").is_visible()
    new_url = page.url
    assert new_url != cert_url
    j.shot("reissued")
    j.go(cert_url)
    assert page.locator("#cert-state [data-state]").get_attribute("data-state") == "superseded"
    assert "已被补发" in page.locator("#cert-state").inner_text() and page.locator("#no-actions").is_visible()

    # Revoke the reissue: a reason from the list and the facts are both required.
    j.go(new_url)
    page.locator("#action-revoke summary").click()
    page.locator("#revoke-submit").click()
    assert page.locator("#revoke-reason").get_attribute("aria-invalid") == "true"
    assert page.locator("#revoke-detail-error").is_visible()
    j.shot("revoke-errors")
    page.locator("#revoke-reason").select_option("forgery")
    page.locator("#revoke-detail").fill("经核查，学历证明系伪造")
    page.locator("#revoke-submit").click()
    j.shot("confirm-revoke")
    j.confirm()
    assert page.locator("#cert-state [data-state]").get_attribute("data-state") == "revoked"
    assert "伪造" in page.locator("#cert-history").inner_text()
    j.shot("revoked")

    # Key status: the signing key, its state and times, and the DID document it is published in.
    page.get_by_role("link", name="签名密钥").first.click()
    j.check()
    key = page.locator("#keys tbody tr").first
    assert key.get_attribute("data-state") == "active" and "使用中" in key.inner_text()
    assert page.locator("#did-link").get_attribute("href") == "/.well-known/did.json"
    assert page.request.get(live.url + "/.well-known/did.json").ok
    assert "secretKey" not in page.content()
    j.shot("keys")
    no_id_in_log(caplog, secrets)
