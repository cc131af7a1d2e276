"""The encrypted keystore: files, secrecy, passphrases, and the key life rules."""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nacl.pwhash import argon2id

from keys.errors import (
    BadPassphrase,
    DuplicateKey,
    KeyFileCorrupt,
    KeyMaterialError,
    KeyNotFound,
    KeyStateError,
    WrongController,
)
from keys.multikey import decode_secret_multikey
from keys.state import KeyState
from keys.store import DEFAULT_MEMLIMIT, DEFAULT_OPSLIMIT, KeyStore

DID = "did:web:hrss.example.gov.cn"
VECTOR_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_SEED = decode_secret_multikey(VECTOR_SECRET)
PASSPHRASE = "正确的马 battery staple"
# The lowest Argon2id limits libsodium allows: these tests exercise the logic, not the KDF's cost.
FAST: dict[str, Any] = {"opslimit": argon2id.OPSLIMIT_MIN, "memlimit": argon2id.MEMLIMIT_MIN}


class Clock:
    """A clock the test moves by hand (aware UTC)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


StoreFactory = Callable[..., KeyStore]


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 3, 1, 8, 0, 0, tzinfo=UTC))


@pytest.fixture
def make_store(tmp_path: Path, clock: Clock) -> StoreFactory:
    """`make_store(passphrase=..., path=...)`: a keystore in tmp_path/keystore on the test clock."""

    def make(passphrase: str = PASSPHRASE, path: Path | None = None) -> KeyStore:
        return KeyStore(path or tmp_path / "keystore", passphrase, clock=clock, **FAST)

    return make


@pytest.fixture
def store(make_store: StoreFactory) -> KeyStore:
    return make_store()


def key_file(store: KeyStore, fragment: str = "key-1") -> Path:
    return store.path / f"{fragment}.key.json"


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def write(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data), "utf-8")


# ---------------------------------------------------------------- generate, list, get, active


def test_first_generated_key_is_active_as_key_1(store: KeyStore, clock: Clock) -> None:
    record = store.generate(DID)
    assert record.key_id == f"{DID}#key-1"
    assert record.controller == DID
    assert record.state is KeyState.ACTIVE
    assert record.created_at == clock.now
    assert record.public_key_multibase.startswith("z6Mk")
    assert store.active() == record == store.get(record.key_id) == store.get("#key-1") == store.get("key-1")
    assert store.list() == [record]
    assert store.controller == DID


def test_generate_refuses_while_a_key_is_active_and_points_to_rotate(store: KeyStore) -> None:
    store.generate(DID)
    with pytest.raises(KeyStateError, match="rotate") as e:
        store.generate(DID)
    assert e.value.code == "key_state"
    assert len(store.list()) == 1


def test_empty_store_has_no_active_key(store: KeyStore) -> None:
    assert store.list() == []
    assert store.controller is None
    with pytest.raises(KeyNotFound) as e:
        store.active()
    assert e.value.code == "unknown_key"
    with pytest.raises(KeyNotFound):
        store.signer()
    with pytest.raises(KeyNotFound):
        store.rotate()


def test_unknown_key_id_is_not_found(store: KeyStore) -> None:
    store.generate(DID)
    with pytest.raises(KeyNotFound):
        store.get(f"{DID}#key-9")


def test_custom_key_ids(store: KeyStore) -> None:
    assert store.generate(DID, "#signing-2025").key_id == f"{DID}#signing-2025"
    store.retire(f"{DID}#signing-2025")
    assert store.generate(DID, f"{DID}#k2").key_id == f"{DID}#k2"
    store.retire("k2")
    with pytest.raises(DuplicateKey):
        store.generate(DID, "k2")
    with pytest.raises(WrongController):
        store.generate(DID, "did:web:other.example#k3")
    with pytest.raises(KeyMaterialError):
        store.generate(DID, "#bad/fragment")


def test_store_belongs_to_one_controller(store: KeyStore) -> None:
    store.generate(DID)
    store.retire(f"{DID}#key-1")
    with pytest.raises(WrongController) as e:
        store.generate("did:web:other.example.gov.cn")
    assert e.value.code == "wrong_controller"
    with pytest.raises(WrongController):
        store.generate("not-a-did")


def test_import_seed_signs_as_that_key(store: KeyStore, vector_pair: dict[str, str]) -> None:
    record = store.import_seed(DID, VECTOR_SEED)
    assert record.public_key_multibase == vector_pair["publicKeyMultibase"]
    signer = store.signer()
    assert signer.public_key.multibase == VECTOR_PUBLIC
    assert signer.public_key.verify(b"m", signer.sign(b"m"))


def test_a_public_key_cannot_be_imported_twice(store: KeyStore) -> None:
    store.import_seed(DID, VECTOR_SEED)
    store.retire("key-1")
    with pytest.raises(DuplicateKey):
        store.import_seed(DID, VECTOR_SEED)


# ---------------------------------------------------------------- files


def test_keystore_files_are_mode_0600_and_directory_0700(make_store: StoreFactory) -> None:
    old = os.umask(0)  # the most permissive umask: modes must not depend on it
    try:
        store = make_store()
        store.generate(DID)
        store.rotate()
    finally:
        os.umask(old)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o700
    files = [p for p in store.path.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"keystore.json", "key-1.key.json", "key-2.key.json"}
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    assert not [p for p in files if p.name.endswith(".tmp")]


def test_existing_loose_directory_is_tightened(tmp_path: Path, make_store: StoreFactory) -> None:
    path = tmp_path / "loose"
    path.mkdir(mode=0o755)
    os.chmod(path, 0o755)
    make_store(path=path).generate(DID)
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


def _secret_spellings(seed: bytes) -> list[bytes]:
    texts = [VECTOR_SECRET, seed.hex(), seed.hex().upper(), base64.b64encode(seed).decode(),
             base64.urlsafe_b64encode(seed).decode().rstrip("="), PASSPHRASE]
    return [seed, *(t.encode("utf-8") for t in texts)]


def test_seed_and_passphrase_never_appear_in_any_file(store: KeyStore) -> None:
    store.import_seed(DID, VECTOR_SEED)
    store.signer()
    store.rotate()
    store.revoke(f"{DID}#key-1", store.list()[0].created_at, "test")  # type: ignore[arg-type]
    for p in store.path.iterdir():
        content = p.read_bytes()
        for spelling in _secret_spellings(VECTOR_SEED):
            assert spelling not in content, p.name


def test_seed_never_appears_in_repr_or_str_of_anything(store: KeyStore) -> None:
    record = store.import_seed(DID, VECTOR_SEED)
    shown = [repr(store), str(store), repr(record), str(record), repr(store.list()), repr(store.signer()),
             str(store.signer())]
    for text in shown:
        for spelling in _secret_spellings(VECTOR_SEED)[1:]:
            assert spelling.decode() not in text


def test_the_key_file_holds_public_facts_and_a_sealed_seed(store: KeyStore, clock: Clock) -> None:
    store.import_seed(DID, VECTOR_SEED)
    data = read(key_file(store))
    assert data["keyId"] == f"{DID}#key-1"
    assert data["publicKeyMultibase"] == VECTOR_PUBLIC
    assert data["state"] == "active"
    assert data["createdAt"] == "2025-03-01T08:00:00Z"
    secret = data["secret"]
    assert secret["kdf"] == "argon2id" and secret["cipher"] == "xsalsa20-poly1305"
    assert (secret["opslimit"], secret["memlimit"]) == (FAST["opslimit"], FAST["memlimit"])
    assert len(base64.b64decode(secret["salt"])) == argon2id.SALTBYTES
    # 24-byte nonce + 16-byte tag + 32-byte seed
    assert len(base64.b64decode(secret["ciphertext"])) == 72


def test_each_key_has_its_own_salt(store: KeyStore) -> None:
    store.generate(DID)
    first = read(key_file(store))["secret"]["salt"]
    store.rotate()
    second = read(key_file(store, "key-2"))["secret"]["salt"]
    store_check = read(store.path / "keystore.json")["passphrase_check"]["salt"]
    assert len({first, second, store_check}) == 3


def test_default_kdf_limits_are_argon2id_interactive() -> None:
    assert DEFAULT_OPSLIMIT == argon2id.OPSLIMIT_INTERACTIVE
    assert DEFAULT_MEMLIMIT == argon2id.MEMLIMIT_INTERACTIVE


def test_out_of_range_kdf_limits_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyMaterialError):
        KeyStore(tmp_path, PASSPHRASE, opslimit=0, memlimit=FAST["memlimit"])
    with pytest.raises(KeyMaterialError):
        KeyStore(tmp_path, PASSPHRASE, opslimit=FAST["opslimit"], memlimit=2**40)


# ---------------------------------------------------------------- passphrase and tampering


def test_wrong_passphrase_is_refused(store: KeyStore, make_store: StoreFactory) -> None:
    store.generate(DID)
    with pytest.raises(BadPassphrase) as e:
        make_store("wrong passphrase").signer()
    assert e.value.code == "bad_passphrase"
    assert PASSPHRASE not in e.value.message and "wrong passphrase" not in e.value.message


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadPassphrase):
        KeyStore(tmp_path, "", **FAST)


def test_passphrase_is_unicode_normalized(make_store: StoreFactory) -> None:
    make_store("caf\u00e9 密码").generate(DID)
    assert make_store("cafe\u0301 密码").signer().sign(b"x")


def test_a_new_key_cannot_be_made_under_another_passphrase(store: KeyStore, make_store: StoreFactory) -> None:
    store.generate(DID)
    store.retire("key-1")  # no sealed seed is left: the store's own check still guards
    with pytest.raises(BadPassphrase):
        make_store("another passphrase").generate(DID)
    with pytest.raises(BadPassphrase):
        make_store("another passphrase").rotate()


def test_tampered_ciphertext_fails_cleanly(store: KeyStore) -> None:
    store.generate(DID)
    data = read(key_file(store))
    raw = bytearray(base64.b64decode(data["secret"]["ciphertext"]))
    raw[-1] ^= 0x01
    data["secret"]["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    write(key_file(store), data)
    with pytest.raises(KeyFileCorrupt, match="altered") as e:
        store.signer()
    assert e.value.code == "keystore_corrupt"


def test_tampered_salt_fails_cleanly(store: KeyStore) -> None:
    store.generate(DID)
    data = read(key_file(store))
    data["secret"]["salt"] = base64.b64encode(bytes(argon2id.SALTBYTES)).decode()
    write(key_file(store), data)
    with pytest.raises(BadPassphrase):  # indistinguishable from a wrong passphrase, and refused
        store.signer()


def test_ciphertext_swapped_from_another_key_is_detected(make_store: StoreFactory, tmp_path: Path) -> None:
    a = make_store(path=tmp_path / "a")
    b = make_store(path=tmp_path / "b")
    a.generate(DID)
    b.generate(DID)
    data_b = read(key_file(b))
    data_b["secret"] = read(key_file(a))["secret"]
    write(key_file(b), data_b)
    with pytest.raises(KeyFileCorrupt, match="does not belong"):
        b.signer()


def test_huge_kdf_limits_in_a_file_are_refused_before_deriving(store: KeyStore) -> None:
    store.generate(DID)
    data = read(key_file(store))
    data["secret"]["memlimit"] = 2**42
    write(key_file(store), data)
    with pytest.raises(KeyFileCorrupt, match="out of range"):
        store.signer()


@pytest.mark.parametrize("content", ["not json", "[]", '{"format": "other"}', "{}"])
def test_unreadable_key_file_fails_cleanly(store: KeyStore, content: str) -> None:
    store.generate(DID)
    key_file(store).write_text(content)
    with pytest.raises(KeyFileCorrupt):
        store.list()


def test_key_file_with_invalid_record_fails_cleanly(store: KeyStore) -> None:
    store.generate(DID)
    data = read(key_file(store))
    data["state"] = "revoked"  # revoked without a compromise time
    write(key_file(store), data)
    with pytest.raises(KeyFileCorrupt):
        store.list()


def test_keystore_cannot_be_pickled_and_hides_the_passphrase(store: KeyStore) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(store)
    assert PASSPHRASE not in repr(store) and PASSPHRASE not in str(store)


# ---------------------------------------------------------------- rotate, retire, revoke


def test_rotate_makes_a_new_active_key_and_retires_the_previous(store: KeyStore, clock: Clock) -> None:
    first = store.generate(DID)
    when = clock.advance(days=30)
    new = store.rotate()
    assert new.key_id == f"{DID}#key-2" and new.state is KeyState.ACTIVE and new.created_at == when
    old = store.get(first.key_id)
    assert old.state is KeyState.RETIRED and old.retired_at == when
    assert store.active() == new
    assert [r.key_id for r in store.list()] == [first.key_id, new.key_id]
    assert store.signer().public_key.multibase == new.public_key_multibase


def test_rotate_with_no_active_key_just_makes_one(store: KeyStore, clock: Clock) -> None:
    store.generate(DID)
    store.revoke("key-1", clock.now, "lost laptop")
    new = store.rotate()
    assert new.key_id == f"{DID}#key-2" and store.active() == new
    assert store.get("key-1").state is KeyState.REVOKED


def test_interrupted_rotation_leaves_an_active_key_and_is_completed(store: KeyStore) -> None:
    store.generate(DID)
    before = key_file(store).read_bytes()
    store.rotate()
    # As if the process died after writing key-2 and before retiring key-1: both are active on disk.
    key_file(store).write_bytes(before)
    assert [r.state for r in store.list()] == [KeyState.ACTIVE, KeyState.ACTIVE]
    assert store.active().key_id == f"{DID}#key-2"  # the newest one signs
    store.rotate()  # the next change finishes the old rotation first
    states = {r.fragment: r.state for r in store.list()}
    assert states == {"key-1": KeyState.RETIRED, "key-2": KeyState.RETIRED, "key-3": KeyState.ACTIVE}


def test_retired_key_cannot_sign(store: KeyStore) -> None:
    store.generate(DID)
    store.rotate()
    with pytest.raises(KeyStateError, match="retired") as e:
        store.signer(f"{DID}#key-1")
    assert e.value.code == "key_state"


def test_retiring_erases_the_encrypted_seed(store: KeyStore) -> None:
    store.generate(DID)
    assert read(key_file(store))["secret"] is not None
    retired = store.retire(f"{DID}#key-1")
    assert retired.state is KeyState.RETIRED
    assert read(key_file(store))["secret"] is None
    with pytest.raises(KeyNotFound):
        store.active()


def test_retired_key_cannot_be_retired_again(store: KeyStore) -> None:
    store.generate(DID)
    store.retire("key-1")
    with pytest.raises(KeyStateError):
        store.retire("key-1")


def test_revoked_key_cannot_sign_and_keeps_its_compromise_time(store: KeyStore, clock: Clock) -> None:
    store.generate(DID)
    compromised = clock.now + timedelta(hours=1)
    clock.advance(days=1)
    revoked = store.revoke(f"{DID}#key-1", compromised, "private key leaked")
    assert revoked.state is KeyState.REVOKED
    assert revoked.compromised_at == compromised and revoked.revoked_at == clock.now
    assert revoked.revocation_reason == "private key leaked"
    assert store.get("key-1") == revoked
    data = read(key_file(store))
    assert data["compromisedAt"] == "2025-03-01T09:00:00Z" and data["secret"] is None
    with pytest.raises(KeyStateError):
        store.signer(f"{DID}#key-1")


def test_revoking_a_retired_key(store: KeyStore, clock: Clock) -> None:
    store.generate(DID)
    store.rotate()
    revoked = store.revoke("key-1", clock.now, "old backup stolen")
    assert revoked.state is KeyState.REVOKED and revoked.retired_at is not None
    assert store.active().fragment == "key-2"


def test_compromise_in_the_future_is_refused(store: KeyStore, clock: Clock) -> None:
    store.generate(DID)
    with pytest.raises(KeyStateError):
        store.revoke("key-1", clock.now + timedelta(minutes=1), "early")


def test_revoked_key_cannot_be_retired_or_made_active(store: KeyStore, clock: Clock) -> None:
    store.generate(DID)
    store.revoke("key-1", clock.now, "leak")
    with pytest.raises(KeyStateError):
        store.retire("key-1")
    with pytest.raises(KeyStateError):
        store.signer("key-1")
    assert store.get("key-1").state is KeyState.REVOKED


def test_revoking_needs_no_passphrase(store: KeyStore, make_store: StoreFactory, clock: Clock) -> None:
    store.generate(DID)
    assert make_store("forgotten").revoke("key-1", clock.now, "leak").state is KeyState.REVOKED


def test_key_ids_are_never_reused(store: KeyStore, clock: Clock) -> None:
    store.generate(DID)
    store.revoke("key-1", clock.now, "leak")
    assert store.generate(DID).key_id == f"{DID}#key-2"


def test_nothing_is_logged_or_printed(make_store: StoreFactory, clock: Clock,
                                      caplog: pytest.LogCaptureFixture,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    store = make_store()
    store.import_seed(DID, VECTOR_SEED)
    store.signer().sign(b"x")
    store.rotate()
    store.revoke("key-1", clock.now, "leak")
    with pytest.raises(BadPassphrase):
        make_store("wrong").signer()
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert caplog.records == []
