"""The factory every service app is made with: a service adds its routers, its detectors and its clients."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from services.kernel.alerts import DetectorRegistry
from services.kernel.alerts_api import alerts_router
from services.kernel.db import create_engine, session_factory
from services.kernel.errors import install_error_handlers
from services.kernel.http import ServiceClient
from services.kernel.logs import configure_logging
from services.kernel.memdebug import install as install_memdebug
from services.kernel.outbox_api import outbox_router
from services.kernel.scheduler import run_daily
from services.kernel.settings import get_settings
from services.kernel.signed import SignedIdentityMiddleware
from services.kernel.split_reads import readers_for
from services.kernel.topology import GATEWAY_SCHEMA, SERVICES, gateway_url

READY_SECONDS = 2.0


def create_service_app(
    name: str,
    *,
    routers: Iterable[APIRouter],
    detectors: DetectorRegistry | None = None,
    depends_on: Iterable[str] = (),
    title: str = "",
) -> FastAPI:
    settings = get_settings()
    configure_logging(name, settings.log_level)
    registry = detectors or DetectorRegistry()
    dependencies = tuple(depends_on)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_memdebug(name)  # issue #14: off unless FUNDTRACK_MEMDEBUG_DIR is set
        engine = create_engine(SERVICES[name].schema)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        app.state.split_readers = readers_for(name)
        app.state.settings = settings
        app.state.clients = {
            dep: ServiceClient(dep, gateway_url() if dep == GATEWAY_SCHEMA else SERVICES[dep].base_url, caller=name)
            for dep in dependencies
        }
        daily = None
        if settings.detector_hour >= 0 and registry.detectors:
            daily = asyncio.create_task(run_daily(app.state, registry, service=name, hour=settings.detector_hour))
        try:
            yield
        finally:
            if daily is not None:
                daily.cancel()
            for client in app.state.clients.values():
                await client.aclose()
            await app.state.split_readers.dispose()
            await engine.dispose()

    app = FastAPI(title=title or f"FundTrack {name}", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(SignedIdentityMiddleware, audience=name)
    install_error_handlers(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Ready when a connection of its pool answers within READY_SECONDS (the process lives: /healthz)."""
        try:
            async with asyncio.timeout(READY_SECONDS), app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure to reach the database is "not ready"
            return JSONResponse({"ready": False, "service": name, "database": type(exc).__name__}, status_code=503)
        return JSONResponse({"ready": True, "service": name, "database": "ok"})

    app.include_router(outbox_router())
    app.include_router(alerts_router(name, registry))
    for router in routers:
        app.include_router(router)
    return app
