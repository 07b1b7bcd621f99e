"""What the county-keys benches (issue #15) share: a database of their own on a server (DATABASE_URL's, else an
embedded one of their own), filled as the version before the revision kept it, then upgraded while a service of the
version before goes on writing; that writer's times, and its failures against the upgrade's end. What each bench
fills, writes and checks stays in its own file."""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from alembic import command

from deploy.embedded import EmbeddedPostgres
from deploy.migrate import alembic_config
from services.kernel.db import plain_url
from tests.platform import before_baseline
from tests.stack import _with_database, workdir


@asynccontextmanager
async def a_server() -> AsyncIterator[str]:
    """DATABASE_URL's server if set, else an embedded cluster of its own (deploy/embedded.py), stopped and removed
    after (a few GB at a province's size): its URL."""
    server = os.environ.get("DATABASE_URL")
    if server:
        yield server
        return
    directory = workdir()
    embedded = EmbeddedPostgres(directory)
    try:
        yield embedded.start()
    finally:
        embedded.stop()
        shutil.rmtree(directory)


@asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A database of its own on `a_server()`: its URL and a connection to it; closed and dropped after, whatever
    happened meanwhile."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    async with a_server() as server:
        admin = await asyncpg.connect(plain_url(server))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            try:
                url = _with_database(server, name)
                conn = await asyncpg.connect(plain_url(url))
                try:
                    yield url, conn
                finally:
                    await conn.close()
            finally:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def seconds_to_fill(conn: asyncpg.Connection, statements: Sequence[str], sizes: Mapping[str, int]) -> float:
    """before_baseline.fill, then VACUUM ANALYZE (as autovacuum would have by the time the revision runs): the
    seconds both took, rounded."""
    started = time.perf_counter()
    await before_baseline.fill(conn, statements, sizes)
    await conn.execute("VACUUM ANALYZE")
    return round(time.perf_counter() - started, 1)


async def row_counts(conn: asyncpg.Connection, tables: Iterable[str]) -> dict[str, int]:
    return {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in tables}


@dataclass
class OldWriter:
    """A service of the version before on a connection of its own: the time of each write it recorded, and each
    failure with when that write began (perf_counter)."""

    conn: asyncpg.Connection
    times: list[float] = field(default_factory=list)
    failures: list[tuple[float, asyncpg.PostgresError]] = field(default_factory=list)

    async def attempt(self, write: Awaitable[object], *, timed: bool = True) -> bool:
        """Await `write`: its time kept if `timed`, its refusal kept if refused; whether it was recorded."""
        started = time.perf_counter()
        try:
            await write
        except asyncpg.PostgresError as error:
            self.failures.append((started, error))
            return False
        if timed:
            self.times.append(time.perf_counter() - started)
        return True

    def times_summary(self) -> dict[str, Any]:
        """How many writes were recorded, their p50 / p99 / longest in ms, and how many took over half a second."""
        ordered = sorted(self.times) or [0.0]
        return {"recorded": len(self.times), "p50_ms": round(statistics.median(ordered) * 1000, 1),
                "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 1),
                "longest_ms": round(ordered[-1] * 1000, 1), "over_500_ms": sum(t > 0.5 for t in self.times)}


Write = Callable[[OldWriter, int], Awaitable[None]]


async def write_until(url: str, schema: str, done: asyncio.Event, write: Write, every: float) -> OldWriter:
    """`write(writer, n)` for n = 1, 2, … every `every` seconds on a connection of its own (on `schema`'s search
    path) until `done` is set."""
    conn = await asyncpg.connect(plain_url(url), server_settings={"search_path": schema})
    writer = OldWriter(conn)
    try:
        n = 0
        while not done.is_set():
            n += 1
            await write(writer, n)
            await asyncio.sleep(every)
    finally:
        await conn.close()
    return writer


@dataclass(frozen=True)
class Upgrade:
    seconds: float  # rounded
    ended: float  # perf_counter
    writer: OldWriter

    def failures(self) -> list[tuple[float, str]]:
        """Each of the writer's failures: the seconds from the upgrade's end its write began at (negative: before
        it), and the first line of the refusal."""
        return [(round(at - self.ended, 2), str(error).splitlines()[0]) for at, error in self.writer.failures]


async def upgrade_while_writing(url: str, schema: str, revision: str, write: Write, every: float) -> Upgrade:
    """`alembic upgrade` of `schema` to `revision` while `write` goes on (from a second before, so that the writer
    is under way when the revision's first lock is asked for, until the upgrade is over, or failed)."""
    done = asyncio.Event()
    writing = asyncio.create_task(write_until(url, schema, done, write, every))
    await asyncio.sleep(1)
    started = time.perf_counter()
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(schema, url), revision)
    finally:
        ended = time.perf_counter()
        done.set()
        writer = await writing
    return Upgrade(round(ended - started, 1), ended, writer)

