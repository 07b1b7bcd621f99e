"""What the tests of the county-keys revisions (issue #15, migrations/county_keys.py) check alike on a database they
upgraded: the key columns each table ended with, that nothing of the revision's own is left, and that it runs again
after a failure part way."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
from alembic import command
from alembic.script import ScriptDirectory

from deploy.migrate import alembic_config

PRIMARY_KEYS = """
    SELECT c.relname, array_agg(a.attname::text ORDER BY k.n) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid AND c.relnamespace = $1::regnamespace
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE i.indisprimary AND c.relname = ANY($2::text[]) GROUP BY 1
"""


async def primary_keys(conn: asyncpg.Connection, schema: str, tables: Sequence[str]) -> dict[str, list[str]]:
    """{table: its primary key's columns in order} for those of `tables` in `schema`."""
    return dict(await conn.fetch(PRIMARY_KEYS, schema, list(tables)))


async def filling_leftovers(conn: asyncpg.Connection) -> list[str]:
    """The filling triggers and their functions (`…county_filled`) still in the database: none once a series' last
    revision has run."""
    rows = await conn.fetch("SELECT tgname AS name FROM pg_trigger WHERE tgname LIKE '%county_filled' "
                            "UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE '%county_filled'")
    return [row["name"] for row in rows]


async def upgrade_again(url: str, schema: str, revision: str) -> None:
    """Stamp `schema` back to `revision` and upgrade it to its head again, as after a failure part way (each step of
    a county-keys revision finds what its first run did)."""
    await asyncio.to_thread(command.stamp, alembic_config(schema, url), revision)
    await asyncio.to_thread(command.upgrade, alembic_config(schema, url), "heads")


def head(schema: str, url: str) -> str:
    """The last revision of `schema`'s chain: where an upgrade to "heads" ends, whatever revisions came after the one
    under test."""
    found = ScriptDirectory.from_config(alembic_config(schema, url)).get_current_head()
    assert found is not None
    return found


async def waiting_on_a_snapshot(conn: asyncpg.Connection, upgrade: asyncio.Future[None]) -> None:
    """Until the revision under test waits in a CONCURRENTLY build for a snapshot the test holds open (what the
    revision did before that step is done, what comes after is not): then the test writes as a service of the
    version before would, mid-revision."""
    for _ in range(1200):
        if upgrade.done():
            upgrade.result()
            raise AssertionError("the revision ran to its end without building an index CONCURRENTLY")
        if await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event = 'virtualxid'"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the revision never waited for the snapshot held open")


@contextlib.asynccontextmanager
async def as_the_version_before(conn: asyncpg.Connection, writer: asyncpg.Connection, url: str, schema: str,
                                privileges: str) -> AsyncIterator[None]:
    """`writer` writes as a service of the version before does while a revision runs: as a role of its own holding
    `privileges` on the tables of `schema` as they are now (what deploy/migrate.py gave the service's role), none on
    what the revision makes but what the revision itself gives. A trigger the revision puts on a table runs as that
    role. The role is dropped after (roles are the server's, not the scratch database's)."""
    role = f"ft_old_{schema}_{uuid.uuid4().hex[:8]}"
    await conn.execute(f"CREATE ROLE {role} NOLOGIN")
    await conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
    await conn.execute(f"GRANT {privileges} ON ALL TABLES IN SCHEMA {schema} TO {role}")
    await writer.execute(f"SET ROLE {role}")
    try:
        yield
    finally:
        if not writer.is_closed():
            await writer.close()
        cleanup = await asyncpg.connect(url)
        try:
            await cleanup.execute(f"DROP OWNED BY {role}")
            await cleanup.execute(f"DROP ROLE IF EXISTS {role}")
        finally:
            await cleanup.close()
