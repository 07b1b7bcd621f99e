"""The steps that give a table of a database in use its parent's county code (issue #15, deploy/SCALING.md), shared
by the projects revisions that key the project library by county (projects_0009 … 0011).

A child row learns its county from its project (through its objection, asset or dividend when it hangs on one of
those): `county_of` is that lookup written for a row, `{row}.column` naming the row's own columns. The steps, each
holding a lock briefly and waiting at most `LOCK_TIMEOUT` for it (migrations/online.py), each safe to run again:

1. `add_column`: the column is added (nullable: no rewrite), with a trigger that fills it on every row a service of
   the version before inserts while the revision runs (it does not write the column);
2. `fill`: the rows recorded before are filled in batches of `BATCH` rows, each its own transaction, in which (and
   only there) the table's append-only trigger is disabled. Batches rather than one UPDATE: one statement over
   millions of shares or payouts would hold every writer of the table off for its whole run (the lock that disables
   the trigger), and leave millions of dead rows at once; a batch holds them off a fraction of a second, and
   autovacuum can follow;
3. `not_null`: NOT NULL through a CHECK … NOT VALID, validated while writers go on, then SET NOT NULL (no scan);
4. (the revision) the new unique indexes built CONCURRENTLY, then one short transaction swaps the keys
   (`ADD CONSTRAINT … PRIMARY KEY USING INDEX`: no scan) and adds the new foreign keys NOT VALID;
5. `finish`: each foreign key VALIDATEd (a scan that lets writers go on); the filling triggers dropped by the
   series' last revision only (projects_0011 drops 0009's and 0010's with its own), so a service of the version
   before records every kind of row until the whole migration has run (the triggers fill the column it does not
   write, NOT NULL or not); from then it fails to, until the new version starts (`fundtrack migrate` runs before the
   new version starts, as always).
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

from migrations.online import LOCK_TIMEOUT

BATCH = 5_000
# The tables whose filling triggers projects_0009 and 0010 leave for projects_0011 to drop.
SERIES_BEFORE_0011 = ("project_events", "announcements", "objections", "objection_resolutions")
_VALUE = re.compile(r"[A-Za-z0-9_.-]+")  # the ids that bound the batches are written into the statements

PROJECT = "SELECT p.county_code FROM projects p WHERE p.id = {row}.project_id"
OBJECTION = ("SELECT p.county_code FROM objections o JOIN projects p ON p.id = o.project_id "
             "WHERE o.id = {row}.objection_id")
ASSET = "SELECT p.county_code FROM assets a JOIN projects p ON p.id = a.project_id WHERE a.id = {row}.asset_id"
DIVIDEND = ("SELECT p.county_code FROM dividends d JOIN assets a ON a.id = d.asset_id "
            "JOIN projects p ON p.id = a.project_id WHERE d.id = {row}.dividend_id")


def _function(table: str) -> str:
    return f"{table}_county_filled"


def add_column(table: str, county_of: str) -> None:
    """Step 1, in the revision's transaction (after `wait_briefly_for_locks`)."""
    op.execute(f"""
        CREATE OR REPLACE FUNCTION {_function(table)}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT
        AS $$
        BEGIN
            IF NEW.county_code IS NULL THEN
                NEW.county_code := ({county_of.format(row="NEW")});
            END IF;
            RETURN NEW;
        END $$
    """)
    op.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS county_code varchar(6)")
    op.execute(f"CREATE OR REPLACE TRIGGER {_function(table)} BEFORE INSERT ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION {_function(table)}()")


def fill(table: str, by: str, county_of: str) -> None:
    """Step 2, in an autocommit block: the rows without a county, `BATCH` at a time in the order of `by` (the first
    column of the table's key before, so its index): the bounds are read first, then each range is one statement
    (so one transaction)."""
    bounds = [row[0] for row in op.get_bind().execute(sa.text(
        f"SELECT {by} FROM (SELECT {by}, row_number() OVER (ORDER BY {by}) AS n FROM {table} "
        f"WHERE county_code IS NULL) s WHERE n % {BATCH} = 0 ORDER BY {by}"
    ))]
    assert all(_VALUE.fullmatch(str(bound)) for bound in bounds), "the bounds are written into the statements below"
    for low, high in zip([None, *bounds], [*bounds, None], strict=True):
        within = " ".join([f"AND t.{by} > '{low}'" if low is not None else "",
                           f"AND t.{by} <= '{high}'" if high is not None else ""])
        op.execute(f"""
            DO $$ BEGIN
                ALTER TABLE {table} DISABLE TRIGGER {table}_append_only;
                UPDATE {table} t SET county_code = ({county_of.format(row="t")})
                WHERE t.county_code IS NULL {within};
                ALTER TABLE {table} ENABLE TRIGGER {table}_append_only;
            END $$
        """)


def not_null(table: str) -> None:
    """Step 3, in an autocommit block."""
    check = f"ck_{table}_county_filled"
    op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK (county_code IS NOT NULL) NOT VALID")
    op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}")  # writers go on meanwhile
    op.execute(f"ALTER TABLE {table} ALTER COLUMN county_code SET NOT NULL")  # proven by the check: no scan
    op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {check}")


def add_and_fill(tables: dict[str, tuple[str, str]]) -> None:
    """Steps 1 to 3 for each table: {table: (the first column of its key before, `county_of`)}, parents first."""
    for table, (_by, county_of) in tables.items():
        add_column(table, county_of)
    with op.get_context().autocommit_block():
        op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        for table, (by, county_of) in tables.items():
            fill(table, by, county_of)
            not_null(table)
        op.execute("RESET lock_timeout")


def swapped(foreign_key: str) -> bool:
    """Whether the new foreign key is there already: the keys were swapped by a run that failed after it (its
    `*_pkey_new` indexes are the keys now, and are not built again)."""
    return op.get_bind().execute(
        sa.text("SELECT 1 FROM pg_constraint WHERE conname = :name AND connamespace = current_schema()::regnamespace"),
        {"name": foreign_key},
    ).first() is not None


def finish(foreign_keys: dict[str, str], tables: list[str]) -> None:
    """Step 5: {foreign key: its table} validated, the filling triggers of `tables` dropped, the tables analysed."""
    with op.get_context().autocommit_block():
        op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        for foreign_key, table in foreign_keys.items():
            op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {foreign_key}")  # writers go on meanwhile
        for table in tables:
            op.execute(f"DROP TRIGGER IF EXISTS {_function(table)} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {_function(table)}()")
        op.execute("RESET lock_timeout")
        for table in tables:
            op.execute(f"ANALYZE {table}")
