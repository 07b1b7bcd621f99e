"""One failure stays with its own request: an unexpected error in a service does not break the next request on the
same keep-alive connection, and an audit entry the database refuses fails its own request, not its whole batch."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
import pytest
import uvicorn
from fastapi import FastAPI

from gateway.audit import AuditUnavailable, AuditWriter
from services.kernel.db import create_engine
from services.kernel.errors import install_error_handlers
from tests.stack import HOST, Stack, TestDatabase, free_port_block


@pytest.fixture
async def failing_app() -> AsyncIterator[str]:
    """A FastAPI app with the kernel's error handlers and a route that fails unexpectedly, on a real uvicorn."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("an unexpected failure")

    @app.get("/fine")
    async def fine() -> dict[str, str]:
        return {"status": "ok"}

    port = free_port_block(1) + 1
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="critical", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"http://{HOST}:{port}"
    server.should_exit = True
    await task


async def test_an_unexpected_error_closes_its_connection_and_spares_the_next_request(failing_app: str) -> None:
    # One pooled connection, as the gateway's proxy reuses its connections to a service.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as client:
        for _ in range(20):
            async with client.get(f"{failing_app}/boom") as failed:
                assert failed.status == 500
                assert failed.headers["content-type"].startswith("application/problem+json")
                assert (await failed.json())["code"] == "INTERNAL_ERROR"
                assert failed.headers.get("connection", "").lower() == "close"
            async with client.get(f"{failing_app}/fine") as answered:
                assert answered.status == 200
        async with client.get(f"{failing_app}/fine") as kept:  # an ordinary answer keeps its connection
            assert kept.status == 200 and kept.headers.get("connection", "").lower() != "close"


def _entry(request_id: str, path: str) -> dict[str, Any]:
    return {
        "at": datetime.now(UTC), "principal_id": "test", "role": "admin", "region_code": "000000", "method": "GET",
        "path": path, "query": "", "entity_ids": [], "body_sha256": "", "status": 200, "code": "",
        "request_id": request_id, "origin": "gateway", "origin_id": None,
    }


async def test_an_entry_the_database_refuses_fails_alone(
    stack: Stack, database: TestDatabase, db: asyncpg.Pool
) -> None:
    # `stack`: the gateway's schema is migrated (its sequencer chains what is written here, as it would the door's).
    writer = AuditWriter(create_engine("gateway", url=database.url))
    writer.start()
    tag = uuid.uuid4().hex[:12]
    good = [f"{tag}-good-{i}" for i in range(20)]
    try:
        # Recorded together, so they share one batch; PostgreSQL text cannot hold a NUL.
        outcomes = await asyncio.gather(
            *(writer.record(_entry(r, "/ok")) for r in good[:10]),
            writer.record(_entry(f"{tag}-bad", "/bad\x00")),
            *(writer.record(_entry(r, "/ok")) for r in good[10:]),
            return_exceptions=True,
        )
    finally:
        await writer.stop()
        await writer.engine.dispose()
    assert [o for o in outcomes if o is not None and not isinstance(o, AuditUnavailable)] == []
    assert sum(isinstance(o, AuditUnavailable) for o in outcomes) == 1
    assert isinstance(outcomes[10], AuditUnavailable)
    recorded = await db.fetch("SELECT request_id FROM gateway.audit_inbox WHERE request_id LIKE $1 "
                              "UNION ALL SELECT request_id FROM gateway.audit_log WHERE request_id LIKE $1", tag + "%")
    assert sorted(r["request_id"] for r in recorded) == sorted(good)
