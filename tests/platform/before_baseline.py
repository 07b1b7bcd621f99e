"""A database as FundTrack made it before the models became the schema (2026-12-03): the five schemas the old
migration chains built (data/schema_before_baseline.sql, their pg_dump), at the revision ids the baselines kept."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path

import asyncpg
from alembic import command

from deploy.migrate import alembic_config

BASELINE_IDS = {
    "gateway": "gateway_0003",
    "funds": "funds_0005",
    "projects": "projects_0003",
    "loans": "loans_0005",
    "registry": "registry_0006",
}
DUMP = Path(__file__).parent / "data" / "schema_before_baseline.sql"


async def restore(conn: asyncpg.Connection) -> None:
    """Build the old schemas on `conn`'s (empty) database, owned by the connecting user, bookmarked at the
    baseline ids, as an older FundTrack left them."""
    await conn.execute(DUMP.read_text())
    await conn.execute("SELECT pg_catalog.set_config('search_path', 'public', false)")
    for schema, revision in BASELINE_IDS.items():
        await conn.execute(f'INSERT INTO "{schema}".alembic_version (version_num) VALUES ($1)', revision)


async def restore_at(conn: asyncpg.Connection, url: str, schema: str, revision: str) -> None:
    """`restore`, then `schema`'s revisions up to `revision` (the one before a revision under test, for data to be
    filled in as that version kept it); `conn` left on `schema`'s search path. `url` is `conn`'s database."""
    await restore(conn)
    await asyncio.to_thread(command.upgrade, alembic_config(schema, url), revision)
    await conn.execute(f"SET search_path = {schema}")


async def fill(conn: asyncpg.Connection, statements: Sequence[str], sizes: Mapping[str, int]) -> None:
    """Run each of a test's fill statements, formatted with `sizes` (how many rows of what)."""
    for statement in statements:
        await conn.execute(statement.format(**sizes))
