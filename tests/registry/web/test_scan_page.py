"""The scan page (`/v#TC1:...`): every verdict in a real Chromium on a phone and a desktop, the paste box
by keyboard, the English switch, offline use from the service worker's cache, an outage that must not
read as a forgery, the browser's decoder against the Python one, and what the server keeps (nothing
about the scanner).

Browser tests run on SQLite only: the page does the work, and the database behind it is the API's.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from registry.kit import PASSPHRASE, World
from registry.web.browser import VIEWPORTS, LiveServer, Shots
from registry.web.scankit import (
    RECORDS,
    VERDICT_WORDS,
    bytes_after_cose,
    expired_qr,
    flip,
    issued,
    other_issuer_qr,
    other_version_qr,
    payload,
    qr_of,
    record_qr,
    scan,
    settled,
    signed_qr,
    tampered_pair,
    unassigned_in_python,
    verdict_word,
)

from issuer.sign import IssuerKey
from keys.material import SigningKey
from keys.store import KeyStore
from proofs import compact
from titlecred.web.i18n import catalogs
from titlecred.web.routes.scan import format_constants
from verifier.compact import decode_qr

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

SCAN_JS = Path(__file__).resolve().parents[3] / "titlecred" / "web" / "static" / "scan"


def _watch_requests(page: Any) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    page.context.on("request", lambda r: seen.append((r.url, r.post_data or "")))
    return seen


def _assert_never_sent(seen: list[tuple[str, str]], qr_texts: list[str]) -> None:
    for text in qr_texts:
        # Any 30 characters of the payload would do: base43 text never occurs by chance.
        piece = payload(text)[4:34]
        for url, body in seen:
            assert piece not in url and piece not in body, f"the QR payload was sent in a request to {url}"


def _facts(page: Any) -> dict[str, str]:
    terms = page.locator("#facts dl dt").all_inner_texts()
    values = page.locator("#facts dl dd").all_inner_texts()
    return dict(zip(terms, values, strict=True))


def _bureau(live: LiveServer, path: str, body: dict[str, Any]) -> None:
    r = live.world.client.post(path, json=body, headers=live.world["bureau"].h)
    assert r.status_code == 200, r.text


@SQLITE
def test_each_verdict_reads_clearly_on_phone_and_desktop(page: Any, live: LiveServer, shots: Shots, home: Path,
                                                         viewport: str) -> None:
    world = live.world
    seen = _watch_requests(page)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    full_ids = [world.ids["holder"], world.ids["holder2"]]
    valid = world.issued("holder")
    suspended = issued(world, "holder2")
    revoked = world.issued("holder", qualification="工程师", level="中级")
    _bureau(live, f"/api/certificates/{suspended['id']}/suspend", {"detail": "under investigation"})
    _bureau(live, f"/api/certificates/{revoked['id']}/revoke", {"reason": "forgery"})
    valid_qr = qr_of(live, valid)
    structural, undecodable = tampered_pair(valid_qr)
    cases = [
        ("valid", valid_qr),
        ("suspended", qr_of(live, suspended)),
        ("revoked", qr_of(live, revoked)),
        ("expired", expired_qr(live, valid)),
        ("tampered", structural),
        ("unreadable", undecodable),
        ("unsupported", other_version_qr(live, valid)),
        ("unknown_issuer", other_issuer_qr(live, valid)),
    ]
    for expected, qr in cases:
        assert scan(page, qr) == expected
        assert verdict_word(page) == VERDICT_WORDS[expected]
        box = page.locator("#verdict")
        assert box.get_attribute("role") == "status"
        assert box.locator(".verdict-icon").inner_text() in "✓✕!?"  # an icon besides the colour
        text = page.locator("#main").inner_text()
        assert "怎么办" in text  # every verdict says what to do
        for full in full_ids:
            assert full not in page.content()
        if expected in ("valid", "suspended", "revoked", "expired"):
            facts = _facts(page)
            assert facts["身份证号（部分隐藏）"].count("*") == 11
            assert facts["签发机关"] == "示例市人力资源和社会保障局"
            assert "证书编号" in facts and "资格名称" in facts and "级别" in facts and "取得资格时间" in facts
            assert page.locator("#status-as-of").inner_text().startswith("状态信息截至 ")
        else:
            assert page.locator("#facts").is_hidden()  # nothing unverified is shown as a fact
        shots(page, f"{expected}-{len(shots.taken) + 1}")

    facts_valid = (scan(page, valid_qr), _facts(page))[1]
    assert facts_valid["姓名"] == "张三" and facts_valid["资格名称"] == "高级工程师"
    assert facts_valid["身份证号（部分隐藏）"] == valid["idNumberMasked"]
    assert "请将以下信息与纸质证书逐项核对" in page.locator("#facts").inner_text()

    # A changed QR code whose signature does not match is tampered; one that does not even decode is
    # unreadable: nothing could be checked, so it is not called a forgery.
    scan(page, structural)
    assert "签名不符" in page.locator(".verdict-explain").inner_text()
    scan(page, undecodable)
    assert "无从核验" in page.locator(".verdict-explain").inner_text()
    assert "不表示它被篡改" in page.locator(".verdict-explain").inner_text()
    assert "原件" in page.locator(".verdict-todo").inner_text()

    # The bureau's key is revoked as compromised: a QR code signed after the compromise is invalid, one
    # that claims an earlier signing time cannot be trusted without evidence this page does not have.
    now = datetime.now(UTC).replace(microsecond=0)
    late = qr_of(live, valid)
    early = qr_of(live, valid, now=now - timedelta(hours=2))
    key_id = live.registry.keys.active_key_id()
    KeyStore(home / "keys", PASSPHRASE).revoke(key_id, now - timedelta(hours=1), "key leaked")
    assert scan(page, late) == "key_revoked"
    assert "之后签名的：签名无效" in page.locator(".verdict-explain").inner_text()
    shots(page, "key-revoked-after-compromise")
    assert scan(page, early) == "key_revoked"
    assert "倒填" in page.locator(".verdict-explain").inner_text()
    assert page.locator("#facts").is_hidden()
    shots(page, "key-revoked-before-compromise")
    _assert_never_sent(seen, [qr for _, qr in cases] + [late, early])
    assert not [m for m in console if "Content Security Policy" in m]  # no inline script or style


@SQLITE
@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_paste_box_works_by_keyboard_and_the_page_switches_to_english(page: Any, live: LiveServer,
                                                                          shots: Shots) -> None:
    qr = qr_of(live, live.world.issued("holder"))
    seen = _watch_requests(page)
    page.goto("/v")
    assert page.locator("#verdict").inner_text().startswith("请用手机相机扫描")
    field = page.get_by_label("二维码内容")
    assert field.get_attribute("id") == "qr-input"
    assert field.get_attribute("name") is None  # nothing to submit, even without JavaScript
    # The field and its button are reached with Tab alone.
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "qr-input":
            break
    else:
        pytest.fail("the QR text field cannot be reached with Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "qr-submit"
    page.keyboard.press("Shift+Tab")
    # A scanner gun types the text and presses Enter.
    page.keyboard.type(qr)
    page.keyboard.press("Enter")
    assert settled(page) == "valid"
    assert page.evaluate("document.activeElement.id") == "verdict"  # the result gets the focus
    assert page.url.endswith("#" + payload(qr))
    shots(page, "pasted-valid-zh")
    # The skip link's fragment is the page's own, not a QR code to verify.
    runs = page.locator("#scan").get_attribute("data-runs")
    page.get_by_role("link", name="跳到正文").focus()
    page.keyboard.press("Enter")
    page.wait_for_timeout(100)
    assert page.url.endswith("#main")
    assert page.locator("#scan").get_attribute("data-runs") == runs
    assert page.locator("#verdict").get_attribute("data-verdict") == "valid"
    page.go_back()
    assert page.url.endswith("#" + payload(qr))

    # English keeps the QR code (in the fragment) and verifies it again.
    page.get_by_role("link", name="English").click()
    assert settled(page) == "valid"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Verify a certificate"
    assert verdict_word(page) == "Valid"
    assert "Compare each fact below with the paper certificate" in page.locator("#facts").inner_text()
    assert page.locator("#status-as-of").inner_text().startswith("Status information as of ")
    shots(page, "valid-en")

    page.get_by_label("QR code text").fill("https://example.com/some/other/link")
    page.get_by_role("button", name="Verify").click()
    page.wait_for_function("document.getElementById('verdict').dataset.verdict === 'not_titlecred'")
    assert verdict_word(page) == "Not a certificate QR code"
    assert "#" not in page.url  # pasted text that is not a QR code is not kept in the address
    shots(page, "not-a-certificate-en")
    _assert_never_sent(seen, [qr])


@SQLITE
@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_it_verifies_offline_from_its_cache_and_says_the_status_is_not_current(page: Any, live: LiveServer,
                                                                                shots: Shots) -> None:
    first = qr_of(live, live.world.issued("holder"))
    second = qr_of(live, issued(live.world, "holder2"))
    # A list this site never published: never cached, so offline its status cannot be known.
    elsewhere = signed_qr(live.url, live.world.issued("holder", qualification="工程师", level="中级")
                          ["minimalCredential"], live.registry.keys.active(), credentialStatus={
                              "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                              "statusListIndex": "5", "statusListCredential": f"{live.url}/status/revocation-9"})
    assert scan(page, first) == "valid"
    page.locator("#offline-note").wait_for(state="visible")  # the worker controls the page
    assert page.locator("#stale-warning").count() == 0
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/scan-sw.js")

    page.context.set_offline(True)
    page.reload()
    assert settled(page) == "valid"
    warning = page.locator("#stale-warning").inner_text()
    assert "离线" in warning and "本机保存的副本" in warning
    assert "离线核验" in page.locator("#verdict .verdict-stale").inner_text()
    shots(page, "offline-reload")

    assert scan(page, second) == "valid"  # another certificate, on the same cached lists
    assert "离线" in page.locator("#stale-warning").inner_text()
    assert _facts(page)["姓名"] == "李四"
    shots(page, "offline-other-qr")

    assert scan(page, elsewhere) == "status_unknown"
    assert verdict_word(page) == "无法核验状态"
    explain = page.locator(".verdict-explain").inner_text()
    assert "签名有效" in explain and "这不表示证书无效" in explain
    assert page.locator("#facts").is_visible()
    shots(page, "offline-status-unknown")

    # Seven hours later, still offline: the cached lists are past their validUntil, so a clear bit in
    # them proves nothing about today.
    assert scan(page, first) == "valid"
    page.clock.install(time=datetime.now(UTC) + timedelta(hours=7))
    page.reload()
    assert settled(page) == "status_unknown"
    assert "本机保存的状态信息已过期" in page.locator(".verdict-explain").inner_text()
    shots(page, "offline-lists-expired")
    page.context.set_offline(False)


@SQLITE
def test_an_outage_reads_as_could_not_check_never_as_invalid(chromium: Any, live: LiveServer, shots: Shots) -> None:
    qr = qr_of(live, live.world.issued("holder"))
    # No service worker: the page fetches for itself, and the status lists fail.
    context = chromium.new_context(base_url=live.url, locale="zh-CN", service_workers="block",
                                   **VIEWPORTS["desktop"])
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route(re.compile(r".*/status/.*"), lambda route: route.fulfill(status=503, body="down"))
        assert scan(page, qr) == "status_unknown"
        assert "签名有效" in page.locator(".verdict-explain").inner_text()
        assert "没有可用的状态信息" in page.locator("#freshness").inner_text()
        assert page.locator("#facts").is_visible()
        shots(page, "status-lists-down")

        page.route(re.compile(r".*/\.well-known/did\.json$"), lambda route: route.abort("internetdisconnected"))
        page.goto("/")
        assert scan(page, qr) == "keys_unavailable"
        assert "这不表示证书无效" in page.locator(".verdict-explain").inner_text()
        shots(page, "keys-unreachable")

        # A browser without Ed25519 in WebCrypto is told so, and nothing is called invalid.
        page.unroute(re.compile(r".*/\.well-known/did\.json$"))
        context.add_init_script("crypto.subtle.importKey = () => "
                                "Promise.reject(new DOMException('no Ed25519', 'NotSupportedError'));")
        page.goto("/")
        assert scan(page, qr) == "unsupported"
        assert "这不表示证书无效" in page.locator(".verdict-explain").inner_text()
        shots(page, "browser-without-ed25519")
        assert not errors
    finally:
        context.close()


_JS_DECODE = """async texts => {
    const m = await import('/static/scan/tc1.js');
    const hex = b => Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
    const out = {};
    for (const [name, text] of Object.entries(texts)) {
        try {
            const d = m.decodeQr(text);
            out[name] = {credential: d.credential, kid: d.kid, tbs: hex(d.toBeSigned), sig: hex(d.signature)};
        } catch (e) { out[name] = {error: e.code || String(e), message: e.message}; }
    }
    return out;
}"""


def _python_decode(text: str) -> dict[str, Any]:
    try:
        parsed, credential = decode_qr(text)
    except compact.CompactError as e:
        return {"error": e.code, "message": e.message}
    return {"credential": credential, "kid": parsed.kid, "tbs": parsed.to_be_signed.hex(),
            "sig": parsed.signature.hex()}


def _agree(js: dict[str, Any], py: dict[str, Any]) -> bool:
    if "error" in py:
        return js.get("error") == py["error"]
    return js == py


@SQLITE
@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_browser_decoder_agrees_with_the_python_one(page: Any, live: LiveServer) -> None:
    key = SigningKey.generate()
    issuer = IssuerKey("did:web:hrss.example.gov.cn#key-1", key.sign)
    texts = {name: record_qr(name, issuer) for name in RECORDS}
    structural, undecodable = tampered_pair(texts["typical"])
    texts.update({"tampered": structural, "undecodable": undecodable, "bare": payload(texts["typical"]),
                  "not ours": "https://example.com/v#TC2:ABC", "odd length": texts["typical"][:-1],
                  "too long": texts["typical"] + "0" * 4000})
    page.goto("/v")
    js = page.evaluate(_JS_DECODE, texts)
    assert len(texts["longest"]) > 800
    for name, text in texts.items():
        assert _agree(js[name], _python_decode(text)), (name, js[name])
    assert js["rare_name"]["credential"]["credentialSubject"]["name"] == "刘䶮𠀾𪚥"
    assert js["longest"]["credential"]["credentialSubject"]["reviewBody"] == RECORDS["longest"]["reviewBody"]
    assert "credential" in js["tampered"] and "error" in js["undecodable"]
    assert js["not ours"]["error"] == "not_titlecred_qr" and js["too long"]["error"] == "input_too_large"

    # Every one-character change of two records: both decoders accept the same texts, rebuild the same
    # credential, and refuse the rest with the same code; except for two differences of the Python
    # decoder, each checked here for what it is (see scankit).
    variants = {}
    for name in ("typical", "longest", "rare_everywhere"):
        base = texts[name]
        for position in range(base.index("TC1:") + 4, len(base)):
            variants[f"{name}@{position}"] = flip(base, position, 1 + position % 41)
    js = page.evaluate(_JS_DECODE, variants)
    lenient = 0
    for name, text in variants.items():
        py = _python_decode(text)
        if _agree(js[name], py):
            continue
        if "credential" in py and bytes_after_cose(text):
            assert "extra data" in js[name]["message"], name
            lenient += 1
        elif "credential" in js[name] and "printable" in py.get("message", ""):
            assert unassigned_in_python(json.dumps(js[name]["credential"], ensure_ascii=False)), name
        else:
            pytest.fail(f"{name}: the browser says {js[name]}, Python {py}")
    assert len(variants) > 1500 and lenient < len(variants) / 20


# --- without a browser --------------------------------------------------------------------------------


@SQLITE
def test_the_browser_gets_format_tc1_from_the_python_constants(client: TestClient) -> None:
    r = client.get("/scan/tc1-format.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    exported = {m[1]: json.loads(m[2]) for m in re.finditer(r"^export const (\w+) = (.*);$", r.text, re.M)}
    assert exported == format_constants()
    assert exported["ZDICT_TEXT"].encode("utf-8") == compact.ZDICT
    assert exported["B43_ALPHABET"] == compact.B43_ALPHABET
    assert client.get("/scan/tc1-format.js", headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_every_text_the_page_script_uses_is_in_both_languages() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in SCAN_JS.glob("*.js"))
    keys = set(re.findall(r"""t\(\s*"(scan\.[\w.]+)""", source))
    tones = re.search(r"const TONE = \{(.*?)\};", source, re.S)
    assert tones is not None
    verdicts = set(re.findall(r"(\w+):", tones.group(1)))
    assert {"valid", "revoked", "suspended", "expired", "tampered", "unknown_issuer", "status_unknown"} <= verdicts
    for v in verdicts:
        keys |= {f"scan.verdict.{v}.title", f"scan.verdict.{v}.explain", f"scan.verdict.{v}.todo"}
    for lang in ("zh", "en"):
        missing = sorted(k for k in keys if k not in catalogs()[lang])
        assert not missing, f"{lang}: {missing}"


@SQLITE
def test_scanning_leaves_nothing_about_the_scanner_on_the_server(world: World,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    client = world.client
    caplog.set_level(logging.INFO, logger="titlecred.access")
    paths = ["/v", "/static/scan/scan.js", "/scan-sw.js", "/scan/tc1-format.js", "/.well-known/did.json",
             "/status/revocation-1"]
    for path in paths:
        assert client.get(path, headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200, path
    lines = [r.getMessage() for r in caplog.records if r.name == "titlecred.access"]
    assert len(lines) == len(paths)
    for line in lines:
        # The TestClient's address is "testclient"; a proxy's forwarded address must not appear either.
        assert "testclient" not in line and "203.0.113.7" not in line
        assert re.fullmatch(r"GET (/\S*|\(no route\)) 200 [0-9.]+ms", line), line
    # The page is the same for everyone: it does not look up who asks, and sets no cookie.
    anonymous = client.get("/v")
    client.cookies.set("tc_session", "a-session-token")
    signed_in = client.get("/v")
    client.cookies.clear()
    assert anonymous.text == signed_in.text and "set-cookie" not in anonymous.headers
    assert "script-src 'self'" in anonymous.headers["content-security-policy"]
    worker = client.get("/scan-sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"
