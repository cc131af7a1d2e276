"""Fetching an issuer's public documents over HTTPS for `titlecred verify --online`, with a per-user cache.

What a stranger's verifier fetches: the issuer's did:web DID document and the status lists a credential
names. Only `https://` URLs; a response is capped in size (256 KB for a DID document, 4 MB for a status
list), in time (5 s connect and read) and in redirects (3, each to https). Responses are cached under
`$XDG_CACHE_HOME/titlecred/http/` (default `~/.cache/titlecred/http/`): a copy younger than its
`Cache-Control: max-age` is used without asking; an older one is revalidated with `If-None-Match` (a 304
renews it); when the server cannot be reached, the old copy is used and said to be stale.

Every fetch is recorded as a `Provenance` (where the piece of trust came from, when it was fetched,
whether from the cache), which the CLI prints with the verdict.

`TITLECRED_CA_BUNDLE` (or `--ca-bundle`) names a PEM file of certificate authorities to trust instead of
the system's (an intranet CA; the tests' own).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from keys.did import did_web_url
from keys.errors import UnresolvableDid
from keys.store import atomic_write
from proofs.dataintegrity import format_datetime
from verifier.status import FetchedList

TIMEOUT_SECONDS = 5.0
MAX_REDIRECTS = 3
MAX_DID_BYTES = 256 * 1024
MAX_LIST_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_AGE = timedelta(minutes=5)  # when the server says nothing about caching
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age=([0-9]{1,9})")


class FetchError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Provenance:
    """Where one piece of trust came from and how fresh it is."""

    what: str  # "DID document" | "status list" | "trust store" | "bundle"
    id: str
    source: str  # a URL, a file, "trust store"
    as_of: str  # when it was fetched / pinned / signed
    cached: bool = False
    stale: bool = False
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"what": self.what, "id": self.id, "source": self.source, "asOf": self.as_of,
                               "cached": self.cached, "stale": self.stale}
        if self.note:
            out["note"] = self.note
        return out

    def line(self) -> str:
        how = "from the cache" if self.cached else "fetched" if self.source.startswith("https://") else "read"
        if self.what in ("trust store", "bundle"):
            how = "pinned" if self.what == "trust store" else "signed"
        stale = " (STALE: the server could not be reached)" if self.stale else ""
        note = f"; {self.note}" if self.note else ""
        return f"{self.what} {self.id}: {self.source}, {how} {self.as_of}{stale}{note}"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "titlecred" / "http"


def ssl_context(ca_bundle: str | Path | None = None) -> ssl.SSLContext:
    cafile = ca_bundle or os.environ.get("TITLECRED_CA_BUNDLE") or None
    try:
        return ssl.create_default_context(cafile=str(cafile) if cafile else None)
    except (OSError, ssl.SSLError) as e:
        raise FetchError(f"cannot read the CA bundle {cafile}: {e}") from None


@dataclass
class Fetcher:
    """HTTPS GETs of JSON documents through the per-user cache; records what it fetched."""

    ca_bundle: str | Path | None = None
    cache: Path | None = None
    now: datetime | None = None
    # Always ask the server (revalidating a cached copy), as `trust add` / `trust refresh` do.
    fresh: bool = False
    records: list[Provenance] = field(default_factory=list)

    def _now(self) -> datetime:
        return (self.now or datetime.now(UTC)).replace(microsecond=0)

    def _cache_file(self, url: str) -> Path:
        return (self.cache or cache_dir()) / (hashlib.sha256(url.encode("utf-8")).hexdigest() + ".json")

    def get_json(self, url: str, what: str, max_bytes: int) -> tuple[Any, datetime, bool, bool]:
        """(document, fetched at, from cache, stale). FetchError when neither server nor cache has it."""
        if not url.startswith("https://"):
            raise FetchError(f"{url} is not an https:// address (only HTTPS is fetched)")
        path = self._cache_file(url)
        entry = _read_cache(path, url)
        now = self._now()
        if entry is not None and not self.fresh and now < entry["fetched"] + timedelta(seconds=entry["maxAge"]):
            return _record(self, what, url, entry, cached=True, stale=False)
        try:
            status, body, headers = _get(url, max_bytes, ssl_context(self.ca_bundle),
                                         entry.get("etag") if entry else None)
        except FetchError as e:
            if entry is not None:
                entry_note = dict(entry, note=f"the server could not be reached ({e.message})")
                return _record(self, what, url, entry_note, cached=True, stale=True)
            raise
        max_age = _max_age(headers.get("cache-control"))
        if status == 304 and entry is not None:
            entry.update(fetched=now, maxAge=max_age)
            _write_cache(path, entry)
            return _record(self, what, url, entry, cached=True, stale=False, note="revalidated (304)")
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise FetchError(f"{url} did not return JSON") from None
        entry = {"url": url, "etag": headers.get("etag"), "fetched": now, "maxAge": max_age, "doc": doc}
        _write_cache(path, entry)
        return _record(self, what, url, entry, cached=False, stale=False)

    # ---------------------------------------------------------------- the two kinds of documents

    def did_document(self, did: str) -> dict[str, Any]:
        """The did:web DID document of `did` (UnresolvableDid when it cannot be had)."""
        url = did_web_url(did)
        try:
            doc = self.get_json(url, "DID document", MAX_DID_BYTES)[0]
        except FetchError as e:
            raise UnresolvableDid(f"{did}: {e.message}") from None
        if not isinstance(doc, dict) or doc.get("id") != did:
            raise UnresolvableDid(f"{did}: the document at {url} is not this DID's document")
        return doc

    def status_list(self, url: str) -> FetchedList:
        try:
            doc, fetched, _cached, _stale = self.get_json(url, "status list", MAX_LIST_BYTES)
        except FetchError as e:
            return FetchedList(None, self._now(), e.message)
        if not isinstance(doc, dict):
            return FetchedList(None, fetched, f"{url} is not a status list credential")
        return FetchedList(doc, fetched)


class OnlineStatusSource:
    """The verifier's StatusSource: lists given up front first (a pinned bundle's), else fetched."""

    def __init__(self, fetcher: Fetcher, fallback: Any = None) -> None:
        self._fetcher = fetcher
        self._fallback = fallback

    def fetch(self, url: str) -> FetchedList:
        got = self._fetcher.status_list(url)
        if got.credential is None and self._fallback is not None:
            kept = self._fallback.fetch(url)
            if kept.credential is not None:
                return kept
        return got


def _record(fetcher: Fetcher, what: str, url: str, entry: dict[str, Any], *, cached: bool, stale: bool,
            note: str = "") -> tuple[Any, datetime, bool, bool]:
    fetched: datetime = entry["fetched"]
    fetcher.records.append(Provenance(what, url, url, format_datetime(fetched), cached, stale,
                                      note or str(entry.get("note", ""))))
    return entry["doc"], fetched, cached, stale


def _max_age(cache_control: str | None) -> int:
    if cache_control and "no-store" not in cache_control and "no-cache" not in cache_control:
        m = _MAX_AGE.search(cache_control)
        if m:
            return min(int(m.group(1)), 7 * 24 * 3600)
    if cache_control and ("no-store" in cache_control or "no-cache" in cache_control):
        return 0
    return int(DEFAULT_MAX_AGE.total_seconds())


def _read_cache(path: Path, url: str) -> dict[str, Any] | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if entry.get("url") != url:
            return None
        entry["fetched"] = datetime.fromisoformat(entry["fetched"])
        entry["maxAge"] = int(entry["maxAge"])
        return dict(entry)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # a missing or damaged cache entry is only a miss


def _write_cache(path: Path, entry: dict[str, Any]) -> None:
    data = dict(entry, fetched=entry["fetched"].isoformat())
    data.pop("note", None)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(path, json.dumps(data, ensure_ascii=False).encode("utf-8"), mode=0o600)
    except OSError:
        pass  # an unwritable cache costs a refetch next time, nothing more


def _get(url: str, max_bytes: int, context: ssl.SSLContext, etag: str | None) -> tuple[int, bytes, Any]:
    import httpx  # an offline verifier never loads the HTTP client

    headers = {"Accept": "application/json, application/did+json, application/vc+ld+json"}
    if etag:
        headers["If-None-Match"] = etag
    body = bytearray()
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, verify=context,
                          headers=headers) as client:
            for _ in range(MAX_REDIRECTS + 1):
                with client.stream("GET", url) as response:
                    if response.status_code == 304:
                        return 304, b"", response.headers
                    if response.status_code in (301, 302, 303, 307, 308):
                        url = str(response.url.join(response.headers.get("location", "")))
                        if not url.startswith("https://"):
                            raise FetchError("the server redirected to a non-HTTPS address")
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"{url} answered HTTP {response.status_code}")
                    declared = response.headers.get("content-length")
                    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                        raise FetchError(f"{url} is larger than {max_bytes} bytes")
                    for chunk in response.iter_bytes():
                        body.extend(chunk)
                        if len(body) > max_bytes:
                            raise FetchError(f"{url} is larger than {max_bytes} bytes")
                    return 200, bytes(body), response.headers
            raise FetchError(f"{url}: too many redirects")
    except httpx.HTTPError as e:
        raise FetchError(f"fetching {url} failed ({type(e).__name__}: {e})") from None
