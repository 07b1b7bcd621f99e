"""The env.py body shared by every schema's history: run migrations inside that schema, with the version table
there too, on the async engine. The schema's models are the target (`migrations.schemas`): a fresh schema is created
from them and stamped (deploy.migrate), and `alembic revision --autogenerate` writes the next revision against them."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from migrations.schemas import COMPARE_OPTIONS, CREATE_FROM_MODELS, TARGET_METADATA
from services.kernel.db import asyncpg_url


def _run(connection: Connection, schema: str) -> None:
    owner = context.config.get_main_option("fundtrack_owner_role")
    if owner:  # S4: everything is created by, and owned by, the owner role (deploy/migrate.py)
        connection.execute(text(f'SET ROLE "{owner}"'))
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    connection.execute(text(f'SET search_path TO "{schema}"'))
    connection.commit()
    metadata = TARGET_METADATA[schema]
    create = bool(context.config.attributes.get(CREATE_FROM_MODELS))
    context.configure(
        connection=connection,
        version_table_schema=schema,
        target_metadata=metadata,
        **COMPARE_OPTIONS,
        # A fresh schema's tables and its stamp are one transaction: it is made whole, or not at all.
        transaction_per_migration=not create,
    )
    with context.begin_transaction():
        if create:
            metadata.create_all(connection)
        context.run_migrations()


async def _main(schema: str) -> None:
    # Set by deploy.migrate; DATABASE_URL's when Alembic runs from alembic.ini (`alembic -n <schema> ...`).
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL to the database to compare with (`alembic -n <schema> ...`)")
    engine = create_async_engine(asyncpg_url(url))
    async with engine.connect() as connection:
        await connection.run_sync(_run, schema)
        await connection.commit()
    await engine.dispose()


def run(schema: str) -> None:
    if context.is_offline_mode():
        raise SystemExit("offline migrations are not supported; run `fundtrack migrate`")
    asyncio.run(_main(schema))
