"""The VC API's verification answers as status, media type and JSON body: one shape for the FastAPI
routes (titlecred.api.routes.vcapi) and for `POST /credentials/verify` served without the framework
(titlecred.api.verify_fast), so that both answer the same bytes.

- verified: 200 {"verified": true, "results", "problemDetails": []};
- not verified: 422 application/problem+json with `verified: false`, `problemDetails` and `results`;
  400 when nothing could be checked (verdict "unreadable" or "unsupported"); 422 or 503 for the
  canonicalizer's refusals of work (a graph past the work limit; busy, try again).
"""

from __future__ import annotations

import json
from typing import Any

from titlecred.api.problems import MEDIA_TYPE, PROBLEM_BASE
from titlecred.services import verification
from verifier.result import UNCHECKED, VerificationResult

JSON_TYPE = "application/json"
# Refusals of work, with their own statuses: a graph past RDFC-1.0's work limit cannot be processed
# (422), and one turned away while another complex document holds the canonicalizer may try again (503).
WORK_REFUSALS = {"canonicalization_too_complex": 422, "canonicalization_busy": 503}


def not_verified(status: int, code: str, detail: str, details: list[dict[str, Any]],
                 results: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "code": code, "title": "Not verified", "status": status,
                            "detail": detail, "verified": False, "problemDetails": details}
    if results is not None:
        body["results"] = results
    return body


def failed_status(verdict: str, details: list[dict[str, Any]]) -> int:
    codes = {d.get("code") for d in details}
    for code, status in WORK_REFUSALS.items():
        if code in codes:
            return status
    # Other input we cannot read or do not support is a bad request (400), not a failed verification (422).
    return 400 if verdict in UNCHECKED else 422


def credential_answer(result: VerificationResult) -> tuple[int, str, dict[str, Any]]:
    """`POST /credentials/verify`'s answer to a verification's result: (status, media type, body)."""
    results = verification.results_json(result)
    if result.verified:
        return 200, JSON_TYPE, {"verified": True, "results": results, "problemDetails": []}
    details = verification.problem_details(result)
    status = failed_status(result.verdict, details)
    return status, MEDIA_TYPE, not_verified(status, "not_verified", f"the credential did not verify ({result.verdict})",
                                            details, results)


def render(content: Any) -> bytes:
    """JSON as Starlette's JSONResponse writes it (compact, UTF-8, no NaN)."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")
