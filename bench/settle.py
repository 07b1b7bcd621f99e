"""The state a province's tables are in after years of autovacuum, for a benchmark that has just loaded them: their
statistics, and a visibility map that marks (nearly) every page all-visible, which index-only scans need to answer
from the index alone (a page not so marked costs a read of the table's page for each of its rows).

One VACUUM right after the load is not enough: it marks a page all-visible only when no open snapshot is older than
the page's rows, and an autovacuum's ANALYZE of a table the load has just filled holds such a snapshot. So the big
tables were left unmarked (loans' balances 0 %, repayments 60 %, 2026-12-06): the subsidy report then read the
table's page for 163,516 of its index entries, and took 1.3-2.0 s where the marked table takes 0.7-0.9 s. Here each
table is vacuumed again until at least `ALL_VISIBLE` of its pages are marked, and the fractions are reported."""

from __future__ import annotations

import asyncio

import asyncpg

ALL_VISIBLE = 0.99
_FRACTION = (  # an empty table (no page) has nothing to mark: settled
    "SELECT CASE WHEN c.relpages = 0 THEN 1.0 ELSE c.relallvisible::float8 / c.relpages END "
    "FROM pg_class c WHERE c.oid = $1::regclass"
)
_TABLES = "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname = ANY($1::text[]) ORDER BY 1"


async def tables_of(conn: asyncpg.Connection, *schemas: str) -> list[str]:
    return [row[0] for row in await conn.fetch(_TABLES, list(schemas))]


async def vacuumed(conn: asyncpg.Connection, tables: list[str], *, attempts: int = 10,
                   wait: float = 3.0) -> dict[str, float]:
    """VACUUM ANALYZE each table, then again (after `wait` seconds) those with fewer than `ALL_VISIBLE` of their
    pages marked all-visible, up to `attempts` times; the fraction of each table's pages marked at the end."""
    fractions: dict[str, float] = {}
    pending = list(tables)
    for attempt in range(attempts):
        if attempt:
            await asyncio.sleep(wait)
        for table in pending:
            await conn.execute(f"VACUUM ANALYZE {table}")
            fractions[table] = round(float(await conn.fetchval(_FRACTION, table)), 3)
        pending = [table for table in pending if fractions[table] < ALL_VISIBLE]
        if not pending:
            break
    return fractions
