"""Schema changes on tables of millions of rows while the services run (issue #20's review): an index is built
CONCURRENTLY, outside the migration's transaction, so writers go on meanwhile (an interrupted build leaves an
invalid index of the same name: it is dropped and built again); a step that needs a table's exclusive lock (a new
column, a default) waits at most `LOCK_TIMEOUT` for it, so that behind a long query (an export, a detector run) it
fails and can be run again, rather than queueing every request of the service behind it. gateway_0007 was the
first revision built this way."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

LOCK_TIMEOUT = "5s"


def wait_briefly_for_locks() -> None:
    """The rest of this revision's transaction waits at most LOCK_TIMEOUT for a lock."""
    op.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")


def lock_tables(*statements: str) -> None:
    """LOCK TABLE statements of this revision's transaction, waiting LOCK_TIMEOUT at most for all of them together:
    lock_timeout bounds each lock's wait, so once the first of five tables is held exclusive, the readers queued
    behind it could wait five times as long; a statement timeout over the locks bounds their sum (a revision that
    cannot have them all in that time fails, and is run again)."""
    before = op.get_bind().execute(sa.text("SHOW statement_timeout")).scalar_one()
    op.execute(f"SET LOCAL statement_timeout = '{LOCK_TIMEOUT}'")
    for statement in statements:
        op.execute(statement)
    op.execute(f"SET LOCAL statement_timeout = '{before}'")


def _invalid(name: str) -> bool:
    return op.get_bind().execute(
        sa.text(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace AND NOT i.indisvalid"
        ),
        {"name": name},
    ).first() is not None


def build_index(name: str, table: str, columns: list[str], *, unique: bool = False, **options: Any) -> None:
    """CREATE INDEX CONCURRENTLY (committing the revision's work before it): readers and writers of `table` go on.
    A unique one is what a new key is then made of (`ADD CONSTRAINT … PRIMARY KEY USING INDEX`, a brief lock)."""
    with op.get_context().autocommit_block():
        if _invalid(name):
            op.drop_index(name, table_name=table, postgresql_concurrently=True)
        op.create_index(name, table, columns, unique=unique, postgresql_concurrently=True, if_not_exists=True,
                        **options)


def rebuild_index(name: str, table: str, columns: list[str], **options: Any) -> None:
    """An index of the same name built again with other options: the new one CONCURRENTLY under a name of its
    own, the old one dropped CONCURRENTLY, the new one renamed (a brief lock): the table keeps an index meanwhile."""
    building = f"{name}_new"
    build_index(building, table, columns, **options)
    with op.get_context().autocommit_block():
        op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
        op.execute(f"ALTER INDEX {building} RENAME TO {name}")
        op.execute("RESET lock_timeout")


def grant_to_writers_of(table: str, privileges: str, new_table: str) -> None:
    """GRANT `privileges` on `new_table` to every role (but the migrating one) that may INSERT into or UPDATE
    `table`. A trigger a revision puts on `table` to keep `new_table` runs as the role that writes `table`: a service
    of the version before, whose role `fundtrack migrate` gives the new table's rights only once every schema is
    migrated. Without this, that service could write nothing to `table` while the revision runs (funds_0023's
    review)."""
    op.execute(f"""
        DO $$
        DECLARE writer text;
        BEGIN
            FOR writer IN SELECT DISTINCT r.rolname FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) AS a
                          JOIN pg_roles r ON r.oid = a.grantee
                          WHERE c.oid = '{table}'::regclass AND a.privilege_type IN ('INSERT', 'UPDATE')
                            AND r.rolname <> current_user
            LOOP
                EXECUTE format('GRANT {privileges} ON {new_table} TO %I', writer);
            END LOOP;
        END $$
    """)
