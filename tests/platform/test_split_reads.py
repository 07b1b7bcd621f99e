"""A read split across connections on one snapshot (services/kernel/split_reads.py, issue #20): its parts run at once
on connections of their own, see what the request's transaction saw when it exported its snapshot (not a write
committed after), a part's failure cancels the others and gives their connections back; while the readers are busy,
or when there is one part, the read runs in one call on the request's own session."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.db import create_engine, session_factory
from services.kernel.ids import new_id
from services.kernel.split_reads import SplitReaders, shares, split_read
from tests.stack import TestDatabase


def test_shares_are_of_about_equal_weight_none_empty_each_key_once_in_order() -> None:
    weighted = [("a", 10), ("b", 1), ("c", 9), ("d", 2), ("e", 0)]
    parts = shares(weighted, 2)
    assert sorted(key for part in parts for key in part) == ["a", "b", "c", "d", "e"]
    assert [part == sorted(part) for part in parts] == [True, True]
    loads = [sum(dict(weighted)[key] for key in part) for part in parts]
    assert sorted(loads) == [11, 11]
    assert shares(weighted, 1) == [["a", "b", "c", "d", "e"]]
    assert shares([("a", 5)], 4) == [["a"]]  # never an empty part
    assert shares([], 2) == []


@pytest.fixture
async def probe(database: TestDatabase, db: asyncpg.Pool) -> AsyncIterator[str]:
    """A table of the test's own that the loans role may read."""
    table = f"public.split_probe_{new_id('t').lower()}"
    await db.execute(f"CREATE TABLE {table} (n int); INSERT INTO {table} VALUES (1), (2); "
                     f"GRANT SELECT ON {table} TO PUBLIC")
    try:
        yield table
    finally:
        await db.execute(f"SET lock_timeout = '10s'; DROP TABLE {table}")


@pytest.fixture
async def readers(database: TestDatabase, stack: object) -> AsyncIterator[SplitReaders]:
    split = SplitReaders(create_engine("loans", url=database.url, pool_size=2, overflow=0), 2)
    try:
        yield split
    finally:
        await split.dispose()


async def _pid(session: AsyncSession) -> int:
    return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_the_parts_run_at_once_on_connections_of_their_own_on_the_exported_snapshot(
    loans_session: AsyncSession, readers: SplitReaders, probe: str, db: asyncpg.Pool
) -> None:
    both_reading = asyncio.Barrier(2)
    seen: dict[str, tuple[int, int, str]] = {}

    async def read(session: AsyncSession, keys: list[str]) -> list[str]:
        if "a" in keys:  # a row committed after the export, before either part reads
            await db.execute(f"INSERT INTO {probe} VALUES (3)")
        await asyncio.wait_for(both_reading.wait(), 10)  # both parts open at once: two connections
        count = int((await session.execute(text(f"SELECT count(*) FROM {probe}"))).scalar_one())
        isolation = str((await session.execute(text("SHOW transaction_isolation"))).scalar_one())
        read_only = str((await session.execute(text("SHOW transaction_read_only"))).scalar_one())
        for key in keys:
            seen[key] = (await _pid(session), count, f"{isolation}, read only {read_only}")
        return keys

    own = await _pid(loans_session)
    rows = await split_read(loans_session, readers, [("a", 1), ("b", 1)], read)
    assert sorted(rows) == ["a", "b"]
    (pid_a, count_a, isolation_a), (pid_b, count_b, isolation_b) = seen["a"], seen["b"]
    assert len({own, pid_a, pid_b}) == 3
    assert count_a == count_b == 2  # the row committed after the export is seen by neither part
    assert isolation_a == isolation_b == "repeatable read, read only on"
    now = (await loans_session.execute(text(f"SELECT count(*) FROM {probe}"))).scalar_one()
    assert now == 3  # while a new statement of the request's own (read committed) sees it
    await loans_session.rollback()
    assert readers.engine is not None and readers.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_one_part_or_busy_readers_or_none_read_in_one_call_on_the_requests_session(
    loans_session: AsyncSession, readers: SplitReaders, database: TestDatabase
) -> None:
    own = await _pid(loans_session)
    calls: list[tuple[int, list[str]]] = []

    async def read(session: AsyncSession, keys: list[str]) -> list[str]:
        calls.append((await _pid(session), keys))
        return keys

    assert await split_read(loans_session, readers, [("a", 1)], read) == ["a"]
    assert await split_read(loans_session, SplitReaders(None, 2), [("a", 1), ("b", 1)], read) == ["a", "b"]
    async with loans_session.begin_nested():  # no snapshot can be exported from a savepoint
        assert await split_read(loans_session, readers, [("a", 1), ("b", 1)], read) == ["a", "b"]
    assert calls == [(own, ["a"]), (own, ["a", "b"]), (own, ["a", "b"])]

    # while another request's read is split, this one is read in one call on its own session, without waiting
    release = asyncio.Event()
    started = asyncio.Event()

    async def held(session: AsyncSession, keys: list[str]) -> list[str]:
        started.set()
        await asyncio.wait_for(release.wait(), 10)
        return keys

    other_engine = create_engine("loans", url=database.url, pool_size=1)
    try:
        async with session_factory(other_engine)() as other:
            split = asyncio.create_task(split_read(other, readers, [("x", 1), ("y", 1)], held))
            await asyncio.wait_for(started.wait(), 10)
            calls.clear()
            assert await split_read(loans_session, readers, [("a", 1), ("b", 1)], read) == ["a", "b"]
            assert calls == [(own, ["a", "b"])]
            release.set()
            assert sorted(await split) == ["x", "y"]
            await other.rollback()
    finally:
        await other_engine.dispose()
    calls.clear()  # and once it is done, the next is split again
    await split_read(loans_session, readers, [("a", 1), ("b", 1)], read)
    assert sorted(keys for _, keys in calls) == [["a"], ["b"]] and own not in {pid for pid, _ in calls}


