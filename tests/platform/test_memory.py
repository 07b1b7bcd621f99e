"""Issue #14: what a process keeps per statement text stays within its bound however many distinct statements it is
asked to run (services/kernel/db.py), and the memory debugging hook (services/kernel/memdebug.py) is off unless
asked for and, when on, dumps on SIGUSR2."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tracemalloc
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import BigInteger, ColumnElement, Date, String, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from deploy.migrate import migrate
from deploy.supervisor import process_env
from gateway.audit import INSERT_INBOX, entry_rows
from gateway.sequencer import Sequencer
from services.kernel import memdebug, rawsql
from services.kernel.db import (
    COMPILED_CACHE_SIZE,
    PREPARED_CACHE_SIZE,
    any_of,
    create_engine,
    plain_url,
    session_factory,
)
from tests.platform.test_audit_window import ENTRY
from tests.stack import TestDatabase, create_test_database, workdir

PRUNE = 1.5  # SQLAlchemy's LRU caches prune once they hold 1.5 times their size


@pytest.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    made = create_engine("funds", url=database.url, pool_size=1)  # one connection: every statement on it
    yield made
    await made.dispose()


async def statement_caches(session: AsyncSession) -> tuple[int, int, int]:
    """(compiled statements of the engine, statements SQLAlchemy prepared on the connection, asyncpg's)."""
    sa_connection = await session.connection()
    raw = await sa_connection.get_raw_connection()
    adapter: Any = raw.dbapi_connection
    compiled: Any = sa_connection.sync_engine._compiled_cache
    asyncpg_cache: Any = (await rawsql.driver(sa_connection))._stmt_cache
    assert asyncpg_cache.get_max_size() == PREPARED_CACHE_SIZE
    return len(compiled), len(adapter._prepared_statement_cache), len(asyncpg_cache)


async def _run_distinct(session: AsyncSession, first: int, n: int) -> None:
    for i in range(first, first + n):
        await session.execute(text(f"SELECT {i} AS n WHERE :x"), {"x": True})  # through SQLAlchemy
        await rawsql.fetch(session, f"SELECT {i} + $1 AS n", 1)  # straight on asyncpg


async def test_few_distinct_statements_are_all_kept(engine: AsyncEngine) -> None:
    """The allowed side: below the bounds every statement stays cached (the caches are the ones in use)."""
    async with session_factory(engine)() as session:
        before = await statement_caches(session)
        await _run_distinct(session, 0, 20)
        after = await statement_caches(session)
    assert after[0] - before[0] >= 20
    assert after[1] - before[1] >= 20
    assert after[2] - before[2] >= 20


async def test_many_distinct_statements_stay_within_the_bounds(engine: AsyncEngine) -> None:
    """The refused side: statement texts without end (as literals in SQL would make) never grow a cache past its
    bound: the compiled statements of the engine, and both caches of prepared statements on a connection."""
    async with session_factory(engine)() as session:
        await _run_distinct(session, 0, 2 * PREPARED_CACHE_SIZE)
        compiled_small, prepared, asyncpg_kept = await statement_caches(session)
    assert prepared <= PREPARED_CACHE_SIZE * PRUNE
    assert asyncpg_kept <= PREPARED_CACHE_SIZE
    for batch in range(4):  # past the compiled cache's bound, in several sessions (the same pooled connection)
        async with session_factory(engine)() as session:
            await _run_distinct(session, 10_000 * (batch + 1), COMPILED_CACHE_SIZE // 2)
            compiled, prepared, asyncpg_kept = await statement_caches(session)
            assert compiled <= COMPILED_CACHE_SIZE * PRUNE
            assert prepared <= PREPARED_CACHE_SIZE * PRUNE
            assert asyncpg_kept <= PREPARED_CACHE_SIZE
    assert compiled_small <= compiled


@pytest.fixture
def usr2() -> Any:
    previous = signal.getsignal(signal.SIGUSR2)
    yield
    signal.signal(signal.SIGUSR2, previous)
    if tracemalloc.is_tracing():
        tracemalloc.stop()


def test_memdebug_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch, usr2: None) -> None:
    monkeypatch.delenv(memdebug.ENV_DIR, raising=False)
    before = signal.getsignal(signal.SIGUSR2)
    assert memdebug.install("funds") is False
    assert signal.getsignal(signal.SIGUSR2) is before
    assert not tracemalloc.is_tracing()


@pytest.mark.parametrize("frames", ["0", "2"])
def test_memdebug_dumps_on_sigusr2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, usr2: None, frames: str) -> None:
    monkeypatch.setenv(memdebug.ENV_DIR, str(tmp_path))
    monkeypatch.setenv(memdebug.ENV_FRAMES, frames)
    monkeypatch.setenv(memdebug.ENV_REFERRERS, "Kept")
    assert memdebug.install("funds") is True
    assert tracemalloc.is_tracing() is (frames != "0")

    class Kept:
        pass

    os.kill(os.getpid(), signal.SIGUSR2)
    kept = [Kept() for _ in range(1000)]  # noqa: F841 - alive at the second dump
    os.kill(os.getpid(), signal.SIGUSR2)
    dump = (tmp_path / f"funds-{os.getpid()}.txt").read_text()
    assert dump.count("=== ") == 2
    assert "python blocks" in dump and "rss" in dump
    assert "type test_memdebug_dumps_on_sigusr2.<locals>.Kept: 1000 (+1000)" in dump
    assert ("traced" in dump) is (frames != "0")


