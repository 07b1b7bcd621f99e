"""A door entry is chained once (A1, A2), without a unique index on `audit_log.inbox_id` (a table partitioned by
`seq` cannot have one, deploy/SCALING.md): the transaction that chains an entry must be the one that deletes it from
the inbox (gateway/sequencer.py `take_from_inbox`), and one transaction only can delete a row.

Each test has a trail of its own (tests/platform/test_audit_window.py `empty_trail`), and chains without the
sequencer's advisory lock: the guard must hold even for two sequencers that do not share it."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit import INSERT_INBOX, entry_rows
from gateway.models import AUDIT_FIELDS
from gateway.sequencer import ChainedElsewhere, Sequencer, chain_rows
from gateway.tree_store import TreeError, tree_size
from services.kernel import rawsql
from tests.platform.test_audit_window import ENTRY, empty_trail

_LOG_FIELDS = (*AUDIT_FIELDS, "seq", "prev_hash", "hash", "inbox_id", "sequenced_at")


async def _into_inbox(raw: asyncpg.Connection, request_ids: list[str]) -> None:
    await raw.executemany(INSERT_INBOX, entry_rows([{**ENTRY, "request_id": r} for r in request_ids]))


async def _times_chained(raw: asyncpg.Connection) -> dict[str, int]:
    rows = await raw.fetch("SELECT request_id, count(*) AS n FROM audit_log GROUP BY request_id")
    return {r["request_id"]: int(r["n"]) for r in rows}


async def test_a_sequencer_that_chained_an_entry_another_took_meanwhile_rolls_back() -> None:
    """A second sequencer read the inbox before the first committed (a stale batch), then chains that entry on top of
    the head the first left: a valid link, a new seq, the same inbox id. Its delete finds the entry gone, so it
    rolls back, and the entry is in the trail once. Its own fresh entries, chained as they are, commit."""
    async with empty_trail() as (engine, raw):
        await _into_inbox(raw, ["req_x"])
        stale = await raw.fetch("SELECT * FROM audit_inbox ORDER BY id")  # what the second read, before the first
        async with engine.begin() as conn:
            assert await Sequencer(engine, {})._chain(conn) == 1  # the first sequencer: chained and taken out
        async with engine.connect() as second:
            other = await rawsql.driver(second)  # its own transactions, committed or rolled back here
            with pytest.raises(ChainedElsewhere, match="not chaining them twice"):
                async with other.transaction():
                    await _chain_rows(other, [dict(r) for r in stale])
            assert await _times_chained(raw) == {"req_x": 1}
            assert await raw.fetchval("SELECT count(*) FROM audit_log") == 1
            # the other side: rows it took out of the inbox itself are chained, and stay so
            await _into_inbox(raw, ["req_y"])
            async with other.transaction():
                await _chain_rows(other, [dict(r) for r in await other.fetch("SELECT * FROM audit_inbox")])
            assert await _times_chained(raw) == {"req_x": 1, "req_y": 1}
            assert await raw.fetchval("SELECT count(*) FROM audit_inbox") == 0


async def test_two_sequencers_without_the_lock_chain_every_entry_once() -> None:
    """Two sequencers chaining the same inbox at once, turn after turn, without the advisory lock: whichever loses a
    race rolls back (the seq it chained at is taken, or its entries were taken out of the inbox meanwhile), and in the
    end every entry is in the trail exactly once, in a chain without gaps, and the tree holds every entry."""
    async with empty_trail() as (engine, raw):
        names = [f"req_{n}" for n in range(300)]
        lost = 0
        for wave in range(0, len(names), 60):
            await _into_inbox(raw, names[wave:wave + 60])
            while await raw.fetchval("SELECT count(*) FROM audit_inbox"):
                results = await asyncio.gather(_turn(engine), _turn(engine), return_exceptions=True)
                for result in results:
                    if isinstance(result, BaseException):
                        assert isinstance(result, asyncpg.UniqueViolationError | ChainedElsewhere | TreeError), result
                        lost += 1
        assert await _times_chained(raw) == dict.fromkeys(names, 1)
        assert await raw.fetchval("SELECT count(DISTINCT inbox_id) FROM audit_log") == len(names)
        assert await raw.fetchval("SELECT max(seq) - min(seq) + 1 - count(*) FROM audit_log") == 0
        assert await tree_size(raw) == len(names)
        assert lost > 0  # the two did race: without it, this test would show nothing


async def _turn(engine: AsyncEngine) -> int:
    async with engine.begin() as conn:
        return await Sequencer(engine, {})._chain(conn)


async def _chain_rows(conn: asyncpg.Connection, rows: list[dict[str, Any]]) -> None:
    """What the sequencer does with a batch it read (Sequencer._chain): link each on the head, append the tree, take
    the batch out of the inbox (sequencer.chain_rows)."""
    head = await conn.fetchrow("SELECT seq, hash, sequenced_at FROM audit_log ORDER BY seq DESC LIMIT 1")
    await chain_rows(conn, rows, seq=int(head["seq"]), prev=head["hash"], size=await tree_size(conn),
                     sequenced_at=head["sequenced_at"])

