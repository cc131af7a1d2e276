"""Trust for relying parties: `titlecred trust add|list|remove|refresh|import`, and the policy `titlecred
verify` builds from everything it was given (files, the trust store, a bundle, the network), with where
each piece of trust came from (docs/verification.md).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from titlecred import truststore
from titlecred.cli import app, guarded, out_json
from titlecred.errors import AppError
from titlecred.online import Fetcher, OnlineStatusSource, Provenance
from titlecred.settings import Settings
from verifier.status import FetchedList, StaticStatusSource, StatusSource

trust_app = typer.Typer(no_args_is_help=True, help="Issuers you trust: pin (add, import a bundle), list, refresh, "
                                                   "remove. Pinned issuers are used offline by `verify`.")
app.add_typer(trust_app, name="trust")

CaBundle = Annotated[Path | None, typer.Option("--ca-bundle", help="PEM file of CAs to trust for HTTPS "
                                               "(default: TITLECRED_CA_BUNDLE, else the system's)")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Accept without asking")]


def _now() -> str:
    from proofs.dataintegrity import format_datetime

    return format_datetime(datetime.now(UTC))


class ChainStatusSource:
    """Status lists from the first source that has them: files given, then the network, then snapshots."""

    def __init__(self, sources: list[StatusSource]) -> None:
        self._sources = sources

    def fetch(self, url: str) -> FetchedList:
        first: FetchedList | None = None
        for source in self._sources:
            got = source.fetch(url)
            if got.credential is not None:
                return got
            first = first or got
        return first or FetchedList(None, datetime.now(UTC), f"no copy of status list {url} is available")


@dataclass
class VerifyTrust:
    """The policy for `verify`, and the record of where its trust came from."""

    policy: Any
    given: list[Provenance] = field(default_factory=list)
    fetcher: Fetcher | None = None

    def provenance(self) -> list[Provenance]:
        # One line per document: the first time it was read in this run says where it came from.
        seen: set[tuple[str, str]] = set()
        out = []
        for p in self.given + (self.fetcher.records if self.fetcher else []):
            if (p.what, p.id) not in seen:
                seen.add((p.what, p.id))
                out.append(p)
        return out


def home_status_lists(settings: Settings) -> tuple[StaticStatusSource, list[Provenance]] | None:
    """The status lists this home's registry last published, read from its database (never written: a
    list whose validity has passed reads as "status unknown"). None when the home has no registry."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session, select

    from proofs.dataintegrity import format_datetime
    from titlecred.db.engine import is_sqlite_url, make_engine, normalize_url
    from titlecred.db.models import StatusList

    url = normalize_url(settings.database_url)
    if is_sqlite_url(url) and not Path(url.split("///", 1)[-1].split("?", 1)[0]).is_file():
        return None
    try:
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                rows = [(r.published_json, r.published_at) for r in session.exec(select(StatusList)).all()]
        finally:
            engine.dispose()
    except SQLAlchemyError:
        return None
    lists: dict[str, dict[str, Any]] = {}
    dates = []
    for text, at in rows:
        if text and at is not None:
            doc = json.loads(text)
            lists[doc["id"]] = doc
            dates.append(at)
    if not lists:
        return None
    as_of = min(dates)
    stamp = format_datetime(as_of)
    return (StaticStatusSource(lists, as_of=as_of),
            [Provenance("status list", url_, f"this home's registry database ({settings.home})", stamp)
             for url_ in sorted(lists)])


def _bundle_lists(lists: list[dict[str, Any]], date: datetime) -> StaticStatusSource:
    return StaticStatusSource({lst["id"]: lst for lst in lists if isinstance(lst.get("id"), str)}, as_of=date,
                              snapshot=True)


def read_bundle_file(path: Path) -> Any:
    from titlecred.trust import read_json_file
    from verifier.bundle import BundleError, read_bundle

    doc = read_json_file(path, "bundle")
    issuer = doc.get("issuer") if isinstance(doc, dict) else None
    pin = truststore.get(issuer) if isinstance(issuer, str) else None
    try:
        return read_bundle(doc, pin.did_document if pin else None)
    except BundleError as e:
        raise AppError(e.code, f"{path}: {e.message}") from None


