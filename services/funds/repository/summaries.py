"""What the ledger keeps on each account's row beside its balance (`last_out_on`, `last_in_on`: the dates of its
latest transfer out and in, which F3, F9 and the progress report read instead of the transfers), checked against the
transfers (their legs: an account's 'out' legs are its outflows, its 'in' legs its inflows) and repaired.

They can only fall behind one way: a funds process older than its schema (during an upgrade that adds one of them,
funds_0007 and funds_0018, the old processes keep writing transfers until they are replaced) moves the balance and
not the new date. `fundtrack doctor` counts the accounts whose dates differ from their transfers, and `fundtrack
repair-summaries` moves each date that fell behind forward to its transfers' (GREATEST: a transfer written while it
runs can only move a date further, never back). Statements on an asyncpg connection to the whole database (the
tools' own: schema-qualified)."""

from __future__ import annotations

import asyncpg

# Every account whose kept dates differ from its transfers': id, kept and actual dates (null where none moved).
DRIFT = """
    SELECT a.id, a.last_out_on, m.last_out, a.last_in_on, m.last_in FROM funds.accounts a
    LEFT JOIN (
        SELECT account_id, max(occurred_on) FILTER (WHERE leg = 'out') AS last_out,
               max(occurred_on) FILTER (WHERE leg = 'in') AS last_in
        FROM funds.transfer_legs GROUP BY account_id
    ) m ON m.account_id = a.id
    WHERE a.last_out_on IS DISTINCT FROM m.last_out OR a.last_in_on IS DISTINCT FROM m.last_in
"""
_REPAIR = f"""
    UPDATE funds.accounts AS a
    SET last_out_on = GREATEST(a.last_out_on, d.last_out), last_in_on = GREATEST(a.last_in_on, d.last_in)
    FROM ({DRIFT}) d WHERE a.id = d.id
"""


async def drift(conn: asyncpg.Connection) -> int:
    """How many accounts' kept dates differ from their transfers (a read of every transfer: seconds at millions)."""
    count: int = await conn.fetchval(f"SELECT count(*) FROM ({DRIFT}) d")  # noqa: S608 (our own statement)
    return count


async def repair(conn: asyncpg.Connection) -> int:
    """Move every kept date that fell behind its transfers forward; how many accounts it wrote."""
    done: str = await conn.execute(_REPAIR)
    return int(done.split()[-1])
