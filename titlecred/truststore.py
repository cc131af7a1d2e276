"""The relying party's trust store: issuers pinned once (`titlecred trust add` / `trust import`), used offline
from then on by `titlecred verify`.

One JSON file per issuer under `$TITLECRED_TRUST_DIR` (default `$XDG_CONFIG_HOME/titlecred/trust`, i.e.
`~/.config/titlecred/trust`):

    {"did", "name", "pinnedAt", "refreshedAt", "source", "didDocument",
     "bundle": {"date", "signedBy", "statusLists", "issuanceLog"} (when pinned from a bundle)}

A pin changes only by an explicit, confirmed command: `key_changes` lists what differs between the pinned
DID document and a new one (a new key, a key gone, a changed public key, a new state or compromise time),
and the CLI shows it and asks before accepting.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keys.store import atomic_write
from titlecred.errors import AppError


def trust_dir() -> Path:
    env = os.environ.get("TITLECRED_TRUST_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "titlecred" / "trust"


@dataclass
class Pin:
    did: str
    did_document: dict[str, Any]
    pinned_at: str
    source: str
    name: str = ""
    refreshed_at: str | None = None
    bundle: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"did": self.did, "name": self.name, "pinnedAt": self.pinned_at,
                               "refreshedAt": self.refreshed_at, "source": self.source,
                               "didDocument": self.did_document}
        if self.bundle is not None:
            out["bundle"] = self.bundle
        return out

    @classmethod
    def from_json(cls, data: Any) -> Pin:
        if not isinstance(data, dict) or not isinstance(data.get("did"), str) \
                or not isinstance(data.get("didDocument"), dict):
            raise AppError("invalid_trust_store", "a trust store entry is damaged")
        return cls(did=data["did"], did_document=data["didDocument"], pinned_at=str(data.get("pinnedAt", "")),
                   source=str(data.get("source", "")), name=str(data.get("name") or ""),
                   refreshed_at=data.get("refreshedAt"), bundle=data.get("bundle"))


def _file(did: str, folder: Path | None = None) -> Path:
    return (folder or trust_dir()) / (hashlib.sha256(did.encode("utf-8")).hexdigest()[:24] + ".json")


def load_all(folder: Path | None = None) -> list[Pin]:
    folder = folder or trust_dir()
    if not folder.is_dir():
        return []
    pins = []
    for path in sorted(folder.glob("*.json")):
        try:
            pins.append(Pin.from_json(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as e:
            raise AppError("invalid_trust_store", f"trust store entry {path} is damaged: {e}") from None
    return sorted(pins, key=lambda p: p.did)


def get(did: str, folder: Path | None = None) -> Pin | None:
    path = _file(did, folder)
    if not path.exists():
        return None
    try:
        return Pin.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as e:
        raise AppError("invalid_trust_store", f"trust store entry {path} is damaged: {e}") from None


def save(pin: Pin, folder: Path | None = None) -> Path:
    path = _file(pin.did, folder)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, (json.dumps(pin.to_json(), ensure_ascii=False, indent=2) + "\n").encode("utf-8"), mode=0o644)
    return path


def remove(did: str, folder: Path | None = None) -> bool:
    path = _file(did, folder)
    if not path.exists():
        return False
    path.unlink()
    return True


def keys_of(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each verification method of a DID document: its public key, state and compromise time."""
    out = {}
    methods = doc.get("verificationMethod")
    for vm in methods if isinstance(methods, list) else []:
        if isinstance(vm, dict) and isinstance(vm.get("id"), str):
            vm_id = vm["id"] if not vm["id"].startswith("#") else f"{doc.get('id')}{vm['id']}"
            public = vm.get("publicKeyMultibase") or json.dumps(vm.get("publicKeyJwk"), sort_keys=True)
            out[vm_id] = {"publicKey": public,
                          "state": vm.get("keyState", "active"), "revoked": vm.get("revoked")}
    return out


def key_lines(doc: dict[str, Any]) -> list[str]:
    lines = []
    for vm_id, k in keys_of(doc).items():
        extra = f", compromised at {k['revoked']}" if k.get("revoked") else ""
        lines.append(f"  {vm_id}  {k['state']}{extra}  {k['publicKey']}")
    return lines


def key_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two DID documents' keys, one line each (empty: the same keys and states)."""
    a, b = keys_of(old), keys_of(new)
    changes = []
    for vm_id in sorted(set(a) | set(b)):
        if vm_id not in a:
            changes.append(f"+ new key {vm_id} ({b[vm_id]['state']}) {b[vm_id]['publicKey']}")
        elif vm_id not in b:
            changes.append(f"- key {vm_id} is no longer published")
        else:
            if a[vm_id]["publicKey"] != b[vm_id]["publicKey"]:
                changes.append(f"! key {vm_id} now has ANOTHER PUBLIC KEY: {b[vm_id]['publicKey']}")
            if a[vm_id]["state"] != b[vm_id]["state"] or a[vm_id].get("revoked") != b[vm_id].get("revoked"):
                when = f", compromised at {b[vm_id]['revoked']}" if b[vm_id].get("revoked") else ""
                changes.append(f"~ key {vm_id}: {a[vm_id]['state']} -> {b[vm_id]['state']}{when}")
    return changes
