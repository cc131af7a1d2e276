"""Batch verification for registration bodies: many certificates in, one result per item out.

The items are credentials (JSON objects), QR texts, or files (certificate PDFs, photos, credential or QR
text files: from a folder, a ZIP or an upload). Each is verified on its own under the caller's policy;
one unreadable, forged or slow item gives a result of its own and never stops the rest (partial success).

Bounds: at most MAX_ITEMS items; a ZIP is read entry by entry and its *actual* uncompressed bytes are
counted while extracting (a ZIP bomb's headers lie), at most MAX_FILE_BYTES per entry and MAX_ZIP_TOTAL
in all; a file is read in a child process killed after ITEM_SECONDS (printing.extract); once the whole
batch has used BATCH_SECONDS, the remaining items are answered `not_checked` rather than left hanging.

Used by `POST /api/verify/batch`, the portal's batch page and `titlecred verify --batch DIR`.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from printing.extract import ExtractLimits
from titlecred.errors import AppError
from titlecred.printed import UNTRUSTED_LIMITS, verify_bytes
from verifier.compact import verify_compact
from verifier.policy import Policy
from verifier.result import VerificationResult, unusable
from verifier.verify import verify_credential

MAX_ITEMS = 1000
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ZIP_TOTAL = 256 * 1024 * 1024
ITEM_SECONDS = 10.0
BATCH_SECONDS = 600.0
BATCH_LIMITS: ExtractLimits = replace(UNTRUSTED_LIMITS, timeout_seconds=ITEM_SECONDS)
FILE_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".json", ".jsonld", ".txt")
CSV_FIELDS = ("index", "name", "verdict", "verified", "status", "statusAsOf", "certificateNumber", "problem")


class BatchError(AppError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, 413 if code == "batch_too_large" else 400)


@dataclass(frozen=True)
class Item:
    """One thing to verify: a credential object, a QR text, or a file's bytes (or why it is unreadable)."""

    name: str
    credential: Any = None
    qr: str | None = None
    data: bytes | None = None
    unreadable: str | None = None


def _certificate_number(result: VerificationResult) -> str | None:
    doc = result.credential
    subject = doc.get("credentialSubject") if isinstance(doc, dict) else None
    if isinstance(subject, dict):
        cert = subject.get("certificate") if isinstance(subject.get("certificate"), dict) else subject
        number = cert.get("certificateNumber") if isinstance(cert, dict) else None
        if isinstance(number, str):
            return number
    return None


def item_result(index: int, item: Item, result: VerificationResult) -> dict[str, Any]:
    """One item's result: the verdict and the first problem; `unreadable` when the input could not be read."""
    out: dict[str, Any] = {"index": index, "name": item.name, "verified": result.verified}
    if result.errors:
        out["verdict"] = "unreadable"
        out["problem"] = result.errors[0]["message"]
        out["errors"] = list(result.errors)
    else:
        out["verdict"] = result.verdict
        bad = next((c for c in result.checks if not c.ok and c.required), None)
        if bad is not None:
            out["problem"] = f"{bad.name}: {bad.reason}"
        out["checks"] = [c.to_json() for c in result.checks]
    if result.status is not None:
        out["status"] = {"value": result.status, "asOf": result.status_as_of}
    number = _certificate_number(result)
    if number:
        out["certificateNumber"] = number
    return out


def verify_item(item: Item, policy: Policy, limits: ExtractLimits = BATCH_LIMITS) -> VerificationResult:
    try:
        if item.unreadable is not None:
            return unusable("unreadable_file", item.unreadable)
        if item.qr is not None:
            return verify_compact(item.qr, policy)
        if item.data is not None:
            return verify_bytes(item.data, policy, limits=limits)
        return verify_credential(item.credential, policy)
    except Exception as e:  # one bad item never stops the rest; its result says what went wrong
        return unusable("item_failed", f"this item could not be verified ({type(e).__name__})")


