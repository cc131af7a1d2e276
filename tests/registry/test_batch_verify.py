"""Batch verification for registration bodies (issue 15): `POST /api/verify/batch` takes hundreds of
credentials or QR texts (or a ZIP of certificate files) and answers one correct result per item, in order;
a bad item is a result of its own; the batch is bounded in count, bytes and uncompressed ZIP size."""

from __future__ import annotations

import copy
import io
import json
import time
import zipfile
from typing import Any

from registry.kit import World

from issuer.compact import compact_from_minimal


def _qr(world: World, cert: dict[str, Any]) -> str:
    return compact_from_minimal(cert["minimalCredential"], world.registry.keys.active(), world.registry.base_url)


def test_a_batch_of_500_mixed_certificates_gets_500_correct_results(world: World) -> None:
    valid = [world.issued(), world.issued()]
    revoked = world.issued()
    qr_valid, qr_revoked = _qr(world, valid[0]), _qr(world, revoked)
    r = world.client.post(f"/api/certificates/{revoked['id']}/revoke", json={"reason": "forgery"},
                          headers=world["bureau"].h)
    assert r.status_code == 200
    forged = copy.deepcopy(valid[1]["minimalCredential"])
    forged["credentialSubject"]["name"] = "王五"
    forged_full = copy.deepcopy(valid[0]["fullCredential"])
    forged_full["credentialSubject"]["qualification"] = "正高级工程师"
    kinds = [
        ("valid", {"credential": valid[0]["fullCredential"]}), ("valid", {"credential": valid[1]["minimalCredential"]}),
        ("valid", {"qr": qr_valid}), ("revoked", {"credential": revoked["minimalCredential"]}),
        ("revoked", {"qr": qr_revoked}), ("tampered", {"credential": forged}),
        ("tampered", {"credential": forged_full}),
        ("unreadable", {"qr": "this is not a certificate"}), ("unreadable", {"credential": [1, 2, 3]}),
        ("unreadable", {"credential": {"hello": "world"}}),
    ]
    items, expected = [], []
    for i in range(500):
        verdict, item = kinds[i % len(kinds)]
        items.append({"id": f"applicant-{i}", **item})
        expected.append(verdict)
    started = time.perf_counter()
    r = world.client.post("/api/verify/batch", json={"items": items})
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text
    body = r.json()
    got = [x["verdict"] for x in body["results"]]
    assert len(got) == 500
    assert got == expected
    assert [x["name"] for x in body["results"]] == [f"applicant-{i}" for i in range(500)]
    assert body["summary"] == {"total": 500, "verified": 150, "valid": 150, "revoked": 100, "tampered": 100,
                               "unreadable": 150}
    first_revoked = body["results"][3]
    assert first_revoked["status"]["value"] == "revoked" and first_revoked["certificateNumber"] == \
        revoked["certificateNumber"]
    assert world.ids["holder"] not in r.text  # a full ID number never comes back
    print(f"500-item batch: {elapsed:.2f} s")

    csv = world.client.post("/api/verify/batch?format=csv", json={"items": items[:10]})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("index,name,verdict") and len(lines) == 11
    assert lines[1].split(",")[2] == "valid"


def test_batch_is_bounded_and_a_zip_bomb_entry_is_refused_without_stopping_the_rest(world: World) -> None:
    cert = world.issued()
    too_many = world.client.post("/api/verify/batch", json={"items": ["x"] * 1001})
    assert too_many.status_code == 413 and too_many.json()["code"] == "batch_too_large"
    bad = world.client.post("/api/verify/batch", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["code"] == "malformed_json"
    shape = world.client.post("/api/verify/batch", json={"credentials": []})
    assert shape.status_code == 400 and shape.json()["code"] == "malformed_batch"

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.json", json.dumps(cert["minimalCredential"], ensure_ascii=False))
        z.writestr("bomb.pdf", b"\0" * (21 * 1024 * 1024))  # 21 MB of zeros: about 20 KB compressed
        z.writestr("notes.docx", b"hello")
        z.writestr("b.txt", _qr(world, cert))
    data = buf.getvalue()
    assert len(data) < 100_000
    r = world.client.post("/api/verify/batch", content=data, headers={"content-type": "application/zip"})
    assert r.status_code == 200, r.text
    got = {x["name"]: x["verdict"] for x in r.json()["results"]}
    assert got == {"a.json": "valid", "bomb.pdf": "unreadable", "notes.docx": "unreadable", "b.txt": "valid"}
    bomb = next(x for x in r.json()["results"] if x["name"] == "bomb.pdf")
    assert "uncompressed" in bomb["problem"]
    garbage = world.client.post("/api/verify/batch", content=b"PK\x03\x04garbage",
                                headers={"content-type": "application/zip"})
    assert garbage.status_code == 400 and garbage.json()["code"] == "unreadable_zip"


def test_a_client_may_post_30_batches_an_hour(world: World) -> None:
    for _ in range(30):
        assert world.client.post("/api/verify/batch", json={"items": ["x"]}).status_code == 200
    refused = world.client.post("/api/verify/batch", json={"items": ["x"]})
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"


def test_the_bundle_is_served_with_a_stable_etag_until_something_changes(world: World) -> None:
    cert = world.issued()
    first = world.client.get("/.well-known/titlecred-bundle.json")
    assert first.status_code == 200 and first.headers["cache-control"] == "public, max-age=300"
    etag = first.headers["etag"]
    again = world.client.get("/.well-known/titlecred-bundle.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    r = world.client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "forgery"},
                          headers=world["bureau"].h)
    assert r.status_code == 200
    changed = world.client.get("/.well-known/titlecred-bundle.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["issuanceLog"]["seq"] > first.json()["issuanceLog"]["seq"]


def test_hostile_batches_get_clear_refusals_or_per_item_results(world: World) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    r = world.client.post("/api/verify/batch", content=deep, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    nested: object = "x"
    for _ in range(500):
        nested = {"a": nested}
    items = [{"id": "=HYPERLINK(1)", "credential": nested}, {"qr": "TC1:" + "A" * 5000}, 42, None]
    r = world.client.post("/api/verify/batch?format=csv", json={"items": items})
    assert r.status_code == 200
    rows = r.text.splitlines()[1:]
    assert len(rows) == 4 and all(",unreadable," in row or ",tampered," in row for row in rows)
    assert "'=HYPERLINK" in rows[0]