def verify_trust(settings: Settings, *, trust_files: list[Path], status_files: list[Path],
                 trusted_issuers: list[str], no_local_trust: bool, online: bool, bundle: Path | None,
                 ca_bundle: Path | None) -> VerifyTrust:
    from keys.did import DidResolver
    from proofs.dataintegrity import parse_datetime
    from titlecred.trust import local_trust_documents, read_json_file
    from verifier.policy import Policy

    given: list[Provenance] = []
    documents: list[dict[str, Any]] = []
    for p in trust_files:
        documents.append(read_json_file(p, "trust document"))
        given.append(Provenance("trust file", str(p), str(p), _now(), note="given on the command line"))
    snapshots: list[StatusSource] = []
    if not no_local_trust:
        local = local_trust_documents(settings)
        documents += local
        given += [Provenance("DID document", d["id"], f"this home's keystore ({settings.home})", _now())
                  for d in local]
        home_lists = home_status_lists(settings) if local else None
        if home_lists is not None:
            snapshots.append(home_lists[0])
            given += home_lists[1]
    snapshot_at: datetime | None = None
    for pin in truststore.load_all():
        documents.append(pin.did_document)
        given.append(Provenance("trust store", pin.did, pin.source, pin.refreshed_at or pin.pinned_at,
                                note=f"pinned {pin.pinned_at}"))
        date = parse_datetime(pin.bundle.get("date")) if pin.bundle else None
        if pin.bundle and date is not None:
            snapshots.append(_bundle_lists(list(pin.bundle.get("statusLists") or []), date))
            snapshot_at = min(snapshot_at, date) if snapshot_at else date
    if bundle is not None:
        b = read_bundle_file(bundle)
        documents.append(b.did_document)
        snapshots.insert(0, _bundle_lists(b.status_lists, b.date))
        snapshot_at = b.date
        given.append(Provenance("bundle", b.issuer, str(bundle), b.date_text,
                                note=f"signed by {b.signed_by}; status lists as of {b.date_text}"))
    files = StaticStatusSource()
    for p in status_files:
        files.add(read_json_file(p, "status list"))
        given.append(Provenance("status list", str(p), str(p), _now(), note="given on the command line"))
    fetcher = Fetcher(ca_bundle=ca_bundle) if online else None
    sources: list[StatusSource] = [files]
    if fetcher is not None:
        sources.append(OnlineStatusSource(fetcher))
    sources += snapshots
    resolver = DidResolver(documents, online=online, fetch=fetcher.did_document if fetcher else None)
    policy = Policy(resolver=resolver, trusted_issuers=frozenset(trusted_issuers), status=ChainStatusSource(sources),
                    trust_fetched_did_web=online, status_snapshot_at=None if online else snapshot_at)
    return VerifyTrust(policy, given, fetcher)


def print_provenance(trust: VerifyTrust) -> None:
    lines = trust.provenance()
    if lines:
        typer.echo("trust:")
        for p in lines:
            typer.echo(f"  {p.line()}")


# ---------------------------------------------------------------- batch


def run_batch(folder: Path, trust: VerifyTrust, *, report: Path | None, as_json: bool) -> int:
    from titlecred import batch

    if not folder.is_dir():
        raise AppError("not_a_folder", f"--batch needs a folder of certificate files; {folder} is not one")
    items = batch.items_from_dir(folder)
    if not items:
        raise AppError("empty_batch", f"{folder} holds no certificate files")
    with typer.progressbar(length=len(items), label="verifying", file=sys.stderr) as bar:
        results = batch.verify_all(items, trust.policy, progress=lambda _i, _r: bar.update(1))
    summary = batch.summary(results)
    if report is not None:
        text = batch.to_csv(results) if report.suffix.lower() == ".csv" else json.dumps(
            {"summary": summary, "results": results, "trust": [p.to_json() for p in trust.provenance()]},
            ensure_ascii=False, indent=2) + "\n"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(text, encoding="utf-8")
    if as_json:
        out_json({"summary": summary, "results": results, "trust": [p.to_json() for p in trust.provenance()]})
    else:
        for r in results:
            mark = "ok  " if r["verified"] else "FAIL"
            problem = f"  ({r['problem']})" if not r["verified"] and r.get("problem") else ""
            typer.echo(f"{mark} {r['verdict']:<14} {r['name']}{problem}")
        counts = ", ".join(f"{k} {v}" for k, v in summary.items() if k not in ("total", "verified"))
        typer.echo(f"{summary['verified']} of {summary['total']} verified ({counts})"
                   + (f"; report: {report}" if report else ""))
    return 0 if summary["verified"] == summary["total"] else 1