def test_glibc_malloc_tunables_reach_every_process_and_nothing_else_does() -> None:
    """An operator's MALLOC_* (glibc's allocator tunables) reaches each process `fundtrack up` starts; another
    variable of their shell still does not (S13)."""
    env = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": "131072", "OPERATOR_CLOUD_SECRET": "x", "PATH": "/bin"}
    for name in ("gateway", "funds"):
        passed = process_env(name, env)
        assert passed["MALLOC_ARENA_MAX"] == "2" and passed["MALLOC_MMAP_THRESHOLD_"] == "131072"
        assert "OPERATOR_CLOUD_SECRET" not in passed


async def test_the_sequencer_runs_the_same_statements_whatever_its_batch() -> None:
    """A churn of the gateway's statement caches under load (bench/RESULTS.md, "two hours of mixed load"): the
    sequencer took the entries it chained out of the inbox by a list of their ids, a statement of a new text for
    every batch size (1 to 2,000 ids), prepared and cached on each pooled connection, so its caches kept filling with
    ever larger statements. Batches of 40 sizes, chained on one connection of the gateway's own engine, now leave
    as many statements prepared on it as the first few do."""
    directory = workdir()
    database = await create_test_database(directory)  # its own trail: no other sequencer chains into it
    await asyncio.to_thread(migrate, database.url, directory)
    engine = create_engine("gateway", url=database.url, pool_size=1)
    raw = await asyncpg.connect(plain_url(database.url), server_settings={"search_path": "gateway"})
    try:
        sizes = []
        for size in (1, *range(2, 41)):
            await raw.executemany(INSERT_INBOX, entry_rows([
                {**ENTRY, "request_id": f"req_mem_{size}_{n}"} for n in range(size)]))
            async with engine.begin() as conn:
                assert await Sequencer(engine, {})._chain(conn) == size
            async with session_factory(engine)() as session:
                sizes.append(await statement_caches(session))
    finally:
        await raw.close()
        await engine.dispose()
        await database.drop()
        shutil.rmtree(directory, ignore_errors=True)
    # the statements prepared on the connection (both caches): as many after 40 sizes as after the first three (the
    # first turns prepare the tree's statements once each)
    assert sizes[-1][1:] == sizes[2][1:], sizes


async def test_any_of_is_one_statement_whatever_the_number_of_values(engine: AsyncEngine) -> None:
    """services/kernel/db.py `any_of`: the same prepared statement for 1 value and for 30, and each answers its own
    values (an IN list would have prepared one statement per length)."""
    values = text("SELECT v FROM unnest(CAST(:all AS text[])) AS t(v)").columns(v=String).subquery()
    every = [f"v{n}" for n in range(40)]
    async with session_factory(engine)() as session:
        found = []
        for asked in (every[:1], every[:30], every[5:7], ["none"]):
            rows = await session.execute(select(values.c.v).where(any_of(values.c.v, asked)), {"all": every})
            found.append(sorted(r.v for r in rows))
        after_four = await statement_caches(session)
        for n in range(2, 20):
            await session.execute(select(values.c.v).where(any_of(values.c.v, every[:n])), {"all": every})
        assert await statement_caches(session) == after_four
    assert found == [["v0"], sorted(every[:30]), ["v5", "v6"], []]


async def test_any_of_binds_its_array_as_the_columns_type(engine: AsyncEngine) -> None:
    """`any_of` on BIGINT ids and on dates finds their rows (an array of text compared with them would be refused:
    no operator bigint = character varying), and a code longer than its VARCHAR(3) column matches none of its rows
    (a cast of the array to VARCHAR(3)[] would cut it to three characters, and match the row of those three)."""
    rows = text(
        "SELECT * FROM (VALUES (CAST(1 AS bigint), DATE '2018-01-01', CAST('abc' AS varchar(3))),"
        " (CAST(20000000000 AS bigint), DATE '2018-01-02', CAST('abd' AS varchar(3)))) AS t(n, d, c)"
    ).columns(n=BigInteger, d=Date, c=String(3)).subquery()
    async with session_factory(engine)() as session:

        async def found(condition: ColumnElement[bool]) -> list[int]:
            return sorted(r.n for r in await session.execute(select(rows.c.n).where(condition)))

        assert await found(any_of(rows.c.n, [20_000_000_000, 5])) == [20_000_000_000]
        assert await found(any_of(rows.c.d, [date(2018, 1, 1), date(2019, 1, 1)])) == [1]
        assert await found(any_of(rows.c.c, ["abc", "abd"])) == [1, 20_000_000_000]
        assert await found(any_of(rows.c.c, ["abcd", "ab"])) == []
