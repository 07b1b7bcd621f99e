"""A heavy read split across connections on one snapshot (issue #20).

PostgreSQL runs one statement in one backend, and does not hand a correlated subquery run once per row (the subsidy
report's probe of each loan's repayments) to its parallel workers: on a 2-core host half the machine waits while the
province's subsidy report runs. A read whose answer is a union of independent parts (one row per county) can be split
instead: its parts run at once, each in a read-only transaction of its own on a connection of its own, all on the
snapshot the request's transaction exports (`pg_export_snapshot`, as `pg_dump --jobs` does). Together they answer
what one statement of the request would have answered at that instant, no write between them seen by one part and
not by another.

The connections are a small pool of each worker's own (`SplitReaders`: FUNDTRACK_DB_SPLIT_READERS, outside its
request pool; deploy/pools.py counts them), never the request pool: a request that holds its connection and waited
for another from the pool every request draws on could wait for ever. One read is split at a time per worker; while
one is (or when there is a single part, or the setting is below 2), a read runs as it always did, in one statement
on the request's own session: never slower than that, and never waiting for another request's split.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.kernel import rawsql
from services.kernel.db import create_engine, session_factory
from services.kernel.settings import get_settings
from services.kernel.topology import SERVICES

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

# What pg_export_snapshot returns ("00000003-0000001B-1"): checked before it is written into SET TRANSACTION SNAPSHOT,
# which takes no parameter.
SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")
_EXPORT = text("SELECT pg_export_snapshot()")


@dataclass
class SplitReaders:
    """A worker's connections for split reads: `width` of them in a pool of their own, or none (`engine` None)."""

    engine: AsyncEngine | None
    width: int
    _sessions: async_sessionmaker[AsyncSession] | None = field(init=False, default=None)
    _busy: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        if self.engine is not None:
            self._sessions = session_factory(self.engine)

    async def dispose(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()


def readers_for(service: str) -> SplitReaders:
    """A worker's split readers: FUNDTRACK_DB_SPLIT_READERS connections if its service splits (`splits_reads`)."""
    width = get_settings().db_split_readers
    spec = SERVICES[service]
    if not spec.splits_reads or width < 2:
        return SplitReaders(None, width)
    return SplitReaders(create_engine(spec.schema, pool_size=width, overflow=0), width)


async def split_readers_dependency(request: Request) -> SplitReaders:
    readers: SplitReaders = request.app.state.split_readers
    return readers


SplitReadersDep = Annotated[SplitReaders, Depends(split_readers_dependency)]


def shares(weighted: Sequence[tuple[K, int]], count: int) -> list[list[K]]:
    """The keys in at most `count` parts of about equal weight (the heaviest first, each to the lightest part; a key
    weighs 1 at least), none empty, each in the order given."""
    parts: list[list[tuple[int, K]]] = [[] for _ in range(max(1, count))]
    loads = [0] * len(parts)
    for position, (key, weight) in sorted(enumerate(weighted), key=lambda item: -item[1][1]):
        lightest = loads.index(min(loads))
        parts[lightest].append((position, key))
        loads[lightest] += max(1, weight)
    return [[key for _, key in sorted(part)] for part in parts if part]


async def split_read(
    session: AsyncSession,
    readers: SplitReaders,
    weighted: Sequence[tuple[K, int]],
    read: Callable[[AsyncSession, list[K]], Awaitable[list[T]]],
) -> list[T]:
    """`read` of all the keys: in one call on `session`, or split by weight across the readers' connections on the
    snapshot `session`'s transaction exports, the parts' rows in the order of the parts. `read` must answer for
    each key alone what it answers for it among the others (a row per key, nothing across keys). The parts are
    read-only transactions of their own: they do not see what `session` wrote and has not committed, nor its SET
    LOCALs (their statement timeout is the service's, not a long one)."""
    keys = [key for key, _ in weighted]
    parts = shares(weighted, readers.width)
    # a snapshot cannot be exported from a savepoint: there, as when busy or for one part, one call
    if readers._sessions is None or len(parts) < 2 or readers._busy.locked() or session.in_nested_transaction():
        return await read(session, keys)
    sessions = readers._sessions
    async with readers._busy:
        snapshot = str((await session.execute(_EXPORT)).scalar_one())
        if not SNAPSHOT_ID.fullmatch(snapshot):
            raise RuntimeError(f"pg_export_snapshot answered {snapshot!r}")
        # a part that fails cancels the others (their statements are cancelled with them) and its error is raised as
        # it is, as one statement's would be (a statement timeout is the 503 it always was); a request cancelled
        # cancels them all and stays cancelled (asyncio.TaskGroup of 3.11 may turn that into a part's error)
        tasks = [asyncio.create_task(_part(sessions, snapshot, read, part)) for part in parts]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            # the first to fail (what its siblings raise once cancelled is not the cause)
            failed = [error for task in tasks
                      if task in done and not task.cancelled() and (error := task.exception()) is not None]
        finally:
            await _cancel_and_wait(tasks)
        if failed:
            raise failed[0]
        return [row for task in tasks for row in task.result()]


async def _cancel_and_wait(tasks: list[asyncio.Task[list[T]]]) -> None:
    """Every part cancelled and ended before the lock is let go (a cancel of the request while it waits for them
    does not cut the wait short: it is raised once they have ended), their errors retrieved."""
    for task in tasks:
        task.cancel()
    pending: set[asyncio.Task[list[T]]] = set(tasks)
    cancelled = False
    while pending:
        try:
            _, pending = await asyncio.wait(pending)
        except asyncio.CancelledError:
            cancelled = True
    for task in tasks:
        if not task.cancelled():
            task.exception()
    if cancelled:
        raise asyncio.CancelledError


async def _part(
    sessions: async_sessionmaker[AsyncSession], snapshot: str,
    read: Callable[[AsyncSession, list[K]], Awaitable[list[T]]], keys: list[K],
) -> list[T]:
    async with sessions() as session:
        begun = False
        try:
            # the transaction begun without a query, then made what an imported snapshot needs before its first one
            # (one simple-protocol round trip: the snapshot's id is a new text each time, nothing to prepare). The
            # parts are the read's parallelism: a part's own parallel workers would only take its siblings' cores.
            # (A BEGIN cancelled under way closes its connection itself: rawsql._begin.)
            conn = await rawsql.connection(session)
            begun = True
            await conn.execute(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;"
                f" SET TRANSACTION SNAPSHOT '{snapshot}';"
                " SET LOCAL max_parallel_workers_per_gather = 0"
            )
            return await read(session, keys)
        except BaseException:
            # cancelled or failed part-way through its statements, its connection is closed rather than given back
            # to the pool in a state nobody knows (never one checked out for this: the pool may be exhausted)
            if begun:
                with contextlib.suppress(Exception):
                    await (await session.connection()).invalidate()
            raise
        finally:
            await session.rollback()
