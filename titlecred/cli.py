"""The `titlecred` command line. Commands are thin: they parse, call one service, and print.

Exit codes: 0 success (for `verify`: verified), 1 not verified, 2 unusable input or a refused
operation. Errors are one line, `error[code]: message`, never a traceback; with --json the code is
in the JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from titlecred.errors import AppError, error_code, error_message
from titlecred.settings import load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="TitleCred: electronic professional title certificates (电子职称证书) as "
                       "W3C Verifiable Credentials.")
keys_app = typer.Typer(no_args_is_help=True, help="Issuer keys: generate, list, rotate, retire, revoke, publish.")
app.add_typer(keys_app, name="keys")

T = TypeVar("T")


def fail(code: str, message: str, as_json: bool = False) -> NoReturn:
    if as_json:
        typer.echo(json.dumps({"verified": False, "checks": [], "errors": [{"code": code, "message": message}]},
                              ensure_ascii=False))
    else:
        typer.echo(f"error[{code}]: {message}", err=True)
    raise typer.Exit(2)


def guarded(fn: Callable[[], T], as_json: bool = False) -> T:
    """Run `fn`; any typed error of ours becomes one line and exit 2 (never a traceback)."""
    try:
        return fn()
    except typer.Exit:
        raise
    except Exception as e:
        code = error_code(e)
        # SQLAlchemy errors carry a `.code` too, and their text can hold SQL parameters (personal data).
        if code is None or type(e).__module__.startswith("sqlalchemy"):
            raise
        fail(code, error_message(e), as_json)


def out_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2))


# ---------------------------------------------------------------- keys
@keys_app.command("generate")
def keys_generate(
    did: Annotated[str | None, typer.Option(help="The issuer's DID (did:web:...), first time only")] = None,
    name: Annotated[str | None, typer.Option(help="The issuer's name, e.g. 某市人力资源和社会保障局")] = None,
    unit_code: Annotated[str | None, typer.Option(help="The issuer's unified social credit code")] = None,
) -> None:
    """Create the issuer (first time) and its first active signing key."""
    from issuer.credential import IssuerProfile
    from schemas.identifiers import validate_unit_code
    from titlecred.issuer_profile import DEFAULT_DID, DEFAULT_NAME, load_profile, open_keystore, save_profile

    def run() -> None:
        settings = load_settings()
        if settings.issuer_file.exists():
            profile = load_profile(settings)
            if did and did != profile.did:
                raise AppError("issuer_exists", f"this home already belongs to issuer {profile.did}")
        else:
            code = validate_unit_code(unit_code) if unit_code else None
            profile = IssuerProfile(did=did or DEFAULT_DID, name=name or DEFAULT_NAME, unit_code=code)
            save_profile(settings, profile)
        record = open_keystore(settings).generate(profile.did)
        typer.echo(f"generated {record.key_id} ({record.state.value}) for {profile.name}")

    guarded(run)


@keys_app.command("list")
def keys_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List every key with its state (never any private material)."""
    from titlecred.issuer_profile import open_keystore

    def run() -> None:
        records = open_keystore(load_settings()).list()
        rows = [_key_row(r) for r in records]
        if as_json:
            out_json(rows)
            return
        for row in rows:
            extra = f"  compromised at {row['compromisedAt']}" if row.get("compromisedAt") else ""
            typer.echo(f"{row['id']}  {row['state']:<8}  {row['publicKeyMultibase']}{extra}")

    guarded(run)


