"""The scan page: what a certificate's QR code opens (`{base_url}/v#TC1:...`).

The signed facts travel in the URL's fragment, which browsers never send to a server, so the page
verifies in the browser (titlecred/web/static/scan/): it decodes the TC1 form, checks the Ed25519
signature against this site's published DID document, judges the key's state, reads the status lists
and shows one verdict. The server only hands out the same page to everyone, the format's constants,
and the service worker that keeps the page working offline.

- `GET /v` is rendered without looking at who asks (no session lookup): the page is identical for
  every scanner, so it can be cached for offline use, and nothing about the scanner is read.
- `GET /scan/tc1-format.js` is an ES module of format TC1's constants (the preset deflate dictionary,
  the base43 alphabet, the enumerations, the bounds) computed from `proofs.compact`, so the browser's
  decoder cannot drift from the Python one.
- `GET /scan-sw.js` is the service worker, served from the site's root so that its scope may cover `/v`.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from proofs import compact
from schemas.validate import MINIMAL_SCHEMA_ID
from titlecred.api.deps import RegistryDep
from titlecred.web.i18n import catalogs, pick_language
from titlecred.web.templating import render

router = APIRouter(include_in_schema=False)

SCAN_STATIC = Path(__file__).resolve().parents[1] / "static" / "scan"
SW_PATH = "/scan-sw.js"
FORMAT_MODULE_PATH = "/scan/tc1-format.js"
# The page's texts that its script needs (verdicts, facts, freshness): every key of the scan catalog.
TEXT_PREFIX = "scan."


def format_constants() -> dict[str, Any]:
    """Format TC1 as the browser's decoder needs it, straight from the Python constants."""
    return {
        "FORMAT_PREFIX": compact.FORMAT_PREFIX,
        "FORMAT_VERSION": compact.FORMAT_VERSION,
        "COSE_SIGN1_TAG": compact.COSE_SIGN1_TAG,
        "ALG_EDDSA": compact.ALG_EDDSA,
        "MAX_QR_TEXT": compact.MAX_QR_TEXT,
        "MAX_COSE_BYTES": compact.MAX_COSE_BYTES,
        "MAX_KID_BYTES": compact.MAX_KID_BYTES,
        "MAX_CBOR_DEPTH": compact.MAX_CBOR_DEPTH,
        "MAX_CBOR_ITEMS": compact.MAX_CBOR_ITEMS,
        "B43_ALPHABET": compact.B43_ALPHABET,
        # Text, not bytes: the dictionary is UTF-8 text, and TextEncoder gives back exactly ZDICT.
        "ZDICT_TEXT": compact.ZDICT.decode("utf-8"),
        "LEVELS": list(compact.LEVELS_V1),
        "LEVEL_LETTERS": list(compact.LEVEL_LETTERS_V1),
        "CHANNELS": list(compact.CHANNELS_V1),
        "GENDERS": list(compact.GENDERS_V1),
        "PURPOSES": list(compact.PURPOSES_V1),
        "MINIMAL_CONTEXT": list(compact.MINIMAL_CONTEXT),
        "MINIMAL_TYPE": list(compact.MINIMAL_TYPE),
        "SUBJECT_TYPE": compact.SUBJECT_TYPE,
        "MINIMAL_SCHEMA_ID": MINIMAL_SCHEMA_ID,
    }


@lru_cache(maxsize=1)
def format_module() -> tuple[bytes, str]:
    """The ES module text of `format_constants` and its ETag."""
    lines = ["// Format TC1's constants, generated from proofs/compact.py by titlecred/web/routes/scan.py.", ""]
    for name, value in format_constants().items():
        # ensure_ascii: the module is plain ASCII whatever the serving charset; \\u escapes are exact.
        lines.append(f"export const {name} = {json.dumps(value, ensure_ascii=True)};")
    body = ("\n".join(lines) + "\n").encode("ascii")
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def page_texts(lang: str) -> dict[str, str]:
    return {k: v for k, v in catalogs()[lang].items() if k.startswith(TEXT_PREFIX)}


@router.get("/v")
def scan_page(request: Request, registry: RegistryDep) -> Response:
    lang = pick_language(request)
    return render(request, "scan.html", {"texts": page_texts(lang), "sw_path": SW_PATH,
                                         "issuer": registry.profile.name})


@router.get(FORMAT_MODULE_PATH)
def tc1_module(request: Request) -> Response:
    body, etag = format_module()
    headers = {"ETag": etag, "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript", headers=headers)


@router.get(SW_PATH)
def service_worker() -> Response:
    body = (SCAN_STATIC / "sw.js").read_bytes()
    # no-cache: a new worker reaches phones on their next visit; the scope is only ever /v.
    return Response(body, media_type="text/javascript", headers={
        "Cache-Control": "no-cache", "Service-Worker-Allowed": "/v", "X-Content-Type-Options": "nosniff"})