# ---------------------------------------------------------------- trust commands


def _fetch_document(did: str, ca_bundle: Path | None) -> tuple[dict[str, Any], str]:
    from keys.did import DidResolver, did_web_url
    from keys.errors import KeyMaterialError

    doc = Fetcher(ca_bundle=ca_bundle, fresh=True).did_document(did)
    try:
        DidResolver([doc])  # the document must parse as a DID document before it is pinned
    except KeyMaterialError as e:
        raise AppError("invalid_did_document", f"{did}: {e}") from None
    return doc, did_web_url(did)


def _fetch_bundle(did: str, doc: dict[str, Any], ca_bundle: Path | None) -> dict[str, Any] | None:
    """The issuer's signed bundle from its well-known URL, checked against the keys just fetched (its status
    lists then make the pin useful offline); None, with a line saying why, when there is none."""
    from urllib.parse import urlsplit

    from keys.did import did_web_url
    from titlecred.online import FetchError
    from verifier.bundle import MAX_BUNDLE_BYTES, WELL_KNOWN_PATH, BundleError, read_bundle

    parts = urlsplit(did_web_url(did))
    url = f"https://{parts.netloc}{WELL_KNOWN_PATH}"
    try:
        got = Fetcher(ca_bundle=ca_bundle, fresh=True).get_json(url, "bundle", MAX_BUNDLE_BYTES)[0]
        b = read_bundle(got, doc)
    except (FetchError, BundleError) as e:
        typer.echo(f"(no verification bundle kept: {e.message})")
        return None
    if b.issuer != did or truststore.key_changes(doc, b.did_document):
        typer.echo("(no verification bundle kept: it does not match the DID document just fetched)")
        return None
    typer.echo(f"kept the verification bundle of {b.date_text}: {len(b.status_lists)} status lists, usable offline")
    return {"date": b.date_text, "signedBy": b.signed_by, "statusLists": b.status_lists,
            "issuanceLog": b.issuance_log}


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        typer.echo(f"{question} [not confirmed: run again with --yes to accept]", err=True)
        return False
    return typer.confirm(question, default=False)


@trust_app.command("add")
def trust_add(did: str, ca_bundle: CaBundle = None, yes: Yes = False) -> None:
    """Fetch a did:web issuer's DID document over HTTPS, show its keys and their states, and pin it."""

    def run() -> int:
        if truststore.get(did) is not None:
            raise AppError("already_pinned", f"{did} is already pinned; use `titlecred trust refresh {did}`")
        doc, url = _fetch_document(did, ca_bundle)
        typer.echo(f"{did} (from {url}) publishes these keys:")
        for line in truststore.key_lines(doc):
            typer.echo(line)
        if not _confirm(f"Pin {did} with these keys?", yes):
            return 1
        truststore.save(truststore.Pin(did=did, did_document=doc, pinned_at=_now(), source=url,
                                       bundle=_fetch_bundle(did, doc, ca_bundle)))
        typer.echo(f"pinned {did}: `titlecred verify` now trusts it offline")
        return 0

    raise typer.Exit(guarded(run))


@trust_app.command("list")
def trust_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The pinned issuers, with their keys' states and when they were pinned."""

    def run() -> None:
        pins = truststore.load_all()
        if as_json:
            out_json([{**p.to_json(), "keys": truststore.keys_of(p.did_document)} for p in pins])
            return
        if not pins:
            typer.echo("no pinned issuers (titlecred trust add did:web:..., or trust import BUNDLE)")
        for p in pins:
            extra = f"; bundle of {p.bundle.get('date')}" if p.bundle else ""
            typer.echo(f"{p.did}  {p.name}  pinned {p.pinned_at} from {p.source}{extra}")
            for line in truststore.key_lines(p.did_document):
                typer.echo(line)

    guarded(run)