def verify_all(items: list[Item], policy: Policy, *, limits: ExtractLimits = BATCH_LIMITS,
               budget_seconds: float = BATCH_SECONDS,
               progress: Callable[[int, dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    if len(items) > MAX_ITEMS:
        raise BatchError("batch_too_large", f"a batch holds at most {MAX_ITEMS} items, not {len(items)}")
    deadline = time.monotonic() + budget_seconds
    out = []
    for index, item in enumerate(items):
        if time.monotonic() > deadline:
            row: dict[str, Any] = {"index": index, "name": item.name, "verified": False,
                                   "verdict": "not_checked",
                                   "problem": f"the batch's time budget ({budget_seconds:.0f} s) ran out first"}
        else:
            row = item_result(index, item, verify_item(item, policy, limits))
        out.append(row)
        if progress is not None:
            progress(index, row)
    return out


def summary(results: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {"total": len(results), "verified": sum(1 for r in results if r["verified"])}
    for r in results:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    return counts


def to_csv(results: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in results:
        status = r.get("status") or {}
        writer.writerow({**r, "name": _csv_safe(str(r["name"])), "verified": "yes" if r["verified"] else "no",
                         "status": status.get("value", ""),
                         "statusAsOf": status.get("asOf", "") or "", "problem": _csv_safe(r.get("problem", ""))})
    return buf.getvalue()


def _csv_safe(text: str) -> str:
    # A cell a spreadsheet would run as a formula is quoted (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


# ---------------------------------------------------------------- gathering items


def _read_bounded(stream: Any, limit: int) -> bytes | None:
    """Up to `limit` bytes of `stream`; None if it holds more (counted as read, not as declared)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def items_from_zip(data: bytes, *, max_items: int = MAX_ITEMS, max_file: int = MAX_FILE_BYTES,
                   max_total: int = MAX_ZIP_TOTAL) -> list[Item]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise BatchError("unreadable_zip", f"not a readable ZIP file ({e})") from None
    items: list[Item] = []
    total = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir() or Path(info.filename).name.startswith(".") or "__MACOSX" in info.filename:
                continue
            if len(items) >= max_items:
                raise BatchError("batch_too_large", f"the ZIP holds more than {max_items} files")
            name = info.filename
            if not name.lower().endswith(FILE_SUFFIXES):
                items.append(Item(name, unreadable="not a certificate file (PDF, photo, credential or QR text)"))
                continue
            try:
                with archive.open(info) as stream:
                    body = _read_bounded(stream, min(max_file, max_total - total))
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError) as e:
                items.append(Item(name, unreadable=f"cannot extract it from the ZIP ({type(e).__name__})"))
                continue
            if body is None:
                if total + max_file >= max_total:
                    raise BatchError("batch_too_large", f"the ZIP's files add up to more than {max_total} bytes "
                                                        "uncompressed")
                items.append(Item(name, unreadable=f"larger than {max_file} bytes uncompressed"))
                continue
            total += len(body)
            items.append(Item(name, data=body))
    return items


def items_from_dir(folder: Path, *, max_items: int = MAX_ITEMS) -> list[Item]:
    """Every certificate file under `folder` (recursively, sorted); ZIPs in it are opened too."""
    items: list[Item] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = str(path.relative_to(folder))
        try:
            size = path.stat().st_size
            if path.suffix.lower() == ".zip":
                if size > MAX_ZIP_TOTAL:
                    items.append(Item(rel, unreadable=f"larger than {MAX_ZIP_TOTAL} bytes"))
                else:
                    items += [replace(i, name=f"{rel}/{i.name}") for i in items_from_zip(path.read_bytes())]
            elif size > MAX_FILE_BYTES:
                items.append(Item(rel, unreadable=f"larger than {MAX_FILE_BYTES} bytes"))
            else:
                items.append(Item(rel, data=path.read_bytes()))
        except OSError as e:
            items.append(Item(rel, unreadable=f"cannot read it: {e.strerror}"))
        except BatchError as e:
            items.append(Item(rel, unreadable=e.message))
        if len(items) > max_items:
            raise BatchError("batch_too_large", f"{folder} holds more than {max_items} certificate files")
    return items


def items_from_json(body: Any) -> list[Item]:
    """`{"items": [{"id"?, "credential": {...}} | {"id"?, "qr": "..."} | a credential | a QR text]}`."""
    raw = body.get("items") if isinstance(body, dict) else None
    if not isinstance(raw, list):
        raise BatchError("malformed_batch", 'the body must be {"items": [...]}')
    if len(raw) > MAX_ITEMS:
        raise BatchError("batch_too_large", f"a batch holds at most {MAX_ITEMS} items, not {len(raw)}")
    return list(_json_items(raw))


def _json_items(raw: list[Any]) -> Iterator[Item]:
    for i, entry in enumerate(raw):
        if isinstance(entry, str):
            yield Item(str(i), qr=entry)
            continue
        if not isinstance(entry, dict):
            yield Item(str(i), unreadable="an item is a credential object, a QR text, or {credential|qr}")
            continue
        given = entry.get("id")
        name = given if isinstance(given, str) and ("credential" in entry or "qr" in entry) else str(i)
        if isinstance(entry.get("qr"), str):
            yield Item(name[:200], qr=entry["qr"])
        elif "credential" in entry:
            yield Item(name[:200], credential=entry["credential"])
        else:
            yield Item(str(i), credential=entry)
