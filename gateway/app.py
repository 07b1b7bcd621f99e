"""The gateway app: the door around a few routes of its own; everything else is proxied to the services."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from gateway import admin, alerts_api, audit_api, internal, me_api, ops, organisations, people_api, proofs_api
from gateway.audit import AuditWriter
from gateway.audit_settings import get_audit_settings
from gateway.auth import Authenticator, admin_token
from gateway.checkpoints import Checkpointer
from gateway.console.app import create_console
from gateway.door import Door
from gateway.proxy import proxy_session
from gateway.ratelimit import SharedWindow
from gateway.revocations import RevocationListener
from gateway.scan_jobs import ScanJobs
from gateway.sequencer import Sequencer
from gateway.sessions import SessionStore
from gateway.signing import load_signer
from gateway.verification import FullChecks, SharedVerification, verify_pool
from gateway.witness import Witness
from services.kernel.db import create_engine, plain_url, server_settings, session_factory
from services.kernel.errors import install_error_handlers
from services.kernel.http import ServiceClient, make_client
from services.kernel.logs import configure_logging
from services.kernel.memdebug import install as install_memdebug
from services.kernel.settings import database_url, get_settings
from services.kernel.topology import GATEWAY_SCHEMA, SERVICES


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging("gateway", settings.log_level)
    audit_settings = get_audit_settings()
    signer = load_signer(audit_settings)  # production without an explicit key file stops here (A6)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_memdebug("gateway")  # issue #14: off unless FUNDTRACK_MEMDEBUG_DIR is set
        engine = create_engine(GATEWAY_SCHEMA)  # its pool sized by `fundtrack up` (deploy/pools.py)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        app.state.public_posts = SharedWindow(  # S16
            engine, settings.service_secret, limit=settings.public_posts_per_minute,
            window=settings.public_posts_window_seconds,
        )
        app.state.sign_ins = SharedWindow(  # S19: a client address's sign-in attempts
            engine, settings.service_secret, limit=settings.sign_ins_per_minute, window=60.0, purpose="sign-ins"
        )
        forgetting = asyncio.create_task(app.state.public_posts.sweep())
        app.state.authenticator = Authenticator(engine, admin_token(settings.data_dir))
        app.state.session_store = SessionStore(engine, settings.service_secret)  # people (issue #19)
        app.state.revocations = RevocationListener(app.state.authenticator.cache)
        app.state.revocations.start()
        app.state.service_http = {name: make_client(spec.base_url) for name, spec in SERVICES.items()}
        app.state.proxy = proxy_session()
        app.state.service_urls = {name: spec.base_url for name, spec in SERVICES.items()}
        outbox_clients = {name: ServiceClient(name, spec.base_url, caller="gateway") for name, spec in SERVICES.items()}
        app.state.audit_writer = AuditWriter(engine)
        app.state.audit_writer.start()
        app.state.sequencer = Sequencer(engine, outbox_clients)
        app.state.sequencer.start()
        app.state.checkpointer = Checkpointer(
            engine, signer, Witness(audit_settings.witness_path()), interval=audit_settings.checkpoint_seconds
        )
        app.state.checkpointer.start()
        verifiers = verify_pool(
            audit_settings, plain_url(database_url()), server_settings(GATEWAY_SCHEMA, use_role=settings.db_roles)
        )
        app.state.verifiers = verifiers  # also an export's page readers (gateway/export_pages.py)
        app.state.verification = SharedVerification(engine, app.state.checkpointer, verifiers)
        app.state.full_checks = FullChecks(engine, app.state.checkpointer, verifiers)
        app.state.scan_jobs = ScanJobs(app.state.service_http)
        try:
            yield
        finally:
            forgetting.cancel()
            with contextlib.suppress(asyncio.CancelledError):  # waited for: a sweep mid-statement ends before the pool
                await forgetting
            await app.state.revocations.stop()
            await app.state.checkpointer.stop()
            await app.state.sequencer.stop()
            await app.state.audit_writer.stop()
            await app.state.proxy.close()
            await console.state.loopback.aclose()
            for client in app.state.service_http.values():
                await client.aclose()
            for outbox_client in outbox_clients.values():
                await outbox_client.aclose()
            await engine.dispose()
            if verifiers is not None:
                # waited for (idle workers exit at once): a pool left behind leaks its queues' semaphores
                await asyncio.to_thread(verifiers.shutdown, True, cancel_futures=True)

    app = FastAPI(
        title="FundTrack",
        description="Tracking integrated agricultural funds, the county project library and small poverty loans.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    app.include_router(ops.router)
    app.include_router(admin.router)
    app.include_router(organisations.router)
    app.include_router(internal.router)
    app.include_router(audit_api.router)
    app.include_router(proofs_api.router)
    app.include_router(alerts_api.router)
    app.include_router(people_api.router)
    app.include_router(me_api.router)
    console = create_console(app)
    app.mount("/console", console)  # the door lets it in (gateway/door.py: `_console`)
    app.add_middleware(Door, state=app.state)
    return app


app = create_app()
