"""E-license formats through the API: the OFD download, a certificate's metadata, the bureau's batch."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import ofdkit
from registry.kit import World

from issuer.elicense_meta import FIELDS
from printing import layout
from schemas.elicense import parse_identifier


def _get(world: World, who: str, path: str, **params: Any) -> Any:
    return world.client.get(path, headers=world[who].h, params=params)


def _full(world: World, cert_id: int) -> dict[str, Any]:
    r = _get(world, "holder", f"/api/certificates/{cert_id}")
    assert r.status_code == 200, r.text
    return dict(r.json()["fullCredential"])


def test_an_issued_certificate_states_a_valid_elicense_identifier(world: World) -> None:
    cert = world.issued("holder")
    full = _full(world, cert["id"])
    ident = parse_identifier(full["credentialSubject"]["eLicenseIdentifier"])
    assert ident.issuer_code == full["issuer"]["unitCode"]
    assert ident.serial == cert["certificateNumber"] and ident.version == "001"


def test_holder_downloads_the_ofd_with_the_full_credential_and_exact_text(world: World) -> None:
    cert = world.issued("holder")
    r = _get(world, "holder", f"/api/certificates/{cert['id']}/ofd")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/ofd"
    assert r.headers["content-disposition"] == f'attachment; filename="{cert["certificateNumber"]}.ofd"'
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        attached = json.loads(archive.read("Doc_0/Attachs/credential.jsonld"))
    assert attached == _full(world, cert["id"])
    with ofdkit.open(r.content) as doc:
        text = layout.normalize_text("".join(run.text for run in doc.pages[0].runs))
    assert text == layout.page_text(attached)
    assert world.ids["holder"] not in text


def test_employer_gets_the_ofd_with_the_minimal_credential_and_others_are_refused(world: World) -> None:
    cert = world.issued("holder")
    r = _get(world, "employer", f"/api/certificates/{cert['id']}/ofd")
    assert r.status_code == 200, r.text
    assert r.headers["x-titlecred-attached"] == "minimal"
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        attached = json.loads(archive.read("Doc_0/Attachs/credential.jsonld"))
        assert all(world.ids["holder"].encode() not in archive.read(n) for n in archive.namelist())
    assert "MinimalTitleCredential" in attached["type"]
    for who in ("employer2", "holder2"):
        assert _get(world, who, f"/api/certificates/{cert['id']}/ofd").status_code == 403


def test_a_certificates_metadata_is_for_its_holder_and_the_bureau(world: World) -> None:
    cert = world.issued("holder")
    r = _get(world, "holder", f"/api/certificates/{cert['id']}/elicense")
    assert r.status_code == 200, r.text
    meta = r.json()
    full = _full(world, cert["id"])
    assert list(meta) == [key for key, _ in FIELDS]
    assert meta["licenseName"] == "专业技术职务任职资格证书"
    assert meta["licenseNumber"] == cert["certificateNumber"]
    assert meta["licenseIdentifier"] == full["credentialSubject"]["eLicenseIdentifier"]
    assert meta["licenseTypeCode"] == parse_identifier(meta["licenseIdentifier"]).type_code
    assert meta["issuerCode"] == full["issuer"]["unitCode"] and meta["issuer"] == full["issuer"]["name"]
    assert meta["holderCode"] == world.ids["holder"] and meta["holderCodeType"] == "111"
    assert meta["signingTime"] == full["proof"]["created"] and meta["signer"] == full["proof"]["verificationMethod"]
    assert meta["validUntil"] == "长期" and meta["licenseState"] == "active"
    assert meta["qualification"] == full["credentialSubject"]["qualification"]
    assert _get(world, "bureau", f"/api/certificates/{cert['id']}/elicense").status_code == 200
    r = _get(world, "employer", f"/api/certificates/{cert['id']}/elicense")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_the_bureau_exports_a_date_range_as_json_and_as_the_librarys_csv(world: World) -> None:
    first = world.issued("holder")
    app = world.application("holder2")
    second = world.approve_all(app["id"], "employer2", "supervisory", "bureau")["certificate"]
    day = _get(world, "holder", f"/api/certificates/{first['id']}/elicense").json()["issueDate"]
    r = _get(world, "bureau", "/api/elicense/metadata", **{"from": day, "to": day})
    assert r.status_code == 200, r.text
    numbers = [row["licenseNumber"] for row in r.json()]
    assert numbers == [first["certificateNumber"], second["certificateNumber"]]
    r = _get(world, "bureau", "/api/elicense/metadata", **{"from": day, "to": day, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == [header for _, header in FIELDS]
    assert [row[2] for row in rows[1:]] == numbers
    empty = _get(world, "bureau", "/api/elicense/metadata", **{"from": "2001-01-01", "to": "2001-01-31"})
    assert empty.status_code == 200 and empty.json() == []


def test_the_batch_is_bureau_only_and_bounded(world: World) -> None:
    world.issued("holder")
    for who in ("employer", "holder"):
        r = _get(world, who, "/api/elicense/metadata", **{"from": "2025-01-01", "to": "2025-12-31"})
        assert r.status_code == 403
    r = _get(world, "bureau", "/api/elicense/metadata", **{"from": "2025-12-31", "to": "2025-01-01"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_range"
    r = _get(world, "bureau", "/api/elicense/metadata", **{"from": "2020-01-01", "to": "2025-01-01"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_range"
    r = _get(world, "bureau", "/api/elicense/metadata", **{"from": "yesterday", "to": "2025-01-01"})
    assert r.status_code in (400, 422) and "code" in r.json()


def test_the_export_command_writes_the_csv_batch(world: World, settings: Any, monkeypatch: Any,
                                                 tmp_path: Any) -> None:
    import pytest
    from typer.testing import CliRunner

    from titlecred.cli import app

    if settings.database_url.startswith("postgresql"):
        pytest.skip("the CLI opens its own engine; the PostgreSQL test schema is set per engine")
    cert = world.issued("holder")
    day = _get(world, "holder", f"/api/certificates/{cert['id']}/elicense").json()["issueDate"]
    monkeypatch.setenv("TITLECRED_HOME", str(settings.home))
    monkeypatch.setenv("TITLECRED_DATABASE_URL", settings.database_url)
    out = tmp_path / "batch.csv"
    result = CliRunner().invoke(app, ["elicense", "export", "--from", day, "--to", day, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[0][0] == "证照名称" and [r[2] for r in rows[1:]] == [cert["certificateNumber"]]
    result = CliRunner().invoke(app, ["elicense", "export", "--from", "soon", "--to", day, "--out", str(out)])
    assert result.exit_code == 2 and "invalid_date" in result.output
