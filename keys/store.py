"""The issuer's keystore: Ed25519 keys encrypted at rest, one JSON file per key, with their life state.

Layout of the keystore directory (mode 0700; every file mode 0600, written atomically):

- `keystore.json`: the controller DID the store belongs to (one store, one issuer) and a passphrase
  check (Argon2id salt, KDF limits, a SecretBox of a fixed text), so every key of a store is made under
  the same passphrase.
- `<fragment>.key.json`: one key: its KeyRecord fields, public key, a sequence number, and, while the
  key is active, `secret`: Argon2id salt and limits (a random salt per key), a passphrase check and the
  SecretBox (XSalsa20-Poly1305) ciphertext of the 32-byte seed.

Policy, and why:
- `generate` makes an ACTIVE key only when the store has no active key; otherwise it refuses and points
  to `rotate`, so there is never a second signing key by accident.
- `rotate` writes the new ACTIVE key first and only then retires the previous one: a crash in between
  leaves two active keys (the newest is used, and the next change retires the older), never none.
- Retiring or revoking a key erases its encrypted seed from its file: such a key never signs again, so
  keeping it would only let a later thief of the store and passphrase forge backdated credentials that
  still verify. (Best effort: the file is replaced, old disk blocks are not scrubbed.)
- Retiring and revoking need no passphrase, so a compromise can be answered even without it.
- Key ids are never reused, not even those of revoked keys: old credentials name their key by id.

This module must never write, log or print secret material: no seed, secret multibase, passphrase or
derived key appears in any file (other than as ciphertext), message, repr or exception. It does no
logging at all.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import stat
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import nacl.utils
from nacl.exceptions import CryptoError
from nacl.pwhash import argon2id
from nacl.secret import SecretBox

from keys import state as st
from keys.errors import (
    BadPassphrase,
    DuplicateKey,
    KeyFileCorrupt,
    KeyMaterialError,
    KeyNotFound,
    KeyStateError,
    WrongController,
)
from keys.material import SigningKey
from keys.state import KeyRecord, KeyState, format_utc, parse_utc

STORE_FORMAT = "titlecred-keystore/1"
KEY_FORMAT = "titlecred-key/1"
STORE_FILE = "keystore.json"
KEY_SUFFIX = ".key.json"
LOCK_FILE = ".lock"

DEFAULT_OPSLIMIT: int = argon2id.OPSLIMIT_INTERACTIVE
DEFAULT_MEMLIMIT: int = argon2id.MEMLIMIT_INTERACTIVE
# Limits read from a file are bounded too: a tampered file must not make us burn minutes or gigabytes.
MAX_OPSLIMIT = 32
MAX_MEMLIMIT: int = argon2id.MEMLIMIT_SENSITIVE

_CHECK_TEXT = b"titlecred keystore passphrase check v1"
_FRAGMENT = re.compile(r"[A-Za-z0-9._~-]{1,64}")
_DEFAULT_FRAGMENT = re.compile(r"key-([1-9][0-9]{0,8})")


# One loaded key file: its record, its raw JSON, its sequence number. (Aliases: `list` is a method below.)
_Entry = tuple[KeyRecord, dict[str, Any], int]
_Entries = list[_Entry]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _unb64(s: Any, what: str, where: str) -> bytes:
    if not isinstance(s, str):
        raise KeyFileCorrupt(f"{where}: {what} is missing")
    try:
        return base64.b64decode(s, validate=True)
    except ValueError as e:
        raise KeyFileCorrupt(f"{where}: {what} is not base64") from e


_write_count = 0


def writes() -> int:
    """How many files this process has written through `atomic_write`: a cache of keystore contents
    compares it to see its own process's changes at once, without a system call."""
    return _write_count


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a torn one."""
    global _write_count
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _write_count += 1  # a lost update between two threads still changes the count
    # The rename itself is durable only once the directory is synced.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _check_limits(opslimit: Any, memlimit: Any, where: str) -> tuple[int, int]:
    ok = (isinstance(opslimit, int) and not isinstance(opslimit, bool)
          and isinstance(memlimit, int) and not isinstance(memlimit, bool)
          and argon2id.OPSLIMIT_MIN <= opslimit <= MAX_OPSLIMIT
          and argon2id.MEMLIMIT_MIN <= memlimit <= MAX_MEMLIMIT)
    if not ok:
        raise KeyFileCorrupt(f"{where}: Argon2id limits out of range (ops {argon2id.OPSLIMIT_MIN}.."
                             f"{MAX_OPSLIMIT}, memory {argon2id.MEMLIMIT_MIN}..{MAX_MEMLIMIT} bytes)")
    return opslimit, memlimit


class _Sealer:
    """Passphrase → Argon2id → SecretBox, with a check box to tell a wrong passphrase from damage."""

    def __init__(self, passphrase: bytes, opslimit: int, memlimit: int) -> None:
        self._passphrase = passphrase
        self.opslimit = opslimit
        self.memlimit = memlimit

    def _box(self, salt: bytes, opslimit: int, memlimit: int) -> SecretBox:
        key = argon2id.kdf(SecretBox.KEY_SIZE, self._passphrase, salt, opslimit=opslimit, memlimit=memlimit)
        return SecretBox(key)

    def seal(self, plaintext: bytes | None) -> dict[str, Any]:
        salt = nacl.utils.random(argon2id.SALTBYTES)
        box = self._box(salt, self.opslimit, self.memlimit)
        out: dict[str, Any] = {
            "kdf": "argon2id",
            "opslimit": self.opslimit,
            "memlimit": self.memlimit,
            "salt": _b64(salt),
            "cipher": "xsalsa20-poly1305",
            "check": _b64(bytes(box.encrypt(_CHECK_TEXT))),
        }
        if plaintext is not None:
            out["ciphertext"] = _b64(bytes(box.encrypt(plaintext)))
        return out

    def open(self, sealed: Any, where: str) -> bytes | None:
        """The plaintext (None when only a check was sealed); BadPassphrase or KeyFileCorrupt otherwise."""
        if not isinstance(sealed, dict) or sealed.get("kdf") != "argon2id" \
                or sealed.get("cipher") != "xsalsa20-poly1305":
            raise KeyFileCorrupt(f"{where}: unknown encryption parameters")
        opslimit, memlimit = _check_limits(sealed.get("opslimit"), sealed.get("memlimit"), where)
        salt = _unb64(sealed.get("salt"), "the salt", where)
        if len(salt) != argon2id.SALTBYTES:
            raise KeyFileCorrupt(f"{where}: the salt has the wrong length")
        check = _unb64(sealed.get("check"), "the passphrase check", where)
        box = self._box(salt, opslimit, memlimit)
        try:
            if box.decrypt(check) != _CHECK_TEXT:
                raise KeyFileCorrupt(f"{where}: the passphrase check holds unexpected content")
        except CryptoError as e:
            raise BadPassphrase("the keystore passphrase is wrong") from e
        if "ciphertext" not in sealed:
            return None
        ciphertext = _unb64(sealed.get("ciphertext"), "the ciphertext", where)
        try:
            return bytes(box.decrypt(ciphertext))
        except CryptoError as e:
            # The passphrase opened the check, so the seed's ciphertext itself was altered.
            raise KeyFileCorrupt(f"{where}: the encrypted seed was altered or damaged") from e


class KeyStore:
    """A directory of encrypted Ed25519 issuer keys for one controller DID (see the module docstring).

    `opslimit`/`memlimit` are the Argon2id limits for keys written from now on (each key file records
    its own limits, so changing them does not lock older keys out); `clock` gives the current time.
    """

    def __init__(
        self,
        path: Path,
        passphrase: str,
        *,
        opslimit: int = DEFAULT_OPSLIMIT,
        memlimit: int = DEFAULT_MEMLIMIT,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not isinstance(passphrase, str) or not passphrase:
            raise BadPassphrase("the keystore passphrase is empty")
        try:
            _check_limits(opslimit, memlimit, "keystore settings")
        except KeyFileCorrupt as e:
            raise KeyMaterialError(e.message) from None
        self.path = Path(path)
        # NFC: the same passphrase typed on two systems may arrive composed or decomposed.
        self._sealer = _Sealer(unicodedata.normalize("NFC", passphrase).encode("utf-8"), opslimit, memlimit)
        self._clock = clock

    def __repr__(self) -> str:
        return f"KeyStore({str(self.path)!r})"

    __str__ = __repr__

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a KeyStore cannot be pickled or copied: it holds the passphrase")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a KeyStore cannot be pickled or copied: it holds the passphrase")

    # ------------------------------------------------------------------ reading

    @property
    def controller(self) -> str | None:
        """The DID this store's keys belong to (None for a store with no key yet)."""
        info = self._read_store_file()
        if info is not None:
            return str(info["controller"])
        records = self.list()
        return records[0].controller if records else None

    def list(self) -> list[KeyRecord]:
        """Every key, oldest first, with its state. Never any private material."""
        return [record for record, _, _ in self._load_all()]

    def get(self, key_id: str) -> KeyRecord:
        """The key `key_id` (a full id, or '#key-1' / 'key-1' within this store's DID)."""
        return self._find(key_id)[0]

    def active(self) -> KeyRecord:
        """The active key (the newest, should an interrupted rotation have left two); KeyNotFound if none."""
        actives = [(seq, r) for r, _, seq in self._load_all() if r.state is KeyState.ACTIVE]
        if not actives:
            raise KeyNotFound(f"the keystore {self.path} has no active key; run generate or rotate")
        return max(actives, key=lambda pair: pair[0])[1]

    def signer(self, key_id: str | None = None) -> SigningKey:
        """Decrypt the signing key `key_id` (default: the active key). Only an active key signs."""
        record = self.active() if key_id is None else self.get(key_id)
        if not st.may_sign(record):
            raise KeyStateError(f"key {record.key_id} is {record.state.value}: it signs no more")
        _, data, _ = self._find(record.key_id)
        where = f"key file of {record.key_id}"
        seed = self._sealer.open(data.get("secret"), where)
        if seed is None or len(seed) != 32:
            raise KeyFileCorrupt(f"{where}: it holds no usable encrypted seed")
        signer = SigningKey.from_seed(seed)
        # Catches a ciphertext swapped in from another key file sealed under the same passphrase.
        if signer.public_key.multibase != record.public_key_multibase:
            raise KeyFileCorrupt(f"{where}: the encrypted seed does not belong to its public key")
        return signer

    # ------------------------------------------------------------------ changing

    def generate(self, controller: str, key_id: str | None = None) -> KeyRecord:
        """Make the store's active key. Refuses while an active key exists: use `rotate` to replace it."""
        return self._add(controller, nacl.utils.random(32), key_id)

    def import_seed(self, controller: str, seed: bytes, key_id: str | None = None) -> KeyRecord:
        """Like `generate`, with a given 32-byte seed (for tests and demos; a real key is generated)."""
        if not isinstance(seed, bytes | bytearray) or len(seed) != 32:
            raise KeyMaterialError("a seed is 32 bytes")
        return self._add(controller, bytes(seed), key_id)

    def rotate(self) -> KeyRecord:
        """A new active key; then the previous active key (if any) becomes retired. Returns the new key."""
        with self._locked():
            loaded = self._load_all()
            if not loaded:
                raise KeyNotFound(f"the keystore {self.path} is empty; generate its first key")
            controller = self._require_store_file(loaded)
            previous = [(r, d) for r, d, _ in loaded if r.state is KeyState.ACTIVE]
            new = self._create(controller, nacl.utils.random(32), None, loaded)
            now = self._clock()
            for record, data in previous:
                self._write_key(st.retire(record, now), data["sequence"])
            return new

    def retire(self, key_id: str) -> KeyRecord:
        """ACTIVE → RETIRED: it signs no more (its encrypted seed is erased), and still verifies."""
        with self._locked():
            record, data, _ = self._find(key_id)
            retired = st.retire(record, self._clock())
            self._write_key(retired, data["sequence"])
            return retired

    def revoke(self, key_id: str, compromised_at: datetime, reason: str) -> KeyRecord:
        """Mark a key compromised since `compromised_at` (aware datetime, not in the future)."""
        with self._locked():
            record, data, _ = self._find(key_id)
            revoked = st.revoke(record, compromised_at, self._clock(), reason)
            self._write_key(revoked, data["sequence"])
            return revoked

    # ------------------------------------------------------------------ internals

    def _add(self, controller: str, seed: bytes, key_id: str | None) -> KeyRecord:
        if not isinstance(controller, str) or not controller.startswith("did:") or "#" in controller:
            raise WrongController(f"{controller!r} is not a DID")
        with self._locked():
            loaded = self._load_all()
            info = self._read_store_file()
            if info is None and loaded:
                raise KeyFileCorrupt(f"{self.path / STORE_FILE} is missing although the store holds keys")
            if info is not None:
                if info["controller"] != controller:
                    raise WrongController(f"this keystore belongs to {info['controller']}, not {controller}")
                self._sealer.open(info.get("passphrase_check"), str(self.path / STORE_FILE))
            actives = [r for r, _, _ in loaded if r.state is KeyState.ACTIVE]
            if actives:
                raise KeyStateError(f"key {actives[-1].key_id} is already active; use rotate to replace it")
            if info is None:
                self._write_store_file(controller)
            return self._create(controller, seed, key_id, loaded)

    def _create(self, controller: str, seed: bytes, key_id: str | None,
                loaded: _Entries) -> KeyRecord:
        signer = SigningKey.from_seed(seed)
        full_id = self._full_id(controller, key_id, loaded)
        if any(r.key_id == full_id for r, _, _ in loaded):
            raise DuplicateKey(f"key id {full_id} is taken (key ids are never reused)")
        public = signer.public_key.multibase
        if any(r.public_key_multibase == public for r, _, _ in loaded):
            raise DuplicateKey(f"the keystore already holds public key {public}")
        record = KeyRecord(key_id=full_id, controller=controller, public_key_multibase=public,
                           state=KeyState.ACTIVE, created_at=self._clock())
        sequence = max((seq for _, _, seq in loaded), default=0) + 1
        self._write_key(record, sequence, self._sealer.seal(seed))
        return record

    def _full_id(self, controller: str, key_id: str | None,
                 loaded: _Entries) -> str:
        if key_id is None:
            used = [int(m.group(1)) for r, _, _ in loaded if (m := _DEFAULT_FRAGMENT.fullmatch(r.fragment))]
            return f"{controller}#key-{max(used, default=0) + 1}"
        if key_id.startswith("did:"):
            if not key_id.startswith(controller + "#"):
                raise WrongController(f"key id {key_id} does not lie under {controller}")
            fragment = key_id[len(controller) + 1:]
        else:
            fragment = key_id.removeprefix("#")
        if not _FRAGMENT.fullmatch(fragment):
            raise KeyMaterialError(f"key fragment {fragment!r} must be 1-64 of A-Z a-z 0-9 . _ ~ -")
        return f"{controller}#{fragment}"

    def _find(self, key_id: str) -> _Entry:
        loaded = self._load_all()
        wanted = key_id
        if isinstance(key_id, str) and not key_id.startswith("did:") and loaded:
            wanted = f"{loaded[0][0].controller}#{key_id.removeprefix('#')}"
        for entry in loaded:
            if entry[0].key_id == wanted:
                return entry
        raise KeyNotFound(f"the keystore has no key {key_id}")

    def _load_all(self) -> _Entries:
        if not self.path.is_dir():
            return []
        out = [self._read_key(p) for p in sorted(self.path.glob("*" + KEY_SUFFIX))]
        out.sort(key=lambda entry: entry[2])
        return out

    def _read_json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise KeyFileCorrupt(f"{path} is unreadable or not JSON") from e

    def _read_key(self, path: Path) -> _Entry:
        data = self._read_json(path)
        if not isinstance(data, dict) or data.get("format") != KEY_FORMAT:
            raise KeyFileCorrupt(f"{path} is not a {KEY_FORMAT} key file")
        sequence = data.get("sequence")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
            raise KeyFileCorrupt(f"{path}: bad sequence number")

        def when(name: str) -> datetime | None:
            value = data.get(name)
            if value is None:
                return None
            try:
                return parse_utc(value)
            except KeyMaterialError as e:
                raise KeyFileCorrupt(f"{path}: {name} is not YYYY-MM-DDTHH:MM:SSZ") from e

        try:
            record = KeyRecord(
                key_id=data["keyId"],
                controller=data["controller"],
                public_key_multibase=data["publicKeyMultibase"],
                state=KeyState(data["state"]),
                created_at=when("createdAt"),
                retired_at=when("retiredAt"),
                revoked_at=when("revokedAt"),
                compromised_at=when("compromisedAt"),
                revocation_reason=data.get("revocationReason"),
            )
        except (KeyError, ValueError, TypeError, KeyMaterialError) as e:
            raise KeyFileCorrupt(f"{path}: its key record is invalid") from e
        return record, data, sequence

    def _write_key(self, record: KeyRecord, sequence: int, secret: dict[str, Any] | None = None) -> None:
        """Write a key file. `secret` is kept only for an active key: any other state drops it."""
        if record.state is not KeyState.ACTIVE:
            secret = None
        data: dict[str, Any] = {
            "format": KEY_FORMAT,
            "keyId": record.key_id,
            "controller": record.controller,
            "publicKeyMultibase": record.public_key_multibase,
            "state": record.state.value,
            "createdAt": format_utc(record.created_at) if record.created_at else None,
            "retiredAt": format_utc(record.retired_at) if record.retired_at else None,
            "revokedAt": format_utc(record.revoked_at) if record.revoked_at else None,
            "compromisedAt": format_utc(record.compromised_at) if record.compromised_at else None,
            "revocationReason": record.revocation_reason,
            "sequence": sequence,
            "secret": secret,
        }
        if record.state is KeyState.ACTIVE and secret is None:
            # An active key is rewritten only on creation; keep whatever secret its file already has.
            raise KeyStateError(f"refusing to write active key {record.key_id} without its encrypted seed")
        self._ensure_dir()
        atomic_write(self.path / (record.fragment + KEY_SUFFIX),
                     (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))

    def _read_store_file(self) -> dict[str, Any] | None:
        path = self.path / STORE_FILE
        if not path.exists():
            return None
        data = self._read_json(path)
        if not isinstance(data, dict) or data.get("format") != STORE_FORMAT \
                or not isinstance(data.get("controller"), str):
            raise KeyFileCorrupt(f"{path} is not a {STORE_FORMAT} file")
        return data

    def _require_store_file(self, loaded: _Entries) -> str:
        info = self._read_store_file()
        if info is None:
            raise KeyFileCorrupt(f"{self.path / STORE_FILE} is missing although the store holds keys")
        self._sealer.open(info.get("passphrase_check"), str(self.path / STORE_FILE))
        controller = str(info["controller"])
        if any(r.controller != controller for r, _, _ in loaded):
            raise KeyFileCorrupt(f"the keystore {self.path} holds keys of another controller than "
                                 f"{controller}")
        return controller

    def _write_store_file(self, controller: str) -> None:
        self._ensure_dir()
        data = {"format": STORE_FORMAT, "controller": controller, "passphrase_check": self._sealer.seal(None)}
        atomic_write(self.path / STORE_FILE, (json.dumps(data, indent=2) + "\n").encode("utf-8"))

    def _ensure_dir(self) -> None:
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask, and an existing directory may be looser than it should.
        if stat.S_IMODE(self.path.stat().st_mode) != 0o700:
            os.chmod(self.path, 0o700)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive lock across processes, so that two changes cannot both take 'key-3'."""
        self._ensure_dir()
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._repair()
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _repair(self) -> None:
        """Finish a rotation that was interrupted after the new key was written: retire the older actives."""
        actives = [(r, d) for r, d, _ in self._load_all() if r.state is KeyState.ACTIVE]
        now = self._clock()
        for record, data in actives[:-1]:
            self._write_key(st.retire(record, now), data["sequence"])