@trust_app.command("remove")
def trust_remove(did: str) -> None:
    """Forget a pinned issuer."""

    def run() -> None:
        if not truststore.remove(did):
            raise AppError("not_pinned", f"{did} is not pinned")
        typer.echo(f"removed {did}")

    guarded(run)


@trust_app.command("refresh")
def trust_refresh(did: Annotated[str | None, typer.Argument(help="One issuer (default: every pinned one)")] = None,
                  ca_bundle: CaBundle = None, yes: Yes = False) -> None:
    """Fetch each pinned did:web issuer again; a key change is shown and must be confirmed."""

    def run() -> int:
        pins = [truststore.get(did)] if did else truststore.load_all()
        if did and pins[0] is None:
            raise AppError("not_pinned", f"{did} is not pinned")
        code = 0
        for pin in pins:
            assert pin is not None
            if not pin.did.startswith("did:web:"):
                continue
            doc, url = _fetch_document(pin.did, ca_bundle)
            changes = truststore.key_changes(pin.did_document, doc)
            if not changes:
                pin.refreshed_at = _now()
                pin.bundle = _fetch_bundle(pin.did, doc, ca_bundle) or pin.bundle
                truststore.save(pin)
                typer.echo(f"{pin.did}: keys unchanged")
                continue
            typer.echo(f"{pin.did}: THE ISSUER'S KEYS CHANGED since the pin of {pin.pinned_at}:")
            for line in changes:
                typer.echo(f"  {line}")
            if _confirm(f"Accept these changes for {pin.did}?", yes):
                pin.did_document, pin.refreshed_at, pin.source = doc, _now(), url
                pin.bundle = _fetch_bundle(pin.did, doc, ca_bundle) or pin.bundle
                truststore.save(pin)
                typer.echo(f"{pin.did}: accepted")
            else:
                typer.echo(f"{pin.did}: NOT accepted; the pin is unchanged")
                code = 1
        return code

    raise typer.Exit(guarded(run))


@trust_app.command("import")
def trust_import(bundle: Path, yes: Yes = False) -> None:
    """Pin an issuer from its signed verification bundle (keys, status lists, log head): no network."""

    def run() -> int:
        b = read_bundle_file(bundle)
        pin = truststore.get(b.issuer)
        typer.echo(f"bundle of {b.issuer} ({b.issuer_name}) dated {b.date_text}, signed by {b.signed_by}; "
                   f"{len(b.status_lists)} status lists; issuance log head #{b.issuance_log.get('seq')}")
        if pin is not None:
            old = (pin.bundle or {}).get("date")
            if old and old > b.date_text:
                raise AppError("older_bundle", f"the pinned bundle of {b.issuer} is newer ({old}) than this one")
            changes = truststore.key_changes(pin.did_document, b.did_document)
            if changes:
                typer.echo("THE ISSUER'S KEYS CHANGED since the pin:")
                for line in changes:
                    typer.echo(f"  {line}")
                if not _confirm(f"Accept these changes for {b.issuer}?", yes):
                    typer.echo("NOT imported; the pin is unchanged")
                    return 1
        else:
            for line in truststore.key_lines(b.did_document):
                typer.echo(line)
            if not _confirm(f"Pin {b.issuer} with these keys?", yes):
                return 1
        now = _now()
        truststore.save(truststore.Pin(
            did=b.issuer, did_document=b.did_document, pinned_at=pin.pinned_at if pin else now,
            source=f"bundle {bundle.name}", name=b.issuer_name, refreshed_at=now,
            bundle={"date": b.date_text, "signedBy": b.signed_by, "statusLists": b.status_lists,
                    "issuanceLog": b.issuance_log}))
        typer.echo(f"imported: {b.issuer} is pinned, with its status as of {b.date_text}")
        return 0

    raise typer.Exit(guarded(run))

