"""Hot statements run straight on the session's asyncpg connection, inside the session's transaction.

SQLAlchemy spends ~150 µs of CPU on every statement it runs (measured on this machine: 140–200 µs for `SELECT 1`
through an AsyncSession, 25 µs as an asyncpg prepared statement). For the few statements on the hottest path (an
allocation's record, its balance rows, its audit row) that is more than the database spends on them, so those run
here: same connection, same transaction, asyncpg's own statement cache, `$1` placeholders.

The unit of work still begins and commits the transaction (through SQLAlchemy): a statement here never runs outside
it. Errors are asyncpg's (`asyncpg.PostgresError`, with `.sqlstate`); `sqlstate_of` reads either kind.
"""

from __future__ import annotations

import contextlib
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_BEGIN = text("SELECT 1")


async def driver(sa_connection: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under a SQLAlchemy connection, as it is: for one statement that is atomic by itself
    (asyncpg's `executemany` runs in one implicit transaction), with no BEGIN/COMMIT round trips."""
    raw = await sa_connection.get_raw_connection()
    found: asyncpg.Connection = raw.driver_connection
    return found


async def connection(session: AsyncSession | AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under a session (or a connection of `engine.begin()`), its transaction begun."""
    sa_connection = await session.connection() if isinstance(session, AsyncSession) else session
    found = await driver(sa_connection)
    if not found.is_in_transaction():
        await _begin(sa_connection)
    return found


async def _begin(sa_connection: AsyncConnection) -> None:
    """Begin the transaction the way SQLAlchemy's asyncpg adapter does at its first statement, so that its COMMIT
    (or ROLLBACK) covers the statements run here. The adapter's own hook when it has one (SQLAlchemy 2.x), else a
    statement through SQLAlchemy (one more round trip)."""
    adapter = (await sa_connection.get_raw_connection()).dbapi_connection
    start = getattr(adapter, "_start_transaction", None)
    try:
        if start is not None and getattr(adapter, "_transaction", "absent") is None:
            await start()
        else:
            await sa_connection.execute(_BEGIN)
    except BaseException:
        # a BEGIN cancelled under way (its request, a split read's part) may be open on the server while the adapter
        # never recorded it: neither its COMMIT nor its ROLLBACK would end it, and the pool would hand the connection
        # on with a transaction open (the next SET TRANSACTION failed with 25001: tests/platform/test_split_reads.py).
        # Closed instead; the pool opens another.
        with contextlib.suppress(Exception):
            await sa_connection.invalidate()
        raise


async def fetch(session: AsyncSession, sql: str, *args: Any) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await (await connection(session)).fetch(sql, *args)
    return rows


async def fetchrow(session: AsyncSession, sql: str, *args: Any) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await (await connection(session)).fetchrow(sql, *args)
    return row


async def execute(session: AsyncSession, sql: str, *args: Any) -> None:
    await (await connection(session)).execute(sql, *args)


# A connection the server refused: too many connections, starting up or shutting down, login refused. Each can only
# happen while connecting, before a statement ran.
CONNECT_SQLSTATES = frozenset({"53300", "57P03", "28000", "28P01"})


def no_connection(exc: BaseException) -> bool:
    """Whether `exc` says no database connection could be had (refused by the server or at its address, or no pooled
    one free in time): then no statement of the session ran."""
    if isinstance(exc, PoolTimeout | ConnectionRefusedError) or sqlstate_of(exc) in CONNECT_SQLSTATES:
        return True
    return isinstance(getattr(exc, "orig", None), ConnectionRefusedError) or isinstance(
        exc.__cause__, ConnectionRefusedError
    )


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error raised through SQLAlchemy or straight from asyncpg."""
    if isinstance(exc, asyncpg.PostgresError):
        return str(exc.sqlstate)
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return str(code) if code else None
    return None
