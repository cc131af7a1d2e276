"""Helpers of the registry tests: valid identifiers, a movable clock, database snapshots, and a
`World` (a bureau, one organization of each kind, an account of each, holders) driven through the API.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import func, select

from titlecred.services.context import Registry

DID = "did:web:hrss.example.gov.cn"
PASSPHRASE = "test keystore passphrase"
PASSWORD = "correct horse battery staple"


def unit_code(seed: int) -> str:
    """A valid GB 32100 unified social credit code, different for each seed."""
    from schemas.identifiers import unit_code_check_char

    first17 = f"91{seed:015d}"
    return first17 + unit_code_check_char(first17)


def resident_id(region: str = "110105", born: str = "19850312", seq: int = 41) -> str:
    from schemas.identifiers import resident_id_check_char

    first17 = f"{region}{born}{seq:03d}"
    return first17 + resident_id_check_char(first17)


class Clock:
    """The registry's clock, movable by tests (status-list expiry, key compromise times)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def count(sessions: Any, model: Any, *where: Any) -> int:
    with sessions() as s:
        stmt = select(func.count()).select_from(model)
        for w in where:
            stmt = stmt.where(w)
        return int(s.exec(stmt).one())


def snapshot(sessions: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: compare before and after to prove that nothing changed."""
    from titlecred.db.models import metadata

    out: dict[str, list[tuple[Any, ...]]] = {}
    with sessions() as s:
        for name, table in sorted(metadata.tables.items()):
            # A token's last use is bookkeeping of the request itself, not a change it made.
            columns = [c for c in table.columns if c.name != "last_used_at"]
            rows = s.execute(select(*columns)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


@dataclass
class Actor:
    username: str
    token: str
    account_id: int
    org_id: int

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """A bureau, one organization of each kind, an account of each, and holders, all through the API."""

    client: TestClient
    sessions: Any
    registry: Registry
    orgs: dict[str, int] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def login(self, username: str, password: str = PASSWORD) -> str:
        r = self.client.post("/api/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def relogin(self) -> None:
        """New session tokens for everyone (after the clock was moved past their expiry)."""
        for actor in self.actors.values():
            actor.token = self.login(actor.username)

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]

    def boss(self) -> Any:
        """The bureau admin as a principal, for setting the scene through the services directly."""
        from titlecred.db.models import Account
        from titlecred.services.auth import principal_for

        with self.sessions() as s:
            account = s.get(Account, self["bureau"].account_id)
            return principal_for(s, account)

    def add_org(self, name: str, kind: str, seed: int, **links: Any) -> int:
        from titlecred.services import orgs

        with self.sessions() as s:
            org = orgs.create_org(s, self.registry, self.boss(), {"kind": kind, "name": name,
                                                                  "unitCode": unit_code(seed), **links})
        assert org.id is not None
        self.orgs[name] = org.id
        return org.id

    def add_account(self, name: str, org: str, role: str = "officer", person: dict[str, Any] | None = None) -> Actor:
        """An account made through the services (the API's own account creation has tests of its own)."""
        from titlecred.services import auth, orgs

        data: dict[str, Any] = {"username": name, "displayName": name, "role": role, "password": PASSWORD,
                                "person": person}
        with self.sessions() as s:
            new = orgs.create_account(s, self.registry, self.boss(), self.orgs[org], data)
            issued, _ = auth.login(s, self.registry, name, PASSWORD)
        assert new.account.id is not None
        actor = Actor(name, issued.token, new.account.id, self.orgs[org])
        self.actors[name] = actor
        return actor

    def application(self, holder: str, channel: str = "self_appointment", **facts: Any) -> dict[str, Any]:
        body = {"channel": channel, "qualification": "高级工程师", "series": "工程技术", "specialty": "建筑工程",
                "level": "副高级", "dateQualified": "2025-06-30", "namePinyin": "Zhang San", **facts}
        r = self.client.post("/api/applications", json=body, headers=self[holder].h)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def review(self, app_id: int, who: str, decision: str = "approve", **kw: Any) -> Any:
        return self.client.post(f"/api/applications/{app_id}/review", json={"decision": decision, **kw},
                                headers=self[who].h)

    def approve_all(self, app_id: int, *who: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for w in who:
            r = self.review(app_id, w)
            assert r.status_code == 200, r.text
            out = r.json()
        return out

    def issued(self, holder: str = "holder", **facts: Any) -> dict[str, Any]:
        """A certificate issued through the self-appointment chain."""
        app = self.application(holder, **facts)
        out = self.approve_all(app["id"], "employer", "supervisory", "bureau")
        assert out["certificate"] is not None
        return dict(out["certificate"])


def run_threads(n: int, fn: Any) -> list[Any]:
    """`fn(i)` for i in 0..n-1 on n threads released together; each result, or the exception it raised
    (for the test to assert on)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as e:  # surfaced in the caller's assertions
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(base: str, path: str = "/healthz", tries: int = 300) -> None:
    """Until a served instance answers 200 at `path` (0.1 s between tries)."""
    for _ in range(tries):
        try:
            if httpx.get(f"{base}{path}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{base} did not come up")
