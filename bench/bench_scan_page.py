"""How long an employer waits: from opening a certificate's QR link to the scan page's verdict.

Issue 5 asks for "an answer they can trust in two seconds". This builds a demo registry
(`titlecred demo`), serves it (`titlecred serve`), takes the QR text from the demo certificate's PDF,
and opens it in Debian's Chromium (headless, through Playwright):

- cold: a new browser profile each time (no cache, no service worker), on the loopback network, then
  with a phone's network (Chrome's "Slow 4G": 150 ms latency, 1.6 Mbit/s) and a phone's CPU (4x
  slower), then on "3G" (300 ms, 0.75 Mbit/s) with the 4x CPU;
- warm: the same profile scanning again (the service worker serves the page; keys and status lists
  are revalidated), and offline from the cache;
- in the page: verifications per second of `verifyQr` with the keys and lists in memory, beside raw
  WebCrypto Ed25519 verifications per second in the same page, in the same run.

Figures are medians and 95th percentiles of wall time, from `page.goto` to the verdict shown.

    .venv/bin/python bench/bench_scan_page.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
BUDGET_S = 2.0
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
                         "has_touch": True}
NETWORKS: dict[str, tuple[dict[str, float], int] | None] = {
    "loopback": None,
    "slow-4g+4x-cpu": ({"latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8}, 4),
    "3g+4x-cpu": ({"latency": 300, "downloadThroughput": 750_000 / 8, "uploadThroughput": 250_000 / 8}, 4),
}
DONE = "() => { const s = document.getElementById('scan'); return s && s.dataset.state === 'done'; }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _titlecred() -> str:
    exe = Path(sys.executable).parent / "titlecred"
    return str(exe) if exe.exists() else shutil.which("titlecred") or "titlecred"


def _serve(home: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "TITLECRED_HOME": str(home), "TITLECRED_BASE_URL": f"http://127.0.0.1:{port}",
           "TITLECRED_KEY_PASSPHRASE": "bench passphrase"}
    subprocess.run([_titlecred(), "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([_titlecred(), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/v", timeout=1).read()
            return server, url
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("the server did not start")


def _qr_text(home: Path) -> str:
    from printing.extract import read_pdf

    qr = read_pdf((home / "demo-certificate.pdf").read_bytes()).qr_text
    assert qr is not None, "no QR code on the demo certificate"
    return qr


def _throttle(page: Any, network: tuple[dict[str, float], int] | None) -> None:
    if network is None:
        return
    conditions, cpu = network
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, **conditions})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu})


def _time_scan(page: Any, link: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    page.goto(link)
    page.wait_for_function(DONE, timeout=30_000)
    elapsed = time.perf_counter() - t0
    return elapsed, str(page.locator("#verdict").get_attribute("data-verdict"))


def _summary(name: str, times: list[float], verdicts: set[str]) -> None:
    times = sorted(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    med = statistics.median(times)
    print(f"  {name:<34} median {med * 1000:7.0f} ms  p95 {p95 * 1000:7.0f} ms  "
          f"({med / BUDGET_S:.2f} of the 2 s budget)  verdicts {sorted(verdicts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="titlecred-bench-"))
    port = _free_port()
    server, url = _serve(home, port)
    try:
        link = _qr_text(home).replace("http://127.0.0.1:8000", url)
        print(f"scan page: {url}/v, QR text {len(link)} characters; {args.runs} runs per figure")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            print("time to verdict, cold (new profile each time: no cache, no service worker):")
            for name, network in NETWORKS.items():
                times, verdicts = [], set()
                for _ in range(args.runs):
                    context = browser.new_context(**PHONE)
                    page = context.new_page()
                    _throttle(page, network)
                    elapsed, verdict = _time_scan(page, link)
                    times.append(elapsed)
                    verdicts.add(verdict)
                    context.close()
                _summary(name, times, verdicts)

            print("time to verdict, warm (the same profile scanning again):")
            context = browser.new_context(**PHONE)
            page = context.new_page()
            _time_scan(page, link)
            page.evaluate("() => navigator.serviceWorker.ready")
            for label, offline in (("online, service worker", False), ("offline, from the cache", True)):
                context.set_offline(offline)
                times, verdicts = [], set()
                for _ in range(args.runs):
                    page.goto("about:blank")
                    elapsed, verdict = _time_scan(page, link)
                    times.append(elapsed)
                    verdicts.add(verdict)
                _summary(label, times, verdicts)
            context.set_offline(False)

            print("in the page, one core of the browser (keys and status lists in memory):")
            page.goto(link)
            page.wait_for_function(DONE)
            rates = page.evaluate(_IN_PAGE, link)
            print(f"  verifyQr                           {rates['verify']:9.0f} /s")
            print(f"  raw WebCrypto Ed25519 verify       {rates['raw']:9.0f} /s   "
                  f"(verifyQr = {rates['verify'] / rates['raw']:.2f} of raw)")
            context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)


_IN_PAGE = """async (link) => {
  const { verifyQr } = await import('/static/scan/verify.js');
  const { decodeQr } = await import('/static/scan/tc1.js');
  const memo = new Map();
  const fetchData = async (path) => {
    if (!memo.has(path)) {
      const r = await fetch(path);
      memo.set(path, { ok: true, json: await r.json(), source: 'network', fetchedAt: Date.now() });
    }
    return memo.get(path);
  };
  const text = link.slice(link.indexOf('#') + 1);
  await verifyQr(text, { fetchData });
  const rate = async (fn) => {
    let n = 0; const t0 = performance.now();
    while (performance.now() - t0 < 2000) { await fn(); n++; }
    return n / ((performance.now() - t0) / 1000);
  };
  const verify = await rate(() => verifyQr(text, { fetchData }));
  const d = decodeQr(text);
  const did = (await fetchData('/.well-known/did.json')).json;
  const vm = did.verificationMethod.find((m) => m.id === d.kid);
  const { ed25519FromMultibase } = await import('/static/scan/verify.js');
  const key = await crypto.subtle.importKey('raw', ed25519FromMultibase(vm.publicKeyMultibase),
                                            { name: 'Ed25519' }, false, ['verify']);
  const raw = await rate(() => crypto.subtle.verify({ name: 'Ed25519' }, key, d.signature, d.toBeSigned));
  return { verify, raw };
}"""


if __name__ == "__main__":
    main()
