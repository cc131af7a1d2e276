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
