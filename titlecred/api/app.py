"""The FastAPI application factory: `create_app(settings) -> FastAPI`.

It wires the registry (issuer profile, keystore, configuration), the database engine, the body-size
limit, the problem+json handlers and the routers. It does not migrate the database (`titlecred serve`
runs `alembic upgrade head` first) and holds no rule of its own.

It must never migrate or write to the database itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import Engine

from titlecred import site_identity
from titlecred.api import problems
from titlecred.api.accesslog import AccessLog
from titlecred.api.compress import PublicGzip
from titlecred.api.fastpath import PublicFastPath
from titlecred.api.limits import BodyLimit
from titlecred.api.routes import (
    apidocs,
    applications,
    auth,
    batch_runs,  # issue 17
    certificates,
    conversions,
    elicense,
    issuance,
    legacy,
    lookup,
    oid4vci,
    oid4vp,
    ops,
    orgs,
    public,
    reissue_requests,
    shares,
    slips,
    uploads,
    vcapi,
    verification_public,
)
from titlecred.api.verify_fast import VerifyFastPath
from titlecred.db.engine import make_engine, session_factory
from titlecred.issuer_profile import load_profile, open_keystore
from titlecred.issuers import load_instances
from titlecred.services.clock import utc_now
from titlecred.services.config import RegistryConfig, load_registry_config
from titlecred.services.context import KeyProvider, Registry
from titlecred.services.senders import make_sender
from titlecred.services.status_cache import StatusCache
from titlecred.settings import Settings
from titlecred.web.install import STATIC_DIR
from titlecred.web.install import install as install_pages
from titlecred.web.routes import portal_verify

DESCRIPTION = """The registry of electronic professional title certificates (电子职称证书): organizations and
accounts, applications through the four channels and their review chains, issuance as W3C Verifiable
Credentials, status lists, reissue, paper conversion, legacy records, query slips, the audit log, and the
W3C VC API. Authenticate with `Authorization: Bearer <token>` (POST /api/auth/login, or an API token).
Every error is application/problem+json with a stable `code`."""


def build_registry(settings: Settings, config: RegistryConfig | None = None,
                   clock: Callable[[], datetime] | None = None) -> Registry:
    """The issuer (profile and keystore) of `settings.home`; fails at once if there is none."""
    profile = load_profile(settings)
    config = config or load_registry_config(settings)
    registry = Registry(profile=profile, keys=KeyProvider(open_keystore(settings)), base_url=settings.base_url,
                        config=config, clock=clock or utc_now, sender=make_sender(config.code_sender))
    for inst in load_instances(settings):
        registry.add_instance(inst.name, inst.profile, KeyProvider(inst.keystore))
    return registry


def create_app(settings: Settings, config: RegistryConfig | None = None, *, registry: Registry | None = None,
               engine: Engine | None = None) -> FastAPI:
    registry = registry or build_registry(settings, config)
    engine = engine or make_engine(settings.database_url)
    app = FastAPI(title="TitleCred registry", version="0.1.0", description=DESCRIPTION, docs_url=None, redoc_url=None)
    app.state.registry = registry
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.site = site_identity.load(settings, registry.profile.name)
    app.state.site_emblem = site_identity.emblem_path(settings, app.state.site)
    app.state.status_cache = StatusCache(registry, app.state.sessions)  # issue 17: lists from memory
    problems.install(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(AccessLog)
    app.add_middleware(PublicGzip)
    app.add_middleware(PublicFastPath, state=app.state, static_dir=STATIC_DIR)  # public GETs from memory
    app.add_middleware(VerifyFastPath, state=app.state)  # outermost: POST /credentials/verify, no framework
    # One router a line: branches that add routes then merge without conflicts.
    routers = (
        public,
        vcapi,
        auth,
        orgs,
        applications,
        uploads,
        conversions,
        issuance,
        certificates,
        legacy,
        slips,
        lookup,
        reissue_requests,
        oid4vci,
        oid4vp,
        verification_public,
        apidocs,
        portal_verify,
        shares,
        elicense,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(batch_runs.router)
    app.include_router(ops.router)
    install_pages(app)
    return app
