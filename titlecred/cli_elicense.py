"""`titlecred elicense export --from DATE --to DATE [--format csv|json] --out FILE`: the e-license metadata
batch of the certificates issued in a date range (China dates), for the provincial library's import."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from titlecred.cli import app, guarded
from titlecred.errors import AppError

elicense_app = typer.Typer(help="E-license exports for the provincial library (GB/T 36903 metadata)")
app.add_typer(elicense_app, name="elicense")


@elicense_app.command("export")
def export_cmd(
    start: Annotated[str, typer.Option("--from", help="First issue date (YYYY-MM-DD, China time)")],
    end: Annotated[str, typer.Option("--to", help="Last issue date (YYYY-MM-DD, included)")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the batch")],
    fmt: Annotated[str, typer.Option("--format", help="csv (the library's import batch) or json")] = "csv",
) -> None:
    """Export the e-license metadata of every certificate issued in the range (the bureau's database)."""
    from sqlmodel import select

    from issuer.elicense_meta import to_csv
    from titlecred.cli_registry import _sessions
    from titlecred.db.models import Organization
    from titlecred.services import elicense
    from titlecred.services.principal import BUREAU, Principal
    from titlecred.settings import load_settings

    def run() -> None:
        if fmt not in ("csv", "json"):
            raise AppError("invalid_format", "--format is csv or json")
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            raise AppError("invalid_date", "--from and --to are dates YYYY-MM-DD") from None
        # Whoever runs the CLI on the bureau's host acts as the bureau (as `titlecred serve` does).
        with _sessions(load_settings())() as session:
            bureau = session.exec(select(Organization).where(Organization.kind == BUREAU)).first()
            if bureau is None or bureau.id is None:
                raise AppError("no_bureau", "the database has no bureau: run 'titlecred bootstrap' first")
            actor = Principal(account_id=0, username="cli", org_id=bureau.id, org_kind=BUREAU, role="officer")
            rows = elicense.batch(session, actor, first, last)
        data = to_csv(rows) if fmt == "csv" else json.dumps(rows, ensure_ascii=False, indent=2).encode("utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        typer.echo(f"exported {len(rows)} certificate(s) to {out}")

    guarded(run)


@elicense_app.command("deliver")
def deliver_cmd(
    endpoint: Annotated[str | None, typer.Option("--endpoint", help="The library's endpoint (default: "
                                                 "TITLECRED_ELICENSE_ENDPOINT)")] = None,
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due, then exit")] = False,
    batch: Annotated[int, typer.Option("--batch", min=1, max=100, help="Rows claimed at a time")] = 10,
    lease: Annotated[float, typer.Option("--lease", min=1, help="Seconds a claim holds a row")] = 120.0,
    idle: Annotated[float, typer.Option("--idle", min=0.05, help="Seconds to wait when nothing is due")] = 2.0,
    seal: Annotated[bool, typer.Option("--seal/--no-seal", help="Seal the OFDs with this home's seal key")] = True,
    worker: Annotated[str | None, typer.Option("--worker", help="This deliverer's name (default: host:pid)")] = None,
) -> None:
    """Push the outbox's license events (issued, reissued, revoked) to the provincial library; run as
    many as you like, on any hosts: they share the work through the database."""
    import os
    import socket
    import time
    from datetime import timedelta

    from titlecred.api.app import build_registry
    from titlecred.cli_registry import _sessions
    from titlecred.services.outbox import Deliverer, HttpTransport
    from titlecred.settings import load_settings

    def run() -> None:
        settings = load_settings()
        url = endpoint or os.environ.get("TITLECRED_ELICENSE_ENDPOINT")
        if not url:
            raise AppError("no_endpoint", "no library endpoint: give --endpoint or set TITLECRED_ELICENSE_ENDPOINT")
        registry = build_registry(settings)
        sealer = None
        if seal:
            from printing.ofd.seal import seal_ofd
            from titlecred.ofd_seal_key import load_signer

            signer = load_signer(settings, registry.profile.name)

            def sealer(data: bytes) -> bytes:
                return seal_ofd(data, signer)

        deliverer = Deliverer(_sessions(settings), registry, HttpTransport(url), worker or
                              f"{socket.gethostname()}:{os.getpid()}", lease=timedelta(seconds=lease), batch=batch,
                              seal=sealer)
        total = 0
        while True:
            delivered = deliverer.run_once()
            total += delivered
            if once and delivered == 0:
                break
            if delivered == 0:
                time.sleep(idle)
        typer.echo(f"delivered {total} license event(s)")

    guarded(run)
