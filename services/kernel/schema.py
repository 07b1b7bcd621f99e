"""What a schema is declared with besides its tables' columns: the DDL that guards a table (declared next to the
table, run when the table is created), the PostgreSQL types SQLAlchemy does not know, and the MetaData of one schema.

The models are the schema: `fundtrack migrate` creates a fresh schema from its MetaData (`create_all`) and checks an
existing one against it (Alembic's `compare_metadata`), so whatever a table needs beyond its columns is attached to
the table here, not written in a migration.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, MetaData, String, Table, event, text
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.engine import Connection
from sqlalchemy.types import UserDefinedType
from sqlmodel import SQLModel

# Nothing recorded is edited or deleted (DOMAIN.md; A2 for the audit trail);
# the body is indented as the databases made before 2026-12-03 have it, so that both dump alike.
_APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '%: append-only, % refused (nothing recorded is edited or deleted)', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
"""
_APPEND_ONLY_TRIGGER = (
    "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
)


class XID8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (`pg_current_xact_id()`), which SQLAlchemy has no type for."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


# Reflection (Alembic's comparison) reads a column of type xid8 as this type, not as an unknown one.
ischema_names["xid8"] = XID8


def organisation_column() -> Column[Any]:
    """A recorded fact's organisation (issue #16, rule O13): `recorded_by_org` (the recording principal's, from the
    signed identity) and `responsible_org`. Null on the rows recorded before organisations were: adding a nullable
    column without a default rewrites no table, however many rows it holds."""
    return Column(String(64), nullable=True)


def recorded_xid_column() -> Column[Any]:
    """The transaction that recorded a row (`pg_current_xact_id()`, as the audit outbox's `xid`): what a run reading
    only what was recorded since its mark reads by (services/kernel/marks.py), exactly, whenever the writing
    transactions commit. Null on the rows recorded before the column was added: adding it without a default, then
    setting the default, rewrites no table; they were committed before any mark."""
    return Column(XID8(), nullable=True, server_default=text("pg_current_xact_id()"))


def after_create(target: Table | MetaData, *statements: str) -> None:
    """Run `statements` right after `target` (a table, or a schema's whole MetaData) is created by `create_all`, in
    the same transaction. `propagate` keeps them on the copy of a table each schema's MetaData holds
    (`schema_metadata`)."""

    def run(created: Table | MetaData, connection: Connection, **kw: Any) -> None:
        for statement in statements:
            connection.exec_driver_sql(statement)

    event.listen(target, "after_create", run, propagate=True)


def append_only(table: Table) -> None:
    """The database itself refuses any UPDATE, DELETE or TRUNCATE statement on `table`, whatever role asks:
    corrections are new rows. (The function is one per schema; each guarded table replaces it with itself.)"""
    after_create(table, _APPEND_ONLY_FUNCTION, _APPEND_ONLY_TRIGGER.format(table=table.name))


def schema_metadata(*tables: Table) -> MetaData:
    """One schema's MetaData: exactly its tables (SQLModel keeps every model of every service in one MetaData, and
    the kernel's tables are in every schema), each copied with what is attached to it (`after_create`)."""
    metadata = MetaData()
    for table in tables:
        copy = table.to_metadata(metadata)
        copy._prefixes = list(table._prefixes)  # UNLOGGED (registry.import_progress): to_metadata drops it
    return metadata


def table_of(model: type[SQLModel]) -> Table:
    """The Table a model class is mapped to, typed (SQLModel does not declare `__table__`)."""
    table = vars(model)["__table__"]
    assert isinstance(table, Table), model
    return table