def _key_row(record: Any) -> dict[str, Any]:
    from proofs.dataintegrity import format_datetime

    row: dict[str, Any] = {"id": record.key_id, "state": record.state.value,
                           "publicKeyMultibase": record.public_key_multibase}
    if record.compromised_at:
        row["compromisedAt"] = format_datetime(record.compromised_at)
    return row


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Make a new active key; the previous one is retired (it still verifies what it signed)."""
    from titlecred.issuer_profile import open_keystore

    def run() -> None:
        record = open_keystore(load_settings()).rotate()
        typer.echo(f"rotated: {record.key_id} is now active; the previous key is retired")

    guarded(run)


@keys_app.command("retire")
def keys_retire(key_id: str) -> None:
    """Retire a key: it signs no more, and still verifies what it signed."""
    from titlecred.issuer_profile import open_keystore

    def run() -> None:
        open_keystore(load_settings()).retire(_full_key_id(key_id))
        typer.echo(f"retired {key_id}")

    guarded(run)


@keys_app.command("revoke")
def keys_revoke(
    key_id: str,
    compromised_at: Annotated[str, typer.Option(help="When the key was compromised (YYYY-MM-DDTHH:MM:SSZ)")],
    reason: Annotated[str, typer.Option(help="Why (kept with the key)")] = "key compromise",
) -> None:
    """Revoke a compromised key: whatever it signed after the compromise time fails."""
    from proofs.dataintegrity import parse_datetime
    from titlecred.issuer_profile import open_keystore

    def run() -> None:
        when = parse_datetime(compromised_at)
        if when is None:
            raise AppError("invalid_date", f"--compromised-at {compromised_at!r} is not YYYY-MM-DDTHH:MM:SSZ")
        open_keystore(load_settings()).revoke(_full_key_id(key_id), when, reason)
        typer.echo(f"revoked {key_id} (compromised at {compromised_at})")

    guarded(run)


def _full_key_id(key_id: str) -> str:
    if key_id.startswith("did:"):
        return key_id
    from titlecred.issuer_profile import load_profile

    did = load_profile(load_settings()).did
    return f"{did}#{key_id.lstrip('#')}"


@keys_app.command("publish")
def keys_publish(out: Annotated[Path, typer.Option(help="Folder to write did.json and jwks.json into")]) -> None:
    """Write the issuer's did:web DID document and JWKS (every key, with its state)."""
    from keys.publish import write_published
    from titlecred.issuer_profile import load_profile, open_keystore

    def run() -> None:
        settings = load_settings()
        profile = load_profile(settings)
        did_path, jwks_path = write_published(out, profile.did, open_keystore(settings).list())
        typer.echo(f"wrote {did_path} and {jwks_path}")

    guarded(run)


# ---------------------------------------------------------------- issue / sign
@app.command("issue")
def issue_cmd(
    record: Path,
    key: Annotated[str | None, typer.Option("--key", help="Key id to sign with (default: the active key)")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the two credentials")] = Path("."),
) -> None:
    """Sign the full and the minimal credential of one certificate record (JSON)."""
    from issuer.record import parse_record
    from issuer.sign import issue_pair
    from titlecred.issuer_profile import issuer_key, load_profile, open_keystore
    from titlecred.services.elicense_id import with_identifier
    from titlecred.services.printability import with_print_form
    from titlecred.trust import read_json_file

    def run() -> None:
        settings = load_settings()
        profile = load_profile(settings)
        rec = with_identifier(with_print_form(parse_record(read_json_file(record, "record"))), profile)
        pair = issue_pair(rec, profile, issuer_key(open_keystore(settings), _full_key_id(key) if key else None))
        out.mkdir(parents=True, exist_ok=True)
        stem = rec.certificateNumber
        full_path, min_path = out / f"{stem}.full.json", out / f"{stem}.minimal.json"
        for path, doc in ((full_path, pair.full), (min_path, pair.minimal)):
            path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"issued {stem}: {full_path} (holder's full credential), {min_path} (minimal form)")

    guarded(run)


@app.command("sign")
def sign_cmd(
    document: Path,
    secret_key_multibase: Annotated[str, typer.Option(help="Ed25519 secret key, multibase (z3u2...)")],
    verification_method: Annotated[str, typer.Option(help="Verification method id for the proof")],
    created: Annotated[str, typer.Option(help="Proof creation time, YYYY-MM-DDTHH:MM:SSZ")],
    cryptosuite: Annotated[str, typer.Option(help="eddsa-rdfc-2022 or eddsa-jcs-2022")] = "eddsa-rdfc-2022",
) -> None:
    """Sign any JSON-LD document with a given key (test vectors, interop); prints the signed document."""
    from issuer.sign import IssuerKey, sign_document
    from keys.material import SigningKey
    from proofs.dataintegrity import parse_datetime
    from titlecred.trust import read_json_file

    def run() -> None:
        doc = read_json_file(document, "document")
        if not isinstance(doc, dict):
            raise AppError("malformed_document", "the document must be a JSON object")
        if parse_datetime(created) is None:
            raise AppError("invalid_date", f"--created {created!r} is not an XML Schema date-time stamp")
        signer = SigningKey.from_secret_multibase(secret_key_multibase)
        key = IssuerKey(verification_method=verification_method, sign=signer.sign)
        out_json(sign_document(doc, key, created=created, cryptosuite=cryptosuite))

    guarded(run)


