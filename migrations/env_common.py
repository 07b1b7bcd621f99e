"""The env.py body shared by every schema's history: run migrations inside that schema, with the version table
there too, on the async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from services.kernel.db import asyncpg_url


def _run(connection: Connection, schema: str) -> None:
    owner = context.config.get_main_option("fundtrack_owner_role")
    if owner:  # S4: everything is created by, and owned by, the owner role (deploy/migrate.py)
        connection.execute(text(f'SET ROLE "{owner}"'))
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    connection.execute(text(f'SET search_path TO "{schema}"'))
    connection.commit()
    context.configure(connection=connection, version_table_schema=schema, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


async def _main(schema: str) -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is set by deploy.migrate"
    engine = create_async_engine(asyncpg_url(url))
    async with engine.connect() as connection:
        await connection.run_sync(_run, schema)
        await connection.commit()
    await engine.dispose()


def run(schema: str) -> None:
    if context.is_offline_mode():
        raise SystemExit("offline migrations are not supported; run `fundtrack migrate`")
    asyncio.run(_main(schema))
