"""Verification by strangers (issue 15): with only a certificate PDF and the service over real HTTPS on
loopback, `titlecred verify --online` says valid; with only the signed bundle and no network, valid as of
the bundle's date; a revoked certificate is revoked both ways; the trust store pins, refreshes (a key change
must be confirmed) and imports bundles.

The service is the real app under uvicorn with TLS (a certificate made here for `localhost`, trusted through
--ca-bundle / TITLECRED_CA_BUNDLE); its DID is did:web:localhost%3A<port>, which resolves to that server.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from nacl.pwhash import argon2id
from registry.kit import PASSPHRASE, World, unit_code
from registry.web.browser import _free_port
from sqlalchemy import Engine
from typer.testing import CliRunner

from issuer.credential import IssuerProfile
from keys.store import KeyStore
from titlecred.api.app import create_app
from titlecred.cli import app as cli
from titlecred.issuer_profile import save_profile
from titlecred.services.context import Registry
from titlecred.settings import Settings

runner = CliRunner()


@pytest.fixture
def port() -> int:
    return _free_port()


@pytest.fixture
def home(tmp_path: Path, port: int) -> Path:
    """A bureau whose did:web names the test server (host localhost, the port %3A-encoded)."""
    home = tmp_path / "home"
    home.mkdir()
    settings = Settings(home=home, database_url="sqlite://", base_url=f"https://localhost:{port}",
                        passphrase_from_env=PASSPHRASE)
    did = f"did:web:localhost%3A{port}"
    save_profile(settings, IssuerProfile(did=did, name="示例市人力资源和社会保障局", unit_code=unit_code(1)))
    KeyStore(settings.keys_dir, PASSPHRASE, opslimit=argon2id.OPSLIMIT_MIN,
             memlimit=argon2id.MEMLIMIT_MIN).generate(did)
    return home


@pytest.fixture
def settings(home: Path, db_url: tuple[str, str | None], port: int) -> Settings:
    return Settings(home=home, database_url=db_url[0], base_url=f"https://localhost:{port}",
                    passphrase_from_env=PASSPHRASE)


def make_tls(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost (its own CA), and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "tls.pem", folder / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Served:
    def __init__(self, url: str, ca: Path, server: uvicorn.Server, thread: threading.Thread) -> None:
        self.url, self.ca, self.server, self.thread = url, ca, server, thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def https(world: World, settings: Settings, registry: Registry, engine: Engine, port: int,
          tmp_path: Path) -> Iterator[Served]:
    cert, key = make_tls(tmp_path)
    application = create_app(settings, registry=registry, engine=engine)
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off", ssl_certfile=str(cert),
                                           ssl_keyfile=str(key)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the HTTPS test server did not start")
        time.sleep(0.01)
    served = Served(f"https://localhost:{port}", cert, server, thread)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def stranger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A second machine: an empty TitleCred home, its own cache and trust store."""
    root = tmp_path / "stranger"
    (root / "home").mkdir(parents=True)
    monkeypatch.setenv("TITLECRED_HOME", str(root / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "config"))
    monkeypatch.delenv("TITLECRED_CA_BUNDLE", raising=False)
    monkeypatch.delenv("TITLECRED_TRUST_DIR", raising=False)
    return root


def run(*args: str, input: str | None = None) -> Any:
    return runner.invoke(cli, list(args), catch_exceptions=False, input=input)


def verify_json(*args: str) -> tuple[int, dict[str, Any]]:
    r = run("verify", *args, "--json")
    return r.exit_code, json.loads(r.stdout)


def holder_pdf(world: World, cert: dict[str, Any], folder: Path) -> Path:
    r = world.client.get(f"/api/certificates/{cert['id']}/pdf", headers=world["holder"].h)
    assert r.status_code == 200, r.text
    path = folder / f"{cert['certificateNumber']}.pdf"
    path.write_bytes(r.content)
    return path


