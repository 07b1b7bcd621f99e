"""The database against its models: Alembic's comparison of every schema with its MetaData (migrations.schemas).

`fundtrack migrate` upgrades an existing database and then refuses it if any schema differs from the models, one
line per difference, so a schema that drifted (an index dropped by hand, a migration that forgot a constraint) is
never deployed silently. Compared: tables, columns, types, nullability, server defaults, indexes, unique constraints,
foreign keys (not: check constraints, triggers, views; tests/platform/test_schema.py compares those with the catalog).
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from migrations.schemas import COMPARE_OPTIONS, TARGET_METADATA
from services.kernel.db import asyncpg_url


class SchemaDrift(Exception):
    """The database differs from the models: `differences` names each difference, one line each."""

    def __init__(self, differences: list[str]) -> None:
        super().__init__("the database differs from the models:\n" + "\n".join(differences))
        self.differences = differences


def _name(thing: Any) -> str:
    table = getattr(thing, "table", None)
    name = getattr(thing, "name", None) or repr(thing)
    return f"{table.name}.{name}" if table is not None and getattr(table, "name", None) else str(name)


def _value(value: Any) -> str:
    """A column's type, nullability or server default as SQL says it (a default's text, not its Python repr)."""
    arg = getattr(value, "arg", None)
    if arg is None:
        return repr(value)
    return repr(arg) if isinstance(arg, str) else str(arg)


def describe(schema: str, difference: Any) -> str:
    """One line for one entry of `compare_metadata`: a tuple (operation, object...) or, for a changed column, a
    list of (operation, schema, table, column, info, database value, model value)."""
    if isinstance(difference, list):
        return "; ".join(describe(schema, d) for d in difference)
    operation, *rest = difference
    if operation.startswith("modify_"):
        _, table, column, _, in_database, in_models = rest
        return f"{schema}: {operation} {table}.{column}: database {_value(in_database)}, models {_value(in_models)}"
    if operation in ("add_column", "remove_column"):
        _, table, column = rest
        return f"{schema}: {operation} {table}.{column.name}"
    return f"{schema}: {operation} {_name(rest[0])}"


def _compare(connection: Connection, schema: str) -> list[str]:
    connection.execute(text(f'SET search_path TO "{schema}"'))
    context = MigrationContext.configure(connection, opts=COMPARE_OPTIONS)
    return [describe(schema, d) for d in compare_metadata(context, TARGET_METADATA[schema])]


async def _differences(url: str, schemas: tuple[str, ...]) -> list[str]:
    engine = create_async_engine(asyncpg_url(url))
    try:
        found: list[str] = []
        async with engine.connect() as connection:
            for schema in schemas:
                found += await connection.run_sync(_compare, schema)
        return found
    finally:
        await engine.dispose()


def differences(url: str, schemas: tuple[str, ...]) -> list[str]:
    """Every difference between these schemas of the database at `url` and their models ([] when they agree)."""
    return asyncio.run(_differences(url, schemas)) if schemas else []
