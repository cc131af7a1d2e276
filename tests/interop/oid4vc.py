"""Python side of the independent-wallet harness (stdlib only): ``node oid4vc.mjs``, one JSON request on
stdin, one JSON response on stdout (the requests are described at the top of ``oid4vc.mjs``).

The wallet libraries (``@openid4vc/openid4vci``, ``@openid4vc/openid4vp``, ``@sd-jwt/sd-jwt-vc``) are
pinned in ``package-lock.json`` beside this file; ``npm ci`` installs them (scripts/setup --dev does).
Import as ``from interop.oid4vc import wallet`` with ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "oid4vc.mjs"
PACKAGES = ("@openid4vc/openid4vci", "@openid4vc/openid4vp", "@sd-jwt/sd-jwt-vc")


class WalletHarnessError(RuntimeError):
    """The harness could not answer: a broken install, a timeout, or a harness bug."""


def missing_reason() -> str | None:
    if shutil.which("node") is None:
        return "Node.js not found: `node` is not on PATH (see scripts/setup)"
    for name in PACKAGES:
        if not (HERE / "node_modules" / name).is_dir():
            return f"{name} is not installed: run `npm ci --no-audit --no-fund` in {HERE}"
    return None


def wallet(request: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    """One request to the wallet harness. A library's refusal comes back as ``{"error", "library_error":
    true}``; only a harness failure raises."""
    reason = missing_reason()
    if reason is not None:
        raise WalletHarnessError(reason)
    node = shutil.which("node")
    assert node is not None
    try:
        proc = subprocess.run([node, str(SCRIPT)], cwd=HERE, input=json.dumps(request), capture_output=True,
                              text=True, timeout=timeout, check=False, env={**os.environ, "NODE_NO_WARNINGS": "1"})
    except subprocess.TimeoutExpired as e:
        raise WalletHarnessError(f"oid4vc.mjs {request.get('op')!r} timed out") from e
    try:
        response = json.loads(proc.stdout)
    except ValueError as e:
        raise WalletHarnessError(f"oid4vc.mjs exited {proc.returncode} without JSON:\n{proc.stdout[-2000:]}\n"
                                 f"{proc.stderr[-4000:]}") from e
    if proc.returncode == 2 or not isinstance(response, dict):
        raise WalletHarnessError(f"oid4vc.mjs harness error: {proc.stdout[-4000:]}")
    return response
