"""Hearing about revocations: a connection that LISTENs on the channel every revocation NOTIFYs, so that the key
cache (gateway/auth.py) of every gateway process forgets a revoked principal when the revocation commits.

While the connection is down the cache is off (every request looks its key up), and it starts empty when the
connection comes back. A heartbeat every few seconds notices a connection that died silently."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import KeyCache
from services.kernel.db import plain_url, server_settings
from services.kernel.settings import database_url, get_settings
from services.kernel.topology import GATEWAY_SCHEMA

CHANNEL = "fundtrack_revocations"
APPLICATION_NAME = "fundtrack-gateway-revocations"
log = logging.getLogger("fundtrack.gateway.revocations")


class RevocationListener:
    def __init__(self, cache: KeyCache, *, heartbeat_seconds: float = 5.0, retry_seconds: float = 1.0) -> None:
        self.cache = cache
        self.heartbeat_seconds = heartbeat_seconds
        self.retry_seconds = retry_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="revocation-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.cache.set_live(False)

    def _heard(self, _conn: Any, _pid: int, _channel: str, principal_id: str) -> None:
        self.cache.revoked(principal_id)

    async def _run(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                settings = server_settings(GATEWAY_SCHEMA, use_role=get_settings().db_roles)
                settings["application_name"] = APPLICATION_NAME
                conn = await asyncpg.connect(plain_url(database_url()), server_settings=settings)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._heard)
                self.cache.set_live(True)
                await self._watch(conn, lost)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means: deaf, so no cache, and try again
                log.warning("revocation listener lost (%s); keys are looked up on every request until it is back", exc)
            finally:
                self.cache.set_live(False)
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(self.retry_seconds)

    async def _watch(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), self.heartbeat_seconds)
            except TimeoutError:
                await asyncio.wait_for(conn.execute("SELECT 1"), self.heartbeat_seconds)
        raise ConnectionError("the listening connection closed")


async def announce(session: AsyncSession, principal_id: str) -> None:
    """NOTIFY every gateway in the revoking transaction: delivered when, and only if, it commits."""
    await session.execute(text("SELECT pg_notify(:channel, :id)"), {"channel": CHANNEL, "id": principal_id})
