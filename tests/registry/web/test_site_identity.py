"""Every page shows the bureau's identity (name and emblem in the header; sponsor, contact, ICP and public
security filing numbers in the footer, as Chinese government sites do), configured in site.json through
`titlecred site set`; every page's times are Beijing time, labelled, whatever the browser's zone; the
scanner privacy line only where scanners are (issue 15)."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from registry.web.browser import LiveServer
from registry.web.scankit import qr_of, scan
from typer.testing import CliRunner

from titlecred.cli import app as cli

STATIC = Path(__file__).resolve().parents[3] / "titlecred" / "web" / "static"


@pytest.fixture
def site_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bureau sets its identity with the CLI before the service starts."""
    emblem = home.parent / "emblem.png"
    shutil.copy(STATIC / "favicon.png", emblem)
    monkeypatch.setenv("TITLECRED_HOME", str(home))
    bureau = "示例市人力资源和社会保障局"
    r = CliRunner().invoke(cli, ["site", "set", "--name", bureau, "--sponsor", bureau,
                                 "--contact", "0351-12345678", "--icp", "晋ICP备12345678号",
                                 "--public-security", "晋公网安备14010002000001号", "--emblem", str(emblem)])
    assert r.exit_code == 0, r.output
    return home


def test_pages_show_the_bureau_identity_beijing_time_and_the_privacy_line_only_on_the_scan_page(
        site_home: Path, chromium: Any, live: LiveServer) -> None:
    cert = live.world.issued()
    # A browser in New York: the page must still show Beijing time, and say so.
    context = chromium.new_context(base_url=live.url, locale="zh-CN", timezone_id="America/New_York")
    context.set_default_timeout(15_000)
    page = context.new_page()
    for path in ("/", "/lookup", "/login", "/v"):
        page.goto(path)
        footer = page.locator("#site-footer").inner_text()
        assert "主办单位：示例市人力资源和社会保障局" in footer and "联系方式：0351-12345678" in footer
        assert "晋ICP备12345678号" in footer and "晋公网安备14010002000001号" in footer
        assert "北京时间" in footer
        assert page.locator("#site-owner").inner_text() == "示例市人力资源和社会保障局"
        assert page.locator("header img.emblem").evaluate("img => img.complete && img.naturalWidth > 0")
        privacy = page.get_by_text("二维码内容不会发送到服务器")
        assert privacy.count() == (1 if path == "/v" else 0), path
    assert page.locator("#site-footer a").get_attribute("href") == "https://beian.miit.gov.cn/"

    assert scan(page, qr_of(live, cert)) == "valid"
    shown = page.locator("#status-as-of").inner_text()
    assert "北京时间" in shown
    beijing = datetime.now(UTC) + timedelta(hours=8)
    hour = re.search(r"(\d{2}):(\d{2})", shown)
    assert hour is not None
    assert int(hour.group(1)) in {beijing.hour, (beijing - timedelta(minutes=2)).hour}
    context.close()


def test_without_site_settings_the_header_names_the_issuer(live: LiveServer) -> None:
    page = live.world.client.get("/")
    assert "示例市人力资源和社会保障局" in page.text and "北京时间" in page.text
    assert live.world.client.get("/site/emblem").status_code == 404
