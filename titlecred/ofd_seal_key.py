"""The issuer's software SM2 seal key for sealed OFDs (development and small deployments).

Stored as TITLECRED_HOME/keys/ofd-seal-sm2.json: the public key in the clear, the private key
encrypted with the keystore passphrase (Argon2id → XSalsa20-Poly1305, as the Ed25519 keys), file mode
0600. Nothing secret is printed or logged. A production deployment plugs a certified signing device or
service in through `printing.ofd.seal.SealSigner` instead.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from keys.store import DEFAULT_MEMLIMIT, DEFAULT_OPSLIMIT, _Sealer, atomic_write
from printing.ofd.seal import SoftwareSm2Signer
from titlecred.settings import Settings

FILE_NAME = "ofd-seal-sm2.json"


def key_path(settings: Settings) -> Path:
    return settings.keys_dir / FILE_NAME


def _sealer(settings: Settings) -> _Sealer:
    passphrase = unicodedata.normalize("NFC", settings.key_passphrase()).encode("utf-8")
    return _Sealer(passphrase, DEFAULT_OPSLIMIT, DEFAULT_MEMLIMIT)


def load_signer(settings: Settings, seal_name: str, *, create: bool = True) -> SoftwareSm2Signer:
    """The seal signer of this home (created on first use when `create`)."""
    path = key_path(settings)
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        secret = _sealer(settings).open(data["sealed"], str(path))
        assert secret is not None
        return SoftwareSm2Signer(secret, seal_name)
    if not create:
        raise FileNotFoundError(path)
    secret = SoftwareSm2Signer.generate_key()
    signer = SoftwareSm2Signer(secret, seal_name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    record = {"algorithm": "SM2", "publicKey": "04" + signer.public_key, "sealed": _sealer(settings).seal(secret)}
    atomic_write(path, json.dumps(record, indent=2).encode("utf-8"), 0o600)
    return signer


def trusted_seal_keys(settings: Settings) -> frozenset[str]:
    """Public seal keys this home trusts (its own), as 04‖x‖y hex."""
    path = key_path(settings)
    if not path.exists():
        return frozenset()
    try:
        return frozenset({str(json.loads(path.read_text(encoding="utf-8"))["publicKey"]).lower()})
    except (OSError, ValueError, KeyError):
        return frozenset()
