"""`titlecred batch`: issue approved applications in bulk, resumably, from many processes; read a run back.

- `titlecred batch issue [--upload-batch N] [--run ID] [--chunk 250] [--processes K] [--as USER]`: joins
  the oldest unfinished run (or the one given), else starts one over every approved application; shows
  a progress bar; killed at any moment, run it again and it resumes. Run it on several machines at
  once against one PostgreSQL database: they share the run.
- `titlecred batch show RUN [--json]`, `titlecred batch items RUN [--state failed] [--json]`.

Exit codes: 0 every item settled; 1 some items failed (listed by `batch items RUN --state failed`);
2 a refused operation or unusable input.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Annotated, Any

import typer
from sqlmodel import Session, col, select

from titlecred.cli import app, fail
from titlecred.errors import AppError
from titlecred.settings import load_settings

batch_app = typer.Typer(no_args_is_help=True, help="Batch issuance: issue approved applications in bulk; runs.")
app.add_typer(batch_app, name="batch")


def _guard(fn: Any) -> Any:
    from titlecred.cli_registry import _guard as guard  # late: cli_registry imports the CLI that imports us

    return guard(fn)


def _sessions(settings: Any) -> Any:
    from titlecred.cli_registry import _sessions as sessions

    return sessions(settings)


def _principal(session: Session, username: str | None) -> Any:
    from titlecred.db.models import Account, Organization
    from titlecred.services.principal import BUREAU, Principal

    stmt = select(Account, Organization).join(Organization, col(Organization.id) == col(Account.org_id)).where(
        Organization.kind == BUREAU, col(Account.active).is_(True), col(Account.role).in_(("admin", "officer")))
    if username is not None:
        stmt = stmt.where(Account.username == username)
    row = session.exec(stmt.order_by(col(Account.id))).first()
    if row is None:
        raise AppError("no_bureau_account", "no active bureau officer or admin account"
                       + (f" named {username}" if username else "") + " (titlecred bootstrap makes one)")
    account, org = row
    assert account.id is not None and org.id is not None
    return Principal(account_id=account.id, username=account.username, org_id=org.id, org_kind=org.kind,
                     role=account.role, person_id=account.person_id)


@batch_app.command("issue")
def batch_issue(
    upload_batch: Annotated[int | None, typer.Option(help="Only the applications of this upload batch")] = None,
    run: Annotated[int | None, typer.Option(help="Join or resume this run (default: the oldest unfinished one, "
                                                "else a new one)")] = None,
    chunk: Annotated[int, typer.Option(min=1, max=5000, help="Certificates per transaction")] = 250,
    processes: Annotated[int, typer.Option(min=1, max=64, help="Worker processes on this machine")] = 1,
    as_user: Annotated[str | None, typer.Option("--as", help="The bureau account the audit log names")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar (one line at the end)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's totals as JSON")] = False,
) -> None:
    """Issue every approved application in chunks (one transaction each); resumable after any crash."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from titlecred.api.app import build_registry
    from titlecred.services import batch

    settings = load_settings()

    def prepare() -> tuple[Any, Any, int, int, int]:
        registry = build_registry(settings)
        session = _sessions(settings)()
        actor = _principal(session, as_user)
        target = batch.get_run(session, run) if run is not None else batch.open_run(session, upload_batch)
        if target is None:
            target = batch.start_run(session, registry, actor, upload_batch)
        assert target.id is not None
        c = batch.counts(session, target.id)
        session.rollback()
        return registry, session, target.id, target.total, target.total - c.get("pending", 0)

    registry, session, run_id, total, done = _guard(prepare)
    helpers: list[subprocess.Popen[bytes]] = []
    for _ in range(processes - 1):
        cmd = [sys.executable, "-c", "from titlecred.cli import main; main()", "batch", "issue",
               "--run", str(run_id), "--chunk", str(chunk), "--quiet"] + (["--as", as_user] if as_user else [])
        helpers.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL))
    started = time.perf_counter()
    actor = _guard(lambda: _principal(session, as_user))
    if quiet or as_json:
        progress = _guard(lambda: batch.work(session, registry, actor, run_id, chunk=chunk))
    else:
        with Progress(TextColumn(f"run {run_id}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                      TimeRemainingColumn(), transient=False) as bar:
            task = bar.add_task("issue", total=total, completed=done, rate="")
            last = [time.perf_counter(), done]

            def tick(res: Any) -> None:
                # Other processes settle items too: the bar shows the run's own count now and then.
                now = time.perf_counter()
                if now - last[0] > 0.5:
                    settled = total - batch.counts(session, run_id).get("pending", 0)
                    session.rollback()
                    bar.update(task, completed=settled, rate=f"{(settled - last[1]) / (now - last[0]):,.0f}/s")
                    last[0], last[1] = now, settled
                else:
                    bar.advance(task, res.issued + res.failed)

            progress = _guard(lambda: batch.work(session, registry, actor, run_id, chunk=chunk, on_chunk=tick))
            bar.update(task, completed=total - batch.counts(session, run_id).get("pending", 0))
    for h in helpers:
        h.wait()
    elapsed = time.perf_counter() - started
    counts = _guard(lambda: batch.counts(session, run_id))
    summary = {"runId": run_id, "total": total, "counts": counts, "thisProcess": {"issued": progress.issued,
               "failed": progress.failed, "seconds": round(elapsed, 3)}}
    if as_json:
        print(json.dumps(summary))
    else:
        print(f"run {run_id}: {counts.get('issued', 0)} issued, {counts.get('failed', 0)} failed, "
              f"{counts.get('pending', 0)} pending of {total} ({progress.issued} here in {elapsed:.1f} s)")
    raise typer.Exit(1 if counts.get("failed", 0) else 0)


@batch_app.command("show")
def batch_show(run_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A run's totals."""
    from titlecred.services import batch

    settings = load_settings()

    def read() -> dict[str, Any]:
        with _sessions(settings)() as s:
            r = batch.get_run(s, run_id)
            return {"id": r.id, "state": r.state, "total": r.total, "counts": batch.counts(s, run_id),
                    "uploadBatchId": r.upload_batch_id, "actor": r.actor, "createdAt": r.created_at.isoformat(),
                    "finishedAt": r.finished_at.isoformat() if r.finished_at else None}

    data = _guard(read)
    if as_json:
        print(json.dumps(data))
    else:
        print(f"run {data['id']} ({data['state']}): {data['total']} applications; "
              + ", ".join(f"{k} {v}" for k, v in sorted(data["counts"].items())))


@batch_app.command("items")
def batch_items(
    run_id: int,
    state: Annotated[str | None, typer.Option(help="pending | issued | failed | superseded")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """Every application of a run with its outcome (certificate number, or error code and message)."""
    from titlecred.services import batch

    if state is not None and state not in ("pending", "issued", "failed", "superseded"):
        fail("invalid_state", "state is one of pending, issued, failed, superseded")
    settings = load_settings()

    def read() -> None:
        with _sessions(settings)() as s:
            batch.get_run(s, run_id)
            after = 0
            while True:
                page = batch.items(s, run_id, state=state, after=after, limit=5000)
                if not page:
                    return
                for i in page:
                    row = {"applicationId": i.application_id, "state": i.state,
                           "certificateNumber": i.certificate_number, "code": i.code, "message": i.message}
                    if as_json:
                        print(json.dumps(row, ensure_ascii=False))
                    else:
                        print(f"{i.application_id}\t{i.state}\t{i.certificate_number or ''}\t{i.code or ''}"
                              f"\t{i.message or ''}")
                after = page[-1].id or after

    _guard(read)
