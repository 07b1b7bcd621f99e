"""kernel/rawsql.py runs statements straight on the session's asyncpg connection: they must be inside the session's
transaction, so the session's COMMIT makes them durable and its ROLLBACK undoes them, even when a raw statement is
the first of the transaction."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.kernel import rawsql
from services.kernel.db import asyncpg_url, session_factory
from tests.stack import TestDatabase


@pytest.fixture
async def probe(database: TestDatabase, db: asyncpg.Pool) -> AsyncIterator[tuple[AsyncEngine, str]]:
    table = f"public.rawsql_probe_{uuid.uuid4().hex[:8]}"
    await db.execute(f"CREATE TABLE {table} (n int)")
    engine = create_async_engine(asyncpg_url(database.url))
    yield engine, table
    await engine.dispose()
    await db.execute(f"DROP TABLE {table}")


@pytest.mark.parametrize("first", ["raw", "sqlalchemy"])
@pytest.mark.parametrize("outcome", ["commit", "rollback"])
async def test_raw_statements_share_the_session_transaction(
    probe: tuple[AsyncEngine, str], db: asyncpg.Pool, first: str, outcome: str
) -> None:
    engine, table = probe
    async with session_factory(engine)() as session:
        if first == "sqlalchemy":
            await session.execute(text(f"INSERT INTO {table} VALUES (0)"))
        await rawsql.execute(session, f"INSERT INTO {table} VALUES ($1)", 1)
        await rawsql.execute(session, f"INSERT INTO {table} VALUES ($1)", 2)
        assert (await rawsql.connection(session)).is_in_transaction()
        # not visible to anyone else before the session ends its transaction
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0
        await (session.commit() if outcome == "commit" else session.rollback())
    expected = (3 if first == "sqlalchemy" else 2) if outcome == "commit" else 0
    assert await db.fetchval(f"SELECT count(*) FROM {table}") == expected


async def test_a_failed_raw_statement_rolls_back_with_the_session(probe: tuple[AsyncEngine, str],
                                                                 db: asyncpg.Pool) -> None:
    engine, table = probe
    async with session_factory(engine)() as session:
        await rawsql.execute(session, f"INSERT INTO {table} VALUES ($1)", 1)
        with pytest.raises(asyncpg.PostgresError) as caught:
            await rawsql.execute(session, "SELECT 1 / $1::int", 0)
        assert rawsql.sqlstate_of(caught.value) == "22012"
        await session.rollback()
    assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0
