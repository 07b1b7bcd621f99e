"""The measure the tests of issue #14 take (tests/faults/stalled.py): a session of a service that holds a connection
idle in a transaction is counted once it has held it for longer than HELD_FOR, with its last statement; a transaction
between two statements for a moment, an idle session and another service's session are not."""

from __future__ import annotations

import asyncio

import asyncpg

from tests.faults.stalled import HELD_FOR, held_in_transaction


async def test_a_connection_held_in_a_transaction_is_counted_and_a_moment_between_statements_is_not(
    db: asyncpg.Pool,
) -> None:
    async with db.acquire() as holder, db.acquire() as idle, db.acquire() as other:
        await holder.execute("SET application_name = 'fundtrack-probe'")
        await idle.execute("SET application_name = 'fundtrack-probe'")
        await other.execute("SET application_name = 'fundtrack-other'")
        async with holder.transaction(), other.transaction():
            await holder.execute("SELECT 'held'")
            await other.execute("SELECT 'other'")
            assert await held_in_transaction(db, "probe") == []  # a moment between two statements
            await asyncio.sleep(HELD_FOR + 0.5)
            assert await held_in_transaction(db, "probe") == ["SELECT 'held'"]
        assert await held_in_transaction(db, "probe") == []  # committed: the connection is free