# ---------------------------------------------------------------- verify
@app.command("verify")
def verify_cmd(
    file: Annotated[str, typer.Argument(help="A credential JSON, certificate PDF, photo or QR-text file, "
                                             "or the QR text itself (TC1:… or its link)")],
    trust_file: Annotated[list[Path] | None,
                          typer.Option("--trust", help="Issuer DID document or JWKS (repeatable)")] = None,
    status_list: Annotated[list[Path] | None,
                           typer.Option("--status-list", help="Status list credential (repeatable)")] = None,
    trust_issuer: Annotated[list[str] | None,
                            typer.Option("--trust-issuer", help="Also trust this issuer DID (e.g. a did:key)")] = None,
    no_local_trust: Annotated[bool, typer.Option("--no-local-trust",
                                                 help="Do not trust this home's own issuer")] = False,
    online: Annotated[bool, typer.Option("--online", help="Fetch the issuer's did:web DID document and the "
                                         "status lists over HTTPS (cached per user)")] = False,
    bundle: Annotated[Path | None, typer.Option("--bundle", help="The issuer's signed verification bundle: "
                                                "verify offline, status as of its date")] = None,
    batch: Annotated[bool, typer.Option("--batch", help="FILE is a folder (PDFs, photos, credentials, ZIPs): "
                                        "verify each, with a progress bar")] = False,
    report: Annotated[Path | None, typer.Option("--report", help="With --batch: write the report (.csv or "
                                                ".json)")] = None,
    ca_bundle: Annotated[Path | None, typer.Option("--ca-bundle", help="PEM file of CAs for HTTPS (default: "
                                                  "TITLECRED_CA_BUNDLE, else the system's)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the structured result")] = False,
) -> None:
    """Verify a credential. Exit 0 if verified, 1 if not, 2 if the input is unreadable or unsupported."""
    from titlecred.cli_trust import print_provenance, run_batch, verify_trust
    from verifier.result import UNCHECKED

    def trust() -> Any:
        return verify_trust(load_settings(), trust_files=list(trust_file or []), status_files=list(status_list or []),
                            trusted_issuers=list(trust_issuer or []), no_local_trust=no_local_trust, online=online,
                            bundle=bundle, ca_bundle=ca_bundle)

    if batch:
        raise typer.Exit(guarded(lambda: run_batch(Path(file), trust(), report=report, as_json=as_json), as_json))
    verifier = guarded(trust, as_json)

    def run() -> Any:
        from titlecred.ofd_seal_key import trusted_seal_keys
        from titlecred.printed import verify_input

        seal_keys = frozenset() if no_local_trust else trusted_seal_keys(load_settings())
        return verify_input(file, verifier.policy, seal_keys=seal_keys)

    result = guarded(run, as_json)
    if as_json:
        out_json({**result.to_json(), "trust": [p.to_json() for p in verifier.provenance()]})
    else:
        _print_result(result)
        print_provenance(verifier)
    if result.errors or result.verdict in UNCHECKED:
        raise typer.Exit(2)  # unreadable or unsupported: nothing was checked, no verdict on the credential
    raise typer.Exit(0 if result.verified else 1)


def _print_result(result: Any) -> None:
    for err in result.errors:
        typer.echo(f"error[{err['code']}]: {err['message']}", err=True)
    for check in result.checks:
        mark = {"passed": "ok  ", "failed": "FAIL", "indeterminate": "??  ", "skipped": "--  "}[check.outcome]
        typer.echo(f"  {mark} {check.name:<9} {check.reason}")
    typer.echo(f"verdict: {result.verdict}" + (" (verified)" if result.verified else " (NOT verified)"))


# Commands of the registry (serve, demo, audit...) and of printing (render) register themselves on `app`.
from titlecred import (  # noqa: E402
    cli_batch,
    cli_elicense,
    cli_issuers,
    cli_printing,
    cli_registry,
    cli_site,
    cli_trust,
)

_ = (cli_batch, cli_elicense, cli_issuers, cli_printing, cli_registry, cli_site, cli_trust)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

