"""`titlecred issuers add|list`: further issuer instances beside the bureau (see titlecred/issuers.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from titlecred.cli import app, guarded
from titlecred.settings import load_settings

issuers_app = typer.Typer(no_args_is_help=True, help="Further issuer instances (e.g. a did:key issuer).")
app.add_typer(issuers_app, name="issuers")


@issuers_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="1-12 lowercase letters a-z")],
    did_key: Annotated[bool, typer.Option("--did-key", help="A did:key issuer with a new Ed25519 key")] = False,
    display_name: Annotated[str | None, typer.Option("--name", help="The issuer's name in its credentials")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the new issuer's DID")] = False,
) -> None:
    """Add an issuer instance (did:key only, for now: a body without a website, or conformance tests)."""
    from titlecred.errors import AppError
    from titlecred.issuers import add_did_key

    def run() -> str:
        if not did_key:
            raise AppError("unsupported_issuer", "only --did-key issuer instances can be added")
        return add_did_key(load_settings(), name, display_name).profile.did

    did = guarded(run)
    if quiet:
        typer.echo(did)
    else:
        typer.echo(f"issuer instance {name}: {did}")
        typer.echo(f"  issues at /issuers/{name}/credentials/issue (and /credentials/issue with issuer {did})")
        typer.echo("  restart titlecred serve to load it")


@issuers_app.command("list")
def list_() -> None:
    """The configured issuer instances, their DIDs and endpoints."""
    from titlecred.issuers import load_instances

    for inst in guarded(lambda: load_instances(load_settings())):
        typer.echo(f"{inst.name:<12} {inst.profile.did}  /issuers/{inst.name}/credentials/issue")