def download_bundle(served: Served, folder: Path, name: str) -> Path:
    r = httpx.get(served.url + "/.well-known/titlecred-bundle.json?download=1",
                  verify=ssl.create_default_context(cafile=str(served.ca)))
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"] and r.headers["etag"]
    path = folder / name
    path.write_bytes(r.content)
    return path


def revoke(world: World, cert: dict[str, Any]) -> None:
    r = world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "forgery", "detail": "伪造"},
                          headers=world["bureau"].h)
    assert r.status_code == 200, r.text


def test_pdf_alone_verifies_online_and_bundle_alone_verifies_offline_and_revocation_shows_both_ways(
        world: World, https: Served, stranger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert = world.issued()
    pdf = holder_pdf(world, cert, tmp_path)
    ca = str(https.ca)

    # Without the network flag and with nothing pinned: not verified (unknown issuer), nothing fetched.
    code, offline = verify_json(str(pdf))
    assert code == 1 and offline["verdict"] == "unknown_issuer" and offline["trust"] == []

    # Online, with only the PDF: valid; the trust says where each piece came from.
    code, out = verify_json(str(pdf), "--online", "--ca-bundle", ca)
    assert code == 0, out
    assert out["verdict"] == "valid" and out["status"]["value"] == "valid"
    sources = {(t["what"], t["source"]) for t in out["trust"]}
    assert ("DID document", f"{https.url}/.well-known/did.json") in sources
    assert ("status list", f"{https.url}/status/revocation-1") in sources
    assert ("status list", f"{https.url}/status/suspension-1") in sources
    assert not any(t["cached"] for t in out["trust"])
    issuer_check = next(c for c in out["checks"] if c["name"] == "issuer")
    assert "fetched over HTTPS" in issuer_check["reason"]

    # Again: from the per-user cache (max-age honoured), and the CA bundle can come from the environment.
    monkeypatch.setenv("TITLECRED_CA_BUNDLE", ca)
    code, again = verify_json(str(pdf), "--online")
    assert code == 0 and again["verdict"] == "valid"
    assert all(t["cached"] for t in again["trust"] if t["what"] in ("DID document", "status list"))
    monkeypatch.delenv("TITLECRED_CA_BUNDLE")

    # Without trusting the test CA, HTTPS fails: no key, never "valid" (and a fresh cache, so nothing is reused).
    monkeypatch.setenv("XDG_CACHE_HOME", str(stranger / "cache-untrusted"))
    code, untrusted = verify_json(str(pdf), "--online")
    assert code == 1 and untrusted["verdict"] == "unknown_issuer"

    # The bundle: downloaded once, then the server goes away; the bundle alone verifies, as of its date.
    bundle = download_bundle(https, tmp_path, "bundle-1.json")
    doc = json.loads(bundle.read_text(encoding="utf-8"))
    assert doc["type"] == "TitleCredVerificationBundle" and doc["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert {lst["id"] for lst in doc["statusLists"]} >= {f"{https.url}/status/revocation-1"}
    assert doc["keyHistory"][0]["state"] == "active" and doc["issuanceLog"]["seq"] > 0

    revoke(world, cert)
    bundle_after = download_bundle(https, tmp_path, "bundle-2.json")
    monkeypatch.setenv("XDG_CACHE_HOME", str(stranger / "cache-2"))
    code, revoked_online = verify_json(str(pdf), "--online", "--ca-bundle", ca)
    assert code == 1 and revoked_online["verdict"] == "revoked"
    https.stop()

    code, by_bundle = verify_json(str(pdf), "--bundle", str(bundle))
    assert code == 0, by_bundle
    assert by_bundle["verdict"] == "valid" and by_bundle["status"]["asOf"] == doc["date"]
    assert any(t["what"] == "bundle" and t["asOf"] == doc["date"] for t in by_bundle["trust"])
    code, revoked_bundle = verify_json(str(pdf), "--bundle", str(bundle_after))
    assert code == 1 and revoked_bundle["verdict"] == "revoked"
    text = run("verify", str(pdf), "--bundle", str(bundle_after)).stdout
    assert "verdict: revoked" in text and "bundle" in text

    # Any mirror may serve it: the signature is what counts. A changed byte is refused.
    forged = dict(doc, statusLists=doc["statusLists"][:1])
    (tmp_path / "forged.json").write_text(json.dumps(forged), encoding="utf-8")
    r = run("verify", str(pdf), "--bundle", str(tmp_path / "forged.json"))
    assert r.exit_code == 2 and "bundle_signature_invalid" in r.output


def test_trust_store_pins_refreshes_with_confirmation_and_imports_bundles(
        world: World, https: Served, stranger: Path, tmp_path: Path, registry: Registry) -> None:
    cert = world.issued()
    did = registry.profile.did
    credential = tmp_path / "cert.json"
    credential.write_text(json.dumps(cert["minimalCredential"], ensure_ascii=False), encoding="utf-8")
    ca = str(https.ca)

    r = run("trust", "add", did, "--ca-bundle", ca, "--yes")
    assert r.exit_code == 0, r.output
    assert "key-1" in r.output and "active" in r.output and "kept the verification bundle" in r.output
    listed = json.loads(run("trust", "list", "--json").stdout)
    assert [p["did"] for p in listed] == [did]

    # Pinned, with the bureau's bundle kept: valid offline, as of the bundle's date.
    code, out = verify_json(str(credential))
    assert code == 0 and out["verdict"] == "valid"
    assert out["status"]["asOf"] == listed[0]["bundle"]["date"]
    assert any(t["what"] == "trust store" for t in out["trust"])

    # A key change at the issuer is shown and not accepted without confirmation.
    registry.keys._store.rotate()  # the bureau rotates its key (the registry's own keystore)
    r = run("trust", "refresh", did, "--ca-bundle", ca, input="n\n")
    assert r.exit_code == 1
    assert "KEYS CHANGED" in r.output and "+ new key" in r.output and "active -> retired" in r.output
    assert "key-2" not in json.dumps(json.loads(run("trust", "list", "--json").stdout))
    r = run("trust", "refresh", did, "--ca-bundle", ca, "--yes")
    assert r.exit_code == 0 and "accepted" in r.output
    assert "key-2" in json.dumps(json.loads(run("trust", "list", "--json").stdout))

    # Import the bundle: pinned with status lists; now valid offline, as of the bundle's date.
    bundle = download_bundle(https, tmp_path, "bundle.json")
    https.stop()
    r = run("trust", "import", str(bundle), "--yes")
    assert r.exit_code == 0, r.output
    code, out = verify_json(str(credential))
    assert code == 0 and out["verdict"] == "valid"
    assert out["status"]["asOf"] == json.loads(bundle.read_text(encoding="utf-8"))["date"]

    assert run("trust", "remove", did).exit_code == 0
    assert json.loads(run("trust", "list", "--json").stdout) == []
    code, out = verify_json(str(credential))
    assert code == 1 and out["verdict"] == "unknown_issuer"



def test_cli_batch_verifies_a_folder_with_a_progress_bar_and_writes_csv_and_json_reports(
        world: World, https: Served, stranger: Path, tmp_path: Path) -> None:
    import zipfile

    good, bad = world.issued(), world.issued()
    folder = tmp_path / "applicants"
    folder.mkdir()
    holder_pdf(world, good, folder)
    (folder / "revoked.json").write_text(json.dumps(bad["minimalCredential"], ensure_ascii=False), encoding="utf-8")
    revoke(world, bad)
    forged = json.loads(json.dumps(good["minimalCredential"]))
    forged["credentialSubject"]["name"] = "王五"
    (folder / "forged.json").write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 this is not really a PDF")
    with zipfile.ZipFile(folder / "more.zip", "w") as z:
        z.writestr("again.json", json.dumps(good["fullCredential"], ensure_ascii=False))
    report = tmp_path / "report.csv"
    r = run("verify", str(folder), "--batch", "--online", "--ca-bundle", str(https.ca), "--report", str(report))
    assert r.exit_code == 1, r.output
    assert "verifying" in r.stderr  # the progress bar
    rows = {line.split(",")[1]: line.split(",")[2] for line in report.read_text(encoding="utf-8").splitlines()[1:]}
    assert rows == {f"{good['certificateNumber']}.pdf": "valid", "forged.json": "tampered",
                    "more.zip/again.json": "valid", "revoked.json": "revoked", "scan.pdf": "unreadable"}
    assert "2 of 5 verified" in r.stdout
    as_json = tmp_path / "report.json"
    r = run("verify", str(folder), "--batch", "--online", "--ca-bundle", str(https.ca), "--report", str(as_json))
    data = json.loads(as_json.read_text(encoding="utf-8"))
    assert data["summary"]["total"] == 5 and data["summary"]["valid"] == 2
    assert any(t["what"] == "DID document" for t in data["trust"])


def test_the_fetcher_is_https_only_bounded_and_honours_max_age_and_etag(
        world: World, https: Served, stranger: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from titlecred.online import Fetcher, FetchError

    url = f"{https.url}/status/revocation-1"
    t0 = datetime.now(UTC).replace(microsecond=0)
    first = Fetcher(ca_bundle=https.ca, now=t0)
    doc, _, cached, stale = first.get_json(url, "status list", 4_000_000)
    assert doc["type"][1] == "BitstringStatusListCredential" and not cached and not stale
    # Within max-age (the service says 300 s): from the cache, no request.
    within = Fetcher(ca_bundle=https.ca, now=t0 + timedelta(seconds=60))
    assert within.get_json(url, "status list", 4_000_000)[2] is True
    # After max-age: revalidated with If-None-Match; the unchanged list answers 304.
    later = Fetcher(ca_bundle=https.ca, now=t0 + timedelta(minutes=10))
    _, when, cached, stale = later.get_json(url, "status list", 4_000_000)
    assert cached and not stale and when == t0 + timedelta(minutes=10)
    assert later.records[0].note == "revalidated (304)"
    # Bounded: a response larger than allowed is refused; only https:// is fetched.
    with pytest.raises(FetchError, match="larger than"):
        Fetcher(ca_bundle=https.ca, fresh=True, cache=stranger / "other").get_json(url, "status list", 100)
    with pytest.raises(FetchError, match="https"):
        Fetcher().get_json(url.replace("https://", "http://"), "status list", 4_000_000)
    # The server gone: the cached copy is used, and said to be stale.
    https.stop()
    gone = Fetcher(ca_bundle=https.ca, now=t0 + timedelta(hours=1))
    _, when, cached, stale = gone.get_json(url, "status list", 4_000_000)
    assert cached and stale and when == t0 + timedelta(minutes=10)
    assert "STALE" in gone.records[0].line()


def test_a_bundle_signed_by_a_key_the_pin_does_not_know_is_refused(
        world: World, https: Served, stranger: Path, tmp_path: Path, registry: Registry) -> None:
    cert = world.issued()
    credential = tmp_path / "cert.json"
    credential.write_text(json.dumps(cert["minimalCredential"], ensure_ascii=False), encoding="utf-8")
    assert run("trust", "add", registry.profile.did, "--ca-bundle", str(https.ca), "--yes").exit_code == 0
    registry.keys._store.rotate()  # the bundle is now signed by key-2, which the pin has never seen
    bundle = download_bundle(https, tmp_path, "bundle.json")
    r = run("verify", str(credential), "--bundle", str(bundle))
    assert r.exit_code == 2 and "bundle_key_not_pinned" in r.output
    r = run("trust", "import", str(bundle), "--yes")
    assert r.exit_code == 2 and "bundle_key_not_pinned" in r.output
    # Refreshed (the change confirmed), the same bundle is accepted.
    assert run("trust", "refresh", "--ca-bundle", str(https.ca), "--yes").exit_code == 0
    code, out = verify_json(str(credential), "--bundle", str(bundle))
    assert code == 0 and out["verdict"] == "valid"
