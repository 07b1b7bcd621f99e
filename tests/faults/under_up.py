"""Shared by the fault tests that kill processes of a real `fundtrack up` (tests/platform/test_up.py `Up`) under
concurrent writers: the processes to kill, a writer that sends one request with its Idempotency-Key until it is
answered as a finance system would, and the wait for every committed change of a service to be chained."""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Sized
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from gateway.audit_chain import unchained_acknowledgements
from services.kernel.topology import ALL_SCHEMAS
from tests.platform.test_up import GATEWAY_OFFSET, Up, _ready
from tests.stack import free_port_block


def parent_of(up: Up, app: str) -> psutil.Process:
    """The uvicorn process `fundtrack up` started for `app` (e.g. "services.funds.app")."""
    return next(p for p in up.family() if f"{app}:app" in " ".join(p.cmdline()) and p.ppid() == up.process.pid)


def workers_of(up: Up, app: str) -> list[psutil.Process]:
    """The worker processes of a uvicorn started with --workers (spawned by multiprocessing; not its resource
    tracker)."""
    found = []
    for child in parent_of(up, app).children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:  # a worker just killed, not reaped yet (a zombie), or gone
            continue
    return found


async def send_until_answered(
    client: httpx.AsyncClient, path: str, key: str, *, ok: int, attempts: int = 600, **request: Any
) -> httpx.Response:
    """POST `request` to `path` with Idempotency-Key `key` until it is answered `ok`, whatever comes between (a
    refused connection, a 502 or 503, an answer lost with its connection): never a 500, never a 4xx."""
    headers = {"idempotency-key": key, **request.pop("headers", {})}
    for _ in range(attempts):
        try:
            answer = await client.post(path, headers=headers, timeout=30, **request)
            if answer.status_code == ok:
                return answer
            assert answer.status_code in (502, 503), answer.text
        except httpx.TransportError:
            pass  # the process answering was killed: the answer is lost, the same key is sent again
        await asyncio.sleep(0.1)
    raise AssertionError(f"POST {path} with key {key} was never answered {ok}")


async def wait_chained(
    conn: asyncpg.Connection, up: Up, token: str, *, origin: str, path: str, status: int
) -> tuple[dict[str, Any], int, int]:
    """Wait until the trail holds every change `origin` committed for `path` (answered `status`): /audit/verify's
    `pending` is the gateway's own backlog only, and a service's outbox is pulled every interval (not while its
    circuit is open after a kill). Returns the last /audit/verify answer, the changes committed and those chained."""
    committed = chained = -1
    verified: dict[str, Any] = {}
    for _ in range(150):
        async with httpx.AsyncClient(base_url=up.gateway) as client:
            verified = (await client.get("/audit/verify", headers={"authorization": f"Bearer {token}"},
                                         timeout=30)).json()
        committed = await conn.fetchval(
            f"SELECT count(*) FROM {origin}.audit_outbox WHERE path = $1 AND status = $2", path, status)
        chained = await conn.fetchval(
            f"SELECT count(*) FROM {origin}.audit_outbox o JOIN gateway.audit_log l "
            "ON l.origin = $1 AND l.origin_id = o.id WHERE o.path = $2", origin, path)
        if (verified["pending"] == 0 and committed == chained
                and not await unchained_acknowledgements(conn, ALL_SCHEMAS)):
            break
        await asyncio.sleep(0.2)
    assert verified["ok"] is True, verified
    assert await unchained_acknowledgements(conn, ALL_SCHEMAS) == []
    return verified, committed, chained


@asynccontextmanager
async def fundtrack_up(prefix: str) -> AsyncIterator[tuple[Up, Path, str]]:
    """A real `fundtrack up` on a fresh data directory, waited for: (the process, its data directory, the admin
    token). Afterwards stopped as an operator would (SIGTERM), its directory removed, its gateway asked to be ready
    first when the test passed."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    up = Up(data_dir, free_port_block(GATEWAY_OFFSET))
    try:
        await asyncio.to_thread(up.wait_up)
        yield up, data_dir, (data_dir / "admin_token").read_text().strip()
        assert _ready(up.gateway)
    finally:
        if up.process.poll() is None:
            up.process.send_signal(signal.SIGTERM)
            up.process.wait(60)
        shutil.rmtree(data_dir, ignore_errors=True)


async def written(done: Sized, count: int, writers: list[asyncio.Task[None]]) -> None:
    """Wait until `count` writes are acknowledged: a kill is timed by the writers' progress, not by the clock, so
    that it falls while they write on a fast machine too (a writer that failed says why at once)."""
    while len(done) < count:
        if failed := [w for w in writers if w.done() and w.exception() is not None]:
            raise AssertionError("a writer failed") from failed[0].exception()
        await asyncio.sleep(0.02)


class Budget:
    """How many writes the writers may start. A kill waits for the writers' progress (`written`); the writes after
    the last kill's share are held back until the test allows them (after that kill), so that on a fast machine the
    writers cannot finish everything while a killed process is started again, and the next kill still falls while
    they write."""

    def __init__(self, allowed: int) -> None:
        self.allowed = allowed
        self.taken = 0
        self._more = asyncio.Event()

    async def take(self) -> None:
        while self.taken >= self.allowed:
            self._more.clear()
            await self._more.wait()
        self.taken += 1

    def allow(self, allowed: int) -> None:
        self.allowed = allowed
        self._more.set()