async def test_a_part_that_fails_cancels_the_others_and_gives_their_connections_back(
    loans_session: AsyncSession, readers: SplitReaders, db: asyncpg.Pool
) -> None:
    async def read(session: AsyncSession, keys: list[str]) -> list[str]:
        if keys == ["a"]:
            await asyncio.sleep(0.5)
            await session.execute(text("SELECT 1 / 0"))
        await session.execute(text("SELECT pg_sleep(30)"))
        return keys

    began = time.monotonic()
    with pytest.raises(DBAPIError, match="division by zero"):  # the part's own error, as one statement's would be
        await split_read(loans_session, readers, [("a", 1), ("b", 1)], read)
    assert time.monotonic() - began < 10  # the other part's 30 s sleep was cancelled, not waited for
    assert readers.engine is not None and readers.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    # nothing of it runs on in the server
    for _ in range(50):
        running = await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'")
        if running == 0:
            break
        await asyncio.sleep(0.1)
    assert running == 0
    # and the readers split the next read
    async def keys_of(session: AsyncSession, keys: list[str]) -> list[str]:
        return keys

    await loans_session.rollback()
    assert sorted(await split_read(loans_session, readers, [("a", 1), ("b", 1)], keys_of)) == ["a", "b"]


async def test_a_split_cancelled_at_any_moment_leaves_no_connection_the_next_split_cannot_use(
    loans_session: AsyncSession, readers: SplitReaders, db: asyncpg.Pool
) -> None:
    """Cancelled while its parts begin their transactions (a BEGIN under way that the driver has not recorded yet),
    a part's connection must not go back to the pool as it is: the next split would find a transaction open on it."""
    async def sleeping(session: AsyncSession, keys: list[str]) -> list[str]:
        await session.execute(text("SELECT pg_sleep(5)"))
        return keys

    async def keys_of(session: AsyncSession, keys: list[str]) -> list[str]:
        await session.execute(text("SELECT 1"))
        return keys

    for step in range(120):
        split = asyncio.create_task(split_read(loans_session, readers, [("a", 1), ("b", 1)], sleeping))
        await asyncio.sleep(0.0001 * step)
        split.cancel()
        with pytest.raises(asyncio.CancelledError):
            await split
        await loans_session.rollback()
        assert sorted(await split_read(loans_session, readers, [("a", 1), ("b", 1)], keys_of)) == ["a", "b"], step
        await loans_session.rollback()
    assert readers.engine is not None and readers.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_request_cancelled_again_while_its_parts_end_lets_go_of_nothing_before_they_have(
    loans_session: AsyncSession, readers: SplitReaders
) -> None:
    """A second cancel while the split waits for its cancelled parts does not cut that wait short: when the request
    ends, no part runs on and every connection is back, so the next split finds the pool whole."""
    started = asyncio.Event()

    async def sleeping(session: AsyncSession, keys: list[str]) -> list[str]:
        started.set()
        await session.execute(text("SELECT pg_sleep(5)"))
        return keys

    split = asyncio.create_task(split_read(loans_session, readers, [("a", 1), ("b", 1)], sleeping))
    await asyncio.wait_for(started.wait(), 10)
    split.cancel()
    await asyncio.sleep(0)  # the split now cancels its parts and waits for them
    split.cancel()
    with pytest.raises(asyncio.CancelledError):
        await split
    assert readers.engine is not None and readers.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    await loans_session.rollback()
