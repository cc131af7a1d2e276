"""Python side of the vc.js interop harness (stdlib only).

Digital Bazaar's vc.js stack (``@digitalbazaar/vc`` with the eddsa-rdfc-2022 Data Integrity
cryptosuite), pinned in ``package-lock.json`` beside this file, is driven through ``vcjs.mjs``: one
JSON request on stdin, one JSON response on stdout (the request/response formats are described at
the top of ``vcjs.mjs``).

Importing: this file is a plain module, not part of a package (there is deliberately no
``tests/interop/__init__.py``). Put ``tests/`` on ``sys.path`` and import it as a namespace package::

    sys.path.insert(0, str(REPO / "tests"))   # pytest's rootdir-relative tests/ usually already is
    from interop.vcjs import node_available, vcjs_verify

or load it by path (``importlib.util.spec_from_file_location``). It needs only the standard
library; Node.js (>= 18) and ``npm ci`` in ``tests/interop`` provide the rest
(:func:`ensure_installed`).

API:

- :func:`node_available` -- ``node`` on PATH and ``tests/interop/node_modules`` installed.
- :func:`node_missing_reason` -- why not, as a sentence for ``pytest.skip`` (None when available).
- :func:`ensure_installed` -- ``npm ci --no-audit --no-fund`` when node_modules is missing.
- :func:`vcjs_verify`, :func:`vcjs_sign`, :func:`vcjs_bench`, :func:`vcjs_batch`,
  :func:`vcjs_versions` -- one ``node vcjs.mjs`` run each (a batch runs several requests in one
  node process: ~0.3 s start-up saved per request).
- :func:`load_w3c_contexts` -- ``{url: json}`` from ``shared/w3c/contexts/index.json``.

A credential that does not verify, or that vc.js refuses to sign, is an answer (``verified`` is
False / ``signed`` is None, ``error`` says why). :class:`VcjsHarnessError` is raised only for
unusable input, a broken install, a timeout, or a bug in the harness.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "vcjs.mjs"
NODE_MODULES = HERE / "node_modules"
TIMEOUT_S = 60.0

__all__ = [
    "TIMEOUT_S",
    "VcjsHarnessError",
    "ensure_installed",
    "load_w3c_contexts",
    "node_available",
    "node_missing_reason",
    "vcjs_batch",
    "vcjs_bench",
    "vcjs_request",
    "vcjs_sign",
    "vcjs_verify",
    "vcjs_versions",
]


class VcjsHarnessError(RuntimeError):
    """The harness could not answer: bad input, missing install, timeout, or a harness bug."""


def _node() -> str | None:
    return shutil.which("node")


def node_missing_reason() -> str | None:
    """None when vc.js can run; else a sentence saying what is missing."""
    if _node() is None:
        return "Node.js not found: `node` is not on PATH (install nodejs and npm, see scripts/setup)"
    if not (NODE_MODULES / "@digitalbazaar" / "vc").is_dir():
        return (
            f"Node.js found but the interop npm packages are not installed: run "
            f"`npm ci --no-audit --no-fund` in {HERE} (scripts/setup --dev does)"
        )
    return None


def node_available() -> bool:
    """``node`` is on PATH and ``tests/interop/node_modules`` is installed."""
    return node_missing_reason() is None


def ensure_installed(timeout: float = 600.0) -> None:
    """Run ``npm ci --no-audit --no-fund`` in tests/interop when node_modules is missing.

    Raises :class:`VcjsHarnessError` with npm's output when node/npm are missing or npm fails.
    """
    if (NODE_MODULES / "@digitalbazaar" / "vc").is_dir():
        return
    npm = shutil.which("npm")
    if _node() is None or npm is None:
        raise VcjsHarnessError("Node.js/npm not found on PATH: cannot install the vc.js interop packages")
    try:
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise VcjsHarnessError(f"`npm ci` in {HERE} timed out after {timeout:.0f} s") from e
    if proc.returncode != 0:
        raise VcjsHarnessError(
            f"`npm ci` in {HERE} failed (exit {proc.returncode}):\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )


def vcjs_request(request: dict[str, Any], timeout: float = TIMEOUT_S) -> dict[str, Any]:
    """Send one request to ``node vcjs.mjs`` and return its JSON response."""
    reason = node_missing_reason()
    if reason is not None:
        raise VcjsHarnessError(reason)
    node = _node()
    assert node is not None
    try:
        proc = subprocess.run(
            [node, str(SCRIPT)],
            cwd=HERE,
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
    except subprocess.TimeoutExpired as e:
        raise VcjsHarnessError(f"vcjs.mjs {request.get('op')!r} timed out after {timeout:.0f} s") from e
    try:
        response = json.loads(proc.stdout)
    except ValueError as e:
        raise VcjsHarnessError(
            f"vcjs.mjs {request.get('op')!r} exited {proc.returncode} without a JSON response:\n"
            f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}"
        ) from e
    if proc.returncode != 0:
        raise VcjsHarnessError(
            f"vcjs.mjs {request.get('op')!r} exited {proc.returncode}: "
            f"{json.dumps(response)[:4000]}\nstderr: {proc.stderr[-2000:]}"
        )
    if not isinstance(response, dict):
        raise VcjsHarnessError(f"vcjs.mjs answered with a non-object: {proc.stdout[:500]}")
    return response


def vcjs_verify(
    credential: dict[str, Any], documents: dict[str, Any], now: str | None = None
) -> dict[str, Any]:
    """Verify ``credential`` with vc.js; ``documents`` is ``{url: json}`` (contexts, DID documents).

    Returns ``{"verified": bool, "error": str | None, "results": <vc.js result>, "proofs": [...],
    "status": [...] | None, "loaded": [{"url", "source"}]}``. ``now`` (ISO 8601) is the time
    vc.js checks validFrom/validUntil against (default: the real time).
    """
    request: dict[str, Any] = {"op": "verify", "credential": credential, "documents": documents}
    if now is not None:
        request["now"] = now
    return vcjs_request(request)


def _sign_request(
    op: str,
    credential: dict[str, Any],
    secret_mb: str,
    public_mb: str,
    vm: str,
    controller: str,
    created: str,
    documents: dict[str, Any],
) -> dict[str, Any]:
    return {
        "op": op,
        "credential": credential,
        "secretKeyMultibase": secret_mb,
        "publicKeyMultibase": public_mb,
        "verificationMethod": vm,
        "controller": controller,
        "created": created,
        "documents": documents,
    }


def vcjs_sign(
    credential: dict[str, Any],
    secret_mb: str,
    public_mb: str,
    vm: str,
    controller: str,
    created: str,
    documents: dict[str, Any],
) -> dict[str, Any]:
    """Sign ``credential`` with vc.js ``issue`` (DataIntegrityProof, eddsa-rdfc-2022).

    Returns ``{"signed": <credential with proof> | None, "error": str | None, "loaded": [...]}``;
    ``signed`` is None when vc.js refuses (e.g. an undefined term in safe mode).
    """
    return vcjs_request(
        _sign_request("sign", credential, secret_mb, public_mb, vm, controller, created, documents)
    )


def vcjs_bench(
    credential: dict[str, Any],
    secret_mb: str,
    public_mb: str,
    vm: str,
    controller: str,
    created: str,
    documents: dict[str, Any],
    signed: dict[str, Any] | None = None,
    seconds: float = 3.0,
    now: str | None = None,
    warmup: int = 20,
) -> dict[str, Any]:
    """Time vc.js: sequential ``issue`` calls for ~``seconds``, then sequential verifications.

    ``signed`` (default: vc.js's own signature of ``credential``) is what gets verified; it must
    verify, else the answer carries ``error``. Returns ``{"sign_per_sec", "verify_per_sec",
    "sign_count", "verify_count", "sign_seconds", "verify_seconds", "warmup", "node"}``.
    """
    request = _sign_request("bench", credential, secret_mb, public_mb, vm, controller, created, documents)
    request["seconds"] = seconds
    request["warmup"] = warmup
    if signed is not None:
        request["signed"] = signed
    if now is not None:
        request["now"] = now
    return vcjs_request(request, timeout=max(TIMEOUT_S, 2 * seconds + 30))


def vcjs_batch(requests: list[dict[str, Any]], timeout: float = TIMEOUT_S) -> list[dict[str, Any]]:
    """Run several requests (each as for :func:`vcjs_request`) in one node process, in order."""
    response = vcjs_request({"op": "batch", "requests": requests}, timeout=timeout)
    responses = response.get("responses")
    if not isinstance(responses, list) or len(responses) != len(requests):
        raise VcjsHarnessError(f"vcjs.mjs batch answered badly: {json.dumps(response)[:2000]}")
    return responses


def vcjs_versions() -> dict[str, Any]:
    """``{"node": "v20...", "packages": {name: version}}`` of the installed vc.js stack."""
    return vcjs_request({"op": "versions"})


def load_w3c_contexts(shared_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``{url: json}`` of every context in ``shared/w3c/contexts`` (per its ``index.json``).

    ``shared_dir`` may be the ``shared`` folder, its ``w3c`` folder, or the ``contexts`` folder.
    """
    base = Path(shared_dir)
    for candidate in (base / "w3c" / "contexts", base / "contexts", base):
        if (candidate / "index.json").is_file():
            index = json.loads((candidate / "index.json").read_text(encoding="utf-8"))
            return {
                url: json.loads((candidate / name).read_text(encoding="utf-8")) for url, name in index.items()
            }
    raise FileNotFoundError(f"no contexts/index.json under {base}")
