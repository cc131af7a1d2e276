"""The bureau's identity on its pages, as Chinese government sites show it: its name and emblem in the
header, and a footer with the sponsor (主办单位), the contact, the ICP filing number (ICP备案号) and the public
security filing number (公安备案号). Configured per home in `$TITLECRED_HOME/site.json` (`titlecred site set`),
the name defaulting to the issuer profile's; the emblem is a PNG, JPEG or SVG file kept in the home and
served at /site/emblem.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from titlecred.errors import AppError
from titlecred.settings import Settings

MAX_EMBLEM_BYTES = 256 * 1024
EMBLEM_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
FIELDS = ("name", "sponsor", "contact", "icp", "publicSecurity")
MAX_TEXT = 200


@dataclass(frozen=True)
class SiteIdentity:
    name: str = ""
    sponsor: str = ""
    contact: str = ""
    icp: str = ""
    publicSecurity: str = ""
    emblem: str = ""  # a file name inside the home

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v}


def site_file(settings: Settings) -> Path:
    return settings.home / "site.json"


def load(settings: Settings, default_name: str = "") -> SiteIdentity:
    path = site_file(settings)
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise AppError("invalid_site_identity", f"{path} is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise AppError("invalid_site_identity", f"{path} must hold a JSON object")
    values = {k: str(data[k])[:MAX_TEXT] for k in (*FIELDS, "emblem") if isinstance(data.get(k), str)}
    values.setdefault("name", default_name)
    return SiteIdentity(**values)


def emblem_path(settings: Settings, site: SiteIdentity) -> Path | None:
    if not site.emblem:
        return None
    path = settings.home / Path(site.emblem).name
    return path if path.is_file() else None


def save(settings: Settings, changes: dict[str, str | None], emblem: Path | None = None) -> SiteIdentity:
    current = load(settings).to_json()
    for key, value in changes.items():
        if key not in FIELDS or value is None:
            continue
        text = "".join(ch for ch in value if ch.isprintable()).strip()
        if len(text) > MAX_TEXT:
            raise AppError("invalid_site_identity", f"{key} is longer than {MAX_TEXT} characters")
        if text:
            current[key] = text
        else:
            current.pop(key, None)
    if emblem is not None:
        suffix = emblem.suffix.lower()
        if suffix not in EMBLEM_TYPES:
            raise AppError("invalid_emblem", "the emblem must be a .png, .jpg or .svg file")
        try:
            data = emblem.read_bytes()
        except OSError as e:
            raise AppError("unreadable_file", f"cannot read {emblem}: {e.strerror}") from None
        if len(data) > MAX_EMBLEM_BYTES:
            raise AppError("invalid_emblem", f"the emblem is larger than {MAX_EMBLEM_BYTES} bytes")
        name = f"site-emblem{suffix}"
        settings.home.mkdir(parents=True, exist_ok=True)
        (settings.home / name).write_bytes(data)
        current["emblem"] = name
    settings.home.mkdir(parents=True, exist_ok=True)
    site_file(settings).write_text(json.dumps(current, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return load(settings)
