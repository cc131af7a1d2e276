"""Further issuer instances an operator configures beside the bureau (VC API "issuer instances").

The bureau signs as its did:web. An operator may add more issuers, each with its own DID and keystore
under `TITLECRED_HOME/issuers/<name>/`: a `did:key` issuer for the W3C conformance suites (which
resolve issuers as did:key) and for small bodies without a website. Each instance is reachable at
`/issuers/<name>/credentials/issue`, and `/credentials/issue` picks the instance whose DID the
credential names as its issuer (the bureau when it names none).

An instance's keys are sealed under the same passphrase as the bureau's; a did:key never rotates
(its DID is its key), so its keystore holds exactly one key.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.utils

from issuer.credential import IssuerProfile
from keys.material import SigningKey
from keys.store import KeyStore
from titlecred.errors import AppError
from titlecred.settings import Settings

# Lowercase letters only: the name prefixes the instance's status list ids (`<name>revocation-1`).
NAME = re.compile(r"[a-z]{1,12}")


@dataclass(frozen=True)
class Instance:
    name: str
    profile: IssuerProfile
    keystore: KeyStore


def _folder(settings: Settings) -> Path:
    return settings.home / "issuers"


def add_did_key(settings: Settings, name: str, display_name: str | None = None, **store_options: Any) -> Instance:
    """A new did:key issuer instance `name` with a fresh Ed25519 key; refuses a taken name."""
    if not NAME.fullmatch(name):
        raise AppError("invalid_name", "an issuer instance's name is 1-12 lowercase letters a-z")
    home = _folder(settings) / name
    if home.exists():
        raise AppError("issuer_exists", f"an issuer instance named {name} already exists")
    seed = nacl.utils.random(32)
    multibase = SigningKey.from_seed(seed).public_key.multibase
    did = f"did:key:{multibase}"
    home.mkdir(parents=True)
    store = KeyStore(home / "keys", settings.key_passphrase(), **store_options)
    store.import_seed(did, seed, key_id=multibase)
    profile = IssuerProfile(did=did, name=display_name or name)
    data = {"name": name, "did": did, "displayName": profile.name}
    tmp = home / "issuer.json.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, home / "issuer.json")
    return Instance(name, profile, store)


def load_instances(settings: Settings) -> list[Instance]:
    """Every configured instance, by name; an unreadable one is a clear error at start-up."""
    folder = _folder(settings)
    if not folder.is_dir():
        return []
    out = []
    for home in sorted(p for p in folder.iterdir() if p.is_dir()):
        try:
            data = json.loads((home / "issuer.json").read_text(encoding="utf-8"))
            name, did = data["name"], data["did"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise AppError("bad_issuer_instance", f"{home}/issuer.json cannot be read: {e}") from None
        if name != home.name or not NAME.fullmatch(name):
            raise AppError("bad_issuer_instance", f"{home}/issuer.json names {name!r}, not its folder")
        out.append(Instance(name, IssuerProfile(did=did, name=data.get("displayName") or name),
                            KeyStore(home / "keys", settings.key_passphrase())))
    return out
