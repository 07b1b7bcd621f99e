"""A database as FundTrack made it before the models became the schema (2026-12-03): the five schemas the old
migration chains built (data/schema_before_baseline.sql, their pg_dump), at the revision ids the baselines kept."""

from __future__ import annotations

from pathlib import Path

import asyncpg

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
