"""Issue #12 point 1: the models are the schema. A migrated database is exactly its models, schema by schema
(Alembic's comparison); one that drifted is refused by `fundtrack migrate`, naming the difference; one an older
FundTrack made (the old migration chains) is accepted as it is and is the same as one made from the models."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from deploy.drift import SchemaDrift, differences
from deploy.migrate import migrate
from services.kernel.db import plain_url
from services.kernel.topology import ALL_SCHEMAS
from tests.platform import before_baseline
from tests.stack import Stack, TestDatabase

# What a schema holds, as the catalog says it, without what differs between two databases that are the same (oids,
# the positions dropped columns leave) or what migrate sets apart from the models (owners, grants).
CATALOG = {
    "columns": (
        "SELECT table_schema, table_name, array_agg(column_name || ' ' || data_type || coalesce('(' || "
        "character_maximum_length || ')', '') || ' ' || is_nullable || ' ' || coalesce(column_default, '') || ' ' || "
        "is_identity ORDER BY ordinal_position) AS columns FROM information_schema.columns "
        "WHERE table_schema = ANY($1::text[]) GROUP BY 1, 2 ORDER BY 1, 2"
    ),
    "indexes": (
        "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = ANY($1::text[]) "
        "ORDER BY 1, 2, 3"
    ),
    "constraints": (
        "SELECT n.nspname, c.conrelid::regclass::text AS rel, c.conname, pg_get_constraintdef(c.oid) AS def "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = ANY($1::text[]) "
        "ORDER BY 1, 2, 3"
    ),
    "triggers": (
        "SELECT t.tgrelid::regclass::text AS rel, t.tgname, pg_get_triggerdef(t.oid) AS def FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY($1::text[]) AND NOT t.tgisinternal ORDER BY 1, 2"
    ),
    "functions": (
        "SELECT n.nspname, p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = ANY($1::text[]) ORDER BY 1, 2"
    ),
    # an UNLOGGED table (the public's rate counter, S16) is one however it was made: autogenerate does not see it
    "persistence": (
        "SELECT n.nspname, c.relname, c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY($1::text[]) AND c.relkind = 'r' ORDER BY 1, 2"
    ),
    "views": "SELECT schemaname, viewname, definition FROM pg_views WHERE schemaname = ANY($1::text[]) ORDER BY 1, 2",
    "sequences": (
        "SELECT sequence_schema, sequence_name, data_type FROM information_schema.sequences "
        "WHERE sequence_schema = ANY($1::text[]) ORDER BY 1, 2"
    ),
}


def _expression(row: asyncpg.Record) -> dict[str, Any]:
    """A CHECK or a view as PostgreSQL prints it, without casts and parentheses: one restored from a dump is parsed
    again and prints `ANY (ARRAY[('a'::character varying)::text])` for `ANY ((ARRAY['a'::character varying])::text[])`,
    the same expression."""
    return {k: re.sub(r"::[a-z ]+(\[\])?|[()\s]", "", v) if k in ("def", "definition") else v for k, v in row.items()}


async def _catalog(url: str) -> dict[str, list[dict[str, Any]]]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        schemas = list(ALL_SCHEMAS)
        return {part: [_expression(r) for r in await conn.fetch(sql, schemas)] for part, sql in CATALOG.items()}
    finally:
        await conn.close()


async def _versions(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        return {s: await conn.fetchval(f'SELECT version_num FROM "{s}".alembic_version') for s in ALL_SCHEMAS}
    finally:
        await conn.close()


def _data_dir(stack: Stack) -> Path:
    # The stack's own: migrate sets the (server-wide) login roles' passwords from it, which the stack is using.
    return Path(stack.env["FUNDTRACK_DATA_DIR"])


async def test_every_schema_of_the_migrated_database_is_its_models(database: TestDatabase, stack: Stack) -> None:
    """The issue's reproduction: Alembic's comparison of the suite's migrated database with the models found 16
    differences in funds, 17 in projects, 8 in loans and 5 in registry. Now none, in every schema."""
    assert await asyncio.to_thread(differences, database.url, ALL_SCHEMAS) == []


async def test_a_database_that_drifted_is_refused_naming_each_difference(scratch: str, stack: Stack) -> None:
    await asyncio.to_thread(migrate, scratch, _data_dir(stack))
    conn = await asyncpg.connect(plain_url(scratch))
    try:  # as a superuser by hand, behind the models' back
        await conn.execute("DROP INDEX loans.ix_loans_household")
        await conn.execute("ALTER TABLE registry.households ADD COLUMN note text")
    finally:
        await conn.close()
    with pytest.raises(SchemaDrift) as refused:
        await asyncio.to_thread(migrate, scratch, _data_dir(stack))
    assert sorted(refused.value.differences) == [
        "loans: add_index loans.ix_loans_household",
        "registry: remove_column households.note",
    ]
    env = {**os.environ, "DATABASE_URL": scratch, "FUNDTRACK_DATA_DIR": str(_data_dir(stack))}
    cli = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "deploy.cli", "migrate"], env=env, capture_output=True, text=True
    )
    assert cli.returncode == 2, cli.stderr
    assert "the database differs from the models: loans: add_index loans.ix_loans_household" in cli.stderr


async def test_a_database_the_old_chains_made_is_accepted_as_it_is_and_is_the_models(
    scratch: str, database: TestDatabase, stack: Stack
) -> None:
    """A database made before the baselines (by the old migration chains, as the superuser) is at the baseline ids:
    migrate upgrades nothing, hands it to the owner role and finds no difference; and it is then, table by table,
    index by index, trigger by trigger, the database the models make (the suite's)."""
    conn = await asyncpg.connect(plain_url(scratch))
    try:
        await before_baseline.restore(conn)
    finally:
        await conn.close()
    before = await _catalog(scratch)
    await asyncio.to_thread(migrate, scratch, _data_dir(stack))
    assert await _versions(scratch) == await _versions(database.url)
    after = await _catalog(scratch)
    if await _versions(database.url) == before_baseline.BASELINE_IDS:
        assert after == before  # no revision since the baselines: migrate changed nothing
    made_from_models = await _catalog(database.url)
    for part in CATALOG:
        assert after[part] == made_from_models[part], part
