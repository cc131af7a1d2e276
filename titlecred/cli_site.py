"""`titlecred site show|set`: the bureau's identity on its pages (name, emblem, sponsor, contact, ICP and
public security filing numbers), kept in $TITLECRED_HOME/site.json (titlecred/site_identity.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from titlecred.cli import app, guarded, out_json
from titlecred.settings import load_settings

site_app = typer.Typer(no_args_is_help=True, help="The bureau's identity on its pages: name, emblem, footer.")
app.add_typer(site_app, name="site")


@site_app.command("show")
def site_show() -> None:
    """Print the site identity (JSON)."""
    from titlecred import site_identity

    guarded(lambda: out_json(site_identity.load(load_settings()).to_json()))


@site_app.command("set")
def site_set(
    name: Annotated[str | None, typer.Option(help="The bureau's name in the page header")] = None,
    sponsor: Annotated[str | None, typer.Option(help="主办单位, in the footer")] = None,
    contact: Annotated[str | None, typer.Option(help="Contact (telephone, address), in the footer")] = None,
    icp: Annotated[str | None, typer.Option(help="ICP filing number (ICP备案号), e.g. 晋ICP备12345678号")] = None,
    public_security: Annotated[str | None, typer.Option(help="Public security filing number (公安备案号)")] = None,
    emblem: Annotated[Path | None, typer.Option(help="Emblem image (.png, .jpg or .svg, at most 256 KB)")] = None,
) -> None:
    """Set parts of the site identity (an empty value removes one); restart `serve` to show it."""
    from titlecred import site_identity

    def run() -> None:
        site = site_identity.save(load_settings(), {"name": name, "sponsor": sponsor, "contact": contact, "icp": icp,
                                                    "publicSecurity": public_security}, emblem)
        out_json(site.to_json())

    guarded(run)
