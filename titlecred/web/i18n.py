"""Page texts in Chinese (the default) and English, and the choice between them.

Each area of the site keeps its own catalog in `titlecred/web/locale/<area>.json`, shaped
`{"zh": {key: text}, "en": {key: text}}`; they are merged at start-up, and a key defined twice or
missing from one language is an error then, not a blank on a page later.

The language comes from `?lang=`, then the `tc_lang` cookie, then Chinese: a government service's
pages are Chinese unless the reader asks otherwise (no guessing from Accept-Language).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
LANG_COOKIE = "tc_lang"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


class CatalogError(Exception):
    pass


@lru_cache(maxsize=1)
def catalogs() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    origin: dict[str, str] = {}
    for path in sorted(LOCALE_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = {lang: set(data.get(lang, {})) for lang in LANGUAGES}
        if keys["zh"] != keys["en"]:
            missing = sorted(keys["zh"] ^ keys["en"])
            raise CatalogError(f"{path.name}: keys not in both languages: {', '.join(missing[:10])}")
        for key in keys["zh"]:
            if key in origin:
                raise CatalogError(f"{path.name}: key {key!r} is already defined in {origin[key]}")
            origin[key] = path.name
        for lang in LANGUAGES:
            merged[lang].update(data[lang])
    return merged


def pick_language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGUAGES else DEFAULT


def translator(lang: str) -> Callable[..., str]:
    table = catalogs()[lang]

    def t(key: str, **values: object) -> str:
        # A missing key shows itself (never an empty label): the catalog test catches it first.
        text = table.get(key, key)
        return text.format(**values) if values else text

    return t
