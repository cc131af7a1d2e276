"""How pages show what services return: times in China Standard Time, an application's place in
its review chain. Shared by the holder pages, the lookup page and the portals (no rule here)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from titlecred.db.models import Application
from titlecred.services import applications
from titlecred.services.clock import CHINA, parse_stamp


def when(value: datetime | str | None) -> str:
    """A time as people here read it: China Standard Time, to the minute."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            moment = parse_stamp(value)
        except ValueError:
            return value
    else:
        moment = value
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def chain_view(app: Application, steps: list[Any], org_name: Callable[[int | None], str]) -> list[dict[str, Any]]:
    """Each stage of the chain with where the application stands there (passed, current, waiting,
    returned or rejected), as its stored state and steps say."""
    chain = applications.chain_of(app)
    stopped_at = None
    if app.state in ("returned", "rejected"):
        last = next((s for s in reversed(steps) if s.action in ("returned", "rejected")), None)
        stopped_at = next((i for i, c in enumerate(chain) if last is not None and c["stage"] == last.stage), None)
    out = []
    for i, stage in enumerate(chain):
        if app.state in ("approved", "issued"):
            where = "passed"
        elif app.state == "pending":
            where = "passed" if i < app.stage_index else "current" if i == app.stage_index else "waiting"
        elif stopped_at is not None:
            where = "passed" if i < stopped_at else app.state if i == stopped_at else "waiting"
        else:
            where = "waiting"
        out.append({"stage": stage["stage"], "org": org_name(stage["orgId"]), "where": where})
    return out
