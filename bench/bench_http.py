"""The HTTP path against the core: `titlecred serve` under wrk, beside the in-process verify rate, one run.

    apt-get install wrk          # once (Debian's package; the bench is run by hand, not by scripts/test)
    .venv/bin/python bench/bench_http.py [--seconds 8] [--connections 8] [--workers 1,2] [--routes verify,gets]

Makes a demo registry (`titlecred demo`, SQLite) in a temporary home, then for each worker count
starts `titlecred serve --workers N` pinned to the first N cores and drives it with wrk pinned to the
last core (another process, as a client would be): each route first saturated (C connections, no
pause), then paced at about 80% of that rate to read the tail. Prints req/s per core, requests per
CPU-second of the server's processes (what one core does when other load takes turns on it; the
verdict uses the larger of the two), p99 beside the targets, and the in-process verify rate measured
in this same run (one core; per second and per CPU-second of the bench process, the latter compared
with the server's per CPU-second, so that other load on the machine does not tilt the ratio):

- POST /credentials/verify (the holder's full credential): >= half the in-process rate per core,
  p99 < 25 ms at 80% of the saturating rate;
- public GETs (a status list, did.json, the scan page's script and format module): >= 5,000 req/s per
  core, p99 < 10 ms;
- throughput near-linear from 1 to 2 workers (on a 2-core machine wrk shares a core with the second
  worker, so the 2-worker figure there is a floor).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE)]

from common import pin_one_core, rates  # noqa: E402

WRK = HERE / "wrk"
GETS = [("/status/revocation-1", "status list"), ("/.well-known/did.json", "did.json"),
        ("/static/scan/scan.js", "scan page script (gzip)"), ("/scan/tc1-format.js", "scan format module")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _titlecred(*args: str, env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from titlecred.cli import main; main()", *args], env=env,
                          capture_output=True, text=True, check=True, **kw)


def _credential(home: Path) -> dict[str, Any]:
    import sqlite3

    con = sqlite3.connect(home / "titlecred.db")
    row = con.execute("SELECT full_json FROM certificate WHERE state = 'active' ORDER BY id LIMIT 1").fetchone()
    con.close()
    return dict(json.loads(row[0]))


def _in_process_rate(env: dict[str, str], vc: dict[str, Any], seconds: float) -> tuple[float, float]:
    """verify_vc as the route calls it (policy, status lists from memory), in this process: the same work
    as the route without HTTP; per second of wall clock and per CPU-second."""
    os.environ.update(env)
    from titlecred.api.app import build_registry
    from titlecred.db.engine import make_engine, session_factory
    from titlecred.services import verification
    from titlecred.services.status_cache import CachedStatusSource, StatusCache
    from titlecred.settings import load_settings

    settings = load_settings()
    registry = build_registry(settings)
    sessions = session_factory(make_engine(settings.database_url))
    source = CachedStatusSource(StatusCache(registry, sessions), registry)
    with sessions() as s:
        assert verification.verify_vc(s, registry, vc, None, source).verified
        return rates(lambda _n: verification.verify_vc(s, registry, vc, None, source), seconds)


def _server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server and its worker processes (from /proc): on a machine where
    other load takes turns on the server's cores, requests per CPU-second is what one core would do."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[1] is the parent's pid; [11], [12] utime, stime (man 5 proc, counted from after the name)
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


SERVER_PID = 0


def _wrk(url: str, script: str, seconds: float, conns: int, core: int, env: dict[str, str],
         delay_ms: float = 0.0) -> dict[str, float]:
    cpu0 = _server_cpu(SERVER_PID) if SERVER_PID else 0.0
    done = subprocess.run(["taskset", "-c", str(core), "wrk", "-t1", f"-c{conns}", f"-d{int(seconds)}s", "--latency",
                           "-s", str(WRK / script), url], env={**env, "WRK_DELAY_MS": f"{delay_ms:.3f}"},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stdout} {done.stderr}")
    out = done.stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("JSON "))
    data: dict[str, float] = json.loads(line[5:])
    data["rps"] = data["requests"] / data["seconds"]
    cpu = _server_cpu(SERVER_PID) - cpu0 if SERVER_PID else 0.0
    data["per_cpu_s"] = data["requests"] / cpu if cpu > 0 else float("nan")
    return data


def _measure(url: str, script: str, seconds: float, conns: int, core: int, env: dict[str, str]) -> dict[str, Any]:
    sat = _wrk(url, script, seconds, conns, core, env)
    # Paced: each connection pauses so that all of them together send about 80% of the saturating rate.
    if sat["rps"] < 1:
        raise SystemExit(f"no answers from {url}: {sat}")
    service = 1.0 / sat["rps"]
    delay_ms = max(0.0, (conns / (0.8 * sat["rps"]) - service) * 1000)
    paced = _wrk(url, script, seconds, conns, core, env, delay_ms)
    return {"sat": sat, "paced": paced}


def _serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    cores = ",".join(str(c) for c in range(workers))
    proc = subprocess.Popen(["taskset", "-c", cores, sys.executable, "-c", "from titlecred.cli import main; main()",
                             "serve", "--port", str(port), "--workers", str(workers)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start")


def _warm_up(base: str, body: Path, workers: int) -> None:
    """Each worker's first verify builds its canonicalization templates: not what is measured."""
    data = body.read_bytes()
    for _ in range(4 * workers):
        req = urllib.request.Request(base + "/credentials/verify", data=data,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
        for path, _name in GETS:
            with urllib.request.urlopen(base + path, timeout=30) as r:
                r.read()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--routes", default="verify,gets", help="verify, gets, or both (the default)")
    args = ap.parse_args()
    ncpu = len(os.sched_getaffinity(0))
    client_core = ncpu - 1
    with tempfile.TemporaryDirectory(prefix="titlecred-http-") as tmp:
        home = Path(tmp)
        port = _free_port()
        env = {**os.environ, "TITLECRED_HOME": str(home), "TITLECRED_BASE_URL": f"http://127.0.0.1:{port}",
               "TITLECRED_KEY_PASSPHRASE": "bench passphrase", "TITLECRED_LOG_LEVEL": "warning"}
        _titlecred("demo", env=env)
        vc = _credential(home)
        body = home / "verify.json"
        body.write_text(json.dumps({"verifiableCredential": vc}, ensure_ascii=False), encoding="utf-8")
        env["WRK_BODY"] = str(body)
        pin_one_core()
        inproc_wall, inproc = _in_process_rate(env, vc, 3.0)
        print(f"in-process verify (verify_vc, one core, this run): {inproc_wall:,.0f}/s, {inproc:,.0f} per CPU-second"
              "\n(the verify target compares requests per CPU-second of the server with the latter)\n")
        results: dict[int, dict[str, Any]] = {}
        for workers in [int(w) for w in args.workers.split(",")]:
            proc = _serve(env, port, workers)
            global SERVER_PID
            SERVER_PID = proc.pid
            try:
                base = f"http://127.0.0.1:{port}"
                _warm_up(base, body, workers)
                res = {}
                if "verify" in args.routes:
                    res["verify"] = _measure(base + "/credentials/verify", "post.lua", args.seconds, args.connections,
                                             client_core, env)
                for path, _name in GETS if "gets" in args.routes else []:
                    res[path] = _measure(base + path, "get.lua", args.seconds, args.connections, client_core, env)
                results[workers] = res
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        _report(results, inproc, ncpu)


def _report(results: dict[int, dict[str, Any]], inproc: float, ncpu: int) -> None:
    for workers, res in results.items():
        shared = " (wrk shares a core with a worker)" if workers >= ncpu else ""
        print(f"--- serve --workers {workers}{shared}")
        print(f"{'route':34} {'req/s':>8} {'per core':>9} {'per CPU-s':>9} {'target':>14} {'p99@80%':>9} "
              f"{'target':>8} {'rate@80%':>9}")
        if "verify" in res:
            _report_verify(res["verify"], workers, inproc)
        for path, name in [(p, n) for p, n in GETS if p in res]:
            g = res[path]
            per = g["sat"]["rps"] / workers
            if g["sat"]["per_cpu_s"] == g["sat"]["per_cpu_s"]:
                per = max(per, g["sat"]["per_cpu_s"])
            label = f"GET {name}"
            met = "MET" if per >= 5000 and g["paced"]["p99"] < 10 else "NOT MET"
            print(f"{label:34} {g['sat']['rps']:8,.0f} {g['sat']['rps'] / workers:9,.0f} {g['sat']['per_cpu_s']:9,.0f}"
                  f" {'>= 5,000':>14} {g['paced']['p99']:7.1f}ms "
                  f"{'< 10ms':>8} {g['paced']['rps']:9,.0f}   {met}")
        errors = sum(r["sat"]["errors"] + r["sat"]["non2xx"] for r in res.values())
        print(f"errors or non-2xx under load: {errors}\n")
    if 1 in results and 2 in results:
        for key, name in [(k, n) for k, n in [("verify", "verify"), *GETS] if k in results[1]]:
            one, two = results[1][key]["sat"], results[2][key]["sat"]
            # Per CPU-second: what each worker does with the core it gets (1.00 is linear per core,
            # whatever share of the second core wrk leaves it).
            print(f"scaling 1 -> 2 workers, {name}: {two['rps'] / one['rps']:.2f}x requests per second "
                  f"(linear: 2.00x); {two['per_cpu_s'] / one['per_cpu_s']:.2f} of one worker's requests per "
                  f"CPU-second (linear: 1.00)")


def _report_verify(v: dict[str, Any], workers: int, inproc: float) -> None:
    per = v["sat"]["rps"] / workers
    per = max(per, v["sat"]["per_cpu_s"]) if v["sat"]["per_cpu_s"] == v["sat"]["per_cpu_s"] else per
    want = ">= " + format(inproc / 2, ",.0f")
    print(f"{'POST /credentials/verify':34} {v['sat']['rps']:8,.0f} {v['sat']['rps'] / workers:9,.0f}"
          f" {v['sat']['per_cpu_s']:9,.0f} {want:>14}"
          f" {v['paced']['p99']:7.1f}ms {'< 25ms':>8} {v['paced']['rps']:9,.0f}"
          f"   {'MET' if per >= inproc / 2 and v['paced']['p99'] < 25 else 'NOT MET'}"
          f" ({per / inproc:.2f} of in-process)")


if __name__ == "__main__":
    main()
