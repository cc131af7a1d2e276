"""Operations: `titlecred serve --workers 2` (uvloop, httptools) answers /healthz, /readyz and /metrics
summed over its workers; its logs are JSON lines with route templates and never an ID number; status
lists are served from memory yet a revocation is seen at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import httpx
from registry.kit import World, free_port, wait_until_up
from registry.test_cli import demo_env as demo_env
from registry.test_cli import run

from titlecred.logs import scrub


def test_health_ready_and_metrics_in_process(world: World) -> None:
    c = world.client
    assert c.get("/healthz").json() == {"status": "ok"}
    ready = c.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok", "keys": "ok"}
    vc = world.issued()["fullCredential"]
    assert c.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200
    text = c.get("/metrics").text
    assert 'titlecred_verifications_total{verdict="valid"}' in text
    assert 'titlecred_certificates_issued_total{path="approval"}' in text
    assert 'titlecred_http_request_seconds_bucket{le="0.001",route="/healthz"}' in text


def test_a_revocation_is_seen_at_once_although_lists_are_served_from_memory(world: World) -> None:
    c = world.client
    cert = world.issued()
    vc = cert["fullCredential"]
    before = c.get("/status/revocation-1")
    assert c.post("/credentials/verify", json={"verifiableCredential": vc}).json()["verified"] is True
    r = c.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "forgery", "detail": "x"},
               headers=world["bureau"].h)
    assert r.status_code == 200, r.text
    after = c.get("/status/revocation-1")
    assert after.headers["etag"] != before.headers["etag"]
    r = c.post("/credentials/verify", json={"verifiableCredential": vc})
    assert r.status_code == 422 and r.json()["results"]["verdict"] == "revoked"
    assert c.get("/status/revocation-1", headers={"If-None-Match": after.headers["etag"]}).status_code == 304


def test_scrub_masks_anything_shaped_like_an_id_number() -> None:
    assert scrub("lookup of 11010519850312041X failed") == "lookup of 110105************ failed"
    assert scrub("certificate B1401022026000123") == "certificate B1401022026000123"


def test_serve_with_two_workers_sums_metrics_and_logs_json_without_id_numbers(demo_env: dict[str, str]) -> None:
    assert run(demo_env, "demo").exit_code == 0
    port = free_port()
    env: dict[str, Any] = {**os.environ, **demo_env}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([sys.executable, "-c", "from titlecred.cli import main; main()", "serve", "--port",
                             str(port), "--workers", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    id_number = "11010519850312041X"
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        assert httpx.get(f"{base}/readyz").json()["status"] == "ok"
        with httpx.Client() as client:
            for _ in range(40):
                assert client.get(f"{base}/status/revocation-1").status_code == 200
            # An ID number in the URL, the query and the body: none may reach a log line.
            client.get(f"{base}/api/people/{id_number}?idNumber={id_number}")
            client.post(f"{base}/api/lookup", json={"certificateNumber": "B1401022026000001", "idNumber": id_number,
                                                    "consentCode": "123456"})
        metrics = httpx.get(f"{base}/metrics").text
        line = next(ln for ln in metrics.splitlines()
                    if ln.startswith('titlecred_http_requests_total{method="GET",route="/status/{list_id}"'))
        assert float(line.rsplit(" ", 1)[1]) == 40.0
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    log = out.decode("utf-8", "replace")
    assert id_number not in log and id_number[:-1] not in log
    records = [json.loads(ln) for ln in log.splitlines() if ln.startswith("{")]
    access = [r for r in records if r["logger"] == "titlecred.access"]
    assert any("GET /status/{list_id} 200" in r["message"] for r in access)
    assert len({r.get("level") for r in records}) >= 1
