"""The local issuer: its profile (DID, Chinese name, unit code) and its keystore, under TITLECRED_HOME."""

from __future__ import annotations

import json
import os
from pathlib import Path

from issuer.credential import IssuerProfile
from issuer.sign import IssuerKey
from keys.store import KeyStore
from titlecred.errors import AppError
from titlecred.settings import Settings

DEFAULT_DID = "did:web:hrss.example.gov.cn"
DEFAULT_NAME = "示例市人力资源和社会保障局"


def load_profile(settings: Settings) -> IssuerProfile:
    path = settings.issuer_file
    if not path.exists():
        raise AppError("no_issuer", f"no issuer is set up in {settings.home}; run 'titlecred keys generate'")
    data = json.loads(path.read_text(encoding="utf-8"))
    return IssuerProfile(did=data["did"], name=data["name"], unit_code=data.get("unitCode"))


def save_profile(settings: Settings, profile: IssuerProfile) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    data = {"did": profile.did, "name": profile.name}
    if profile.unit_code:
        data["unitCode"] = profile.unit_code
    tmp = settings.issuer_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, settings.issuer_file)


def open_keystore(settings: Settings) -> KeyStore:
    return KeyStore(settings.keys_dir, settings.key_passphrase())


def issuer_key(store: KeyStore, key_id: str | None = None) -> IssuerKey:
    """The signing key (the active one unless `key_id` names another), as the issuer layer needs it."""
    record = store.get(key_id) if key_id else store.active()
    signer = store.signer(record.key_id)
    return IssuerKey(verification_method=record.key_id, sign=signer.sign)


def profile_exists(home: Path) -> bool:
    return (home / "issuer.json").exists()
