"""One settings object, read from the environment, with defaults that make the demo work.

TITLECRED_HOME         folder for keys, the issuer profile and the SQLite database (default ~/.titlecred)
TITLECRED_DATABASE_URL database (default: SQLite file in TITLECRED_HOME)
TITLECRED_KEY_PASSPHRASE passphrase of the keystore; without it a development passphrase is created
                       once in TITLECRED_HOME/secrets (fine for a demo, not for production)
TITLECRED_BASE_URL     public base URL of the service (status lists, verification page links)
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    base_url: str
    passphrase_from_env: str | None

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def issuer_file(self) -> Path:
        return self.home / "issuer.json"

    def key_passphrase(self) -> str:
        if self.passphrase_from_env:
            return self.passphrase_from_env
        path = self.home / "secrets" / "key-passphrase"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32))
            print(f"titlecred: created a development key passphrase in {path}; "
                  "set TITLECRED_KEY_PASSPHRASE in production", file=sys.stderr)
        return path.read_text().strip()


def load_settings() -> Settings:
    home = Path(os.environ.get("TITLECRED_HOME") or Path.home() / ".titlecred").expanduser()
    db = os.environ.get("TITLECRED_DATABASE_URL") or f"sqlite:///{home / 'titlecred.db'}"
    base = os.environ.get("TITLECRED_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return Settings(home=home, database_url=db, base_url=base,
                    passphrase_from_env=os.environ.get("TITLECRED_KEY_PASSPHRASE"))
