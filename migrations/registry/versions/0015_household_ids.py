"""registry: the directory of household ids keeps a household one across counties, in place of the roster's unique
index on the id alone (issue #15, deploy/SCALING.md)

The roster is keyed `(county_code, household_id)`; `uq_households_household_id` (unique on the id alone) was what
refused one household in two counties, and Citus cannot keep a unique index without the distribution column.
`household_ids` (household_id → county_code, keyed by the id) takes that guard: triggers on `households` add each
household registered (a second of one id, in any county, is refused by its key) and set the county of each one that
moves (services/registry/models.py `HouseholdId`, `DIRECTORY_FUNCTION`: the function's text is the models', so a
migrated schema and one made from the models are alike, tests/platform/test_schema.py). Reads by id alone go through
it too (services/registry/repository.py `located`: the directory's key, then the roster's), and the roster keeps no
index on the id alone (an import writes as many indexes as before).

Written for a database in use (a province: 2 million households), in the steps of migrations/county_keys.py:

1. (the revision's transaction) the directory and the triggers, and the roles that may write the roster (a registry
   of the version before, whose writes the triggers now follow) given the rights on the directory the triggers use
   (`migrations.online.grant_to_writers_of`);
2. the households before copied in batches of `county_keys.BATCH`, in id order, each its own short transaction
   (`ON CONFLICT DO NOTHING`: an entry a trigger wrote already is newer; a move the trigger made meanwhile upserts);
3. the directory checked against the roster (`household_ids_differing`' condition: the revision stops here,
   nothing dropped, otherwise);
4. `uq_households_household_id` dropped CONCURRENTLY: until then it refused a second registration as it always did.
   From then on a registry of the version before reads the roster by id without an index (its imports' merge and
   refusals, a household's record, STANDING): on PostgreSQL 18 a skip scan of the roster's key, on 17 and before a
   scan of the roster per line or request. Stop the registry of the version before (or at least its imports)
   before this revision, and start the new one right after it.

A run that failed part way is run again from the start: each step finds what an earlier run did
(tests/registry/test_household_ids.py runs it twice).

Revision ID: registry_0015_household_ids
Revises: registry_0014_nonce_claims
Create Date: 2026-12-06 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import county_keys
from migrations.online import LOCK_TIMEOUT, grant_to_writers_of, wait_briefly_for_locks

revision: str = "registry_0015_household_ids"
down_revision: str | None = "registry_0014_nonce_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIRECTORY_FUNCTION = """
CREATE OR REPLACE FUNCTION household_ids_kept() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT
SET enable_hashjoin = on SET enable_mergejoin = on AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                DELETE FROM household_ids;
            ELSIF TG_OP = 'INSERT' THEN
                INSERT INTO household_ids (household_id, county_code) SELECT household_id, county_code FROM new_rows;
            ELSIF TG_OP = 'DELETE' THEN
                DELETE FROM household_ids d USING old_rows o WHERE d.household_id = o.household_id;
            ELSE
                IF EXISTS (SELECT 1 FROM old_rows o
                           WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.household_id = o.household_id)) THEN
                    DELETE FROM household_ids d USING old_rows o
                    WHERE d.household_id = o.household_id
                      AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.household_id = o.household_id);
                    INSERT INTO household_ids (household_id, county_code)
                    SELECT n.household_id, n.county_code FROM new_rows n
                    WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.household_id = n.household_id);
                END IF;
                INSERT INTO household_ids AS d (household_id, county_code)
                SELECT n.household_id, n.county_code FROM new_rows n JOIN old_rows o USING (household_id)
                WHERE n.county_code <> o.county_code
                ON CONFLICT (household_id) DO UPDATE SET county_code = excluded.county_code;
            END IF;
            RETURN NULL;
        END $$
"""
DIRECTORY_TRIGGERS = (
    "CREATE OR REPLACE TRIGGER households_ids_insert AFTER INSERT ON households REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION household_ids_kept()",
    "CREATE OR REPLACE TRIGGER households_ids_update AFTER UPDATE ON households REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION household_ids_kept()",
    "CREATE OR REPLACE TRIGGER households_ids_delete AFTER DELETE ON households REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION household_ids_kept()",
    "CREATE OR REPLACE TRIGGER households_ids_truncate AFTER TRUNCATE ON households "
    "FOR EACH STATEMENT EXECUTE FUNCTION household_ids_kept()",
)
COPY = """
    INSERT INTO household_ids (household_id, county_code)
    SELECT household_id, county_code FROM households {where}
    ON CONFLICT DO NOTHING
"""
DIFFERING = """
    SELECT count(*) FROM household_ids d FULL JOIN households h ON h.household_id = d.household_id
    WHERE d.county_code IS DISTINCT FROM h.county_code
"""


def upgrade() -> None:
    wait_briefly_for_locks()
    if op.get_bind().execute(sa.text("SELECT to_regclass('household_ids') IS NULL")).scalar_one():
        op.create_table(
            "household_ids",
            sa.Column("household_id", sa.String(length=64), nullable=False),
            sa.Column("county_code", sa.String(length=6), nullable=False),
            sa.PrimaryKeyConstraint("household_id"),
        )
    op.execute(DIRECTORY_FUNCTION)
    for trigger in DIRECTORY_TRIGGERS:
        op.execute(trigger)
    grant_to_writers_of("households", "SELECT, INSERT, UPDATE", "household_ids")
    with op.get_context().autocommit_block():
        op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        _copy()
        op.execute("RESET lock_timeout")
    with op.get_context().autocommit_block():
        differing = op.get_bind().execute(sa.text(DIFFERING)).scalar_one()
        if differing:
            raise RuntimeError(f"registry_0015: {differing} household ids differ between the directory and the "
                               "roster: uq_households_household_id is kept; run the revision again")
        op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        op.drop_index("uq_households_household_id", table_name="households", postgresql_concurrently=True,
                      if_exists=True)
        op.execute("RESET lock_timeout")
        op.execute("ANALYZE household_ids")


def _copy() -> None:
    """Step 2, in an autocommit block: the households, `BATCH` at a time in id order (the unique index on the id,
    there until step 4): the bounds are read first, then each range is one statement (so one transaction)."""
    bounds = [row[0] for row in op.get_bind().execute(sa.text(
        f"SELECT household_id FROM (SELECT household_id, row_number() OVER (ORDER BY household_id) AS n "
        f"FROM households) s WHERE n % {county_keys.BATCH} = 0 ORDER BY household_id"
    ))]
    for low, high in zip([None, *bounds], [*bounds, None], strict=True):
        within = " AND ".join([*(["household_id > :low"] if low is not None else []),
                               *(["household_id <= :high"] if high is not None else [])])
        bound = {k: v for k, v in (("low", low), ("high", high)) if v is not None}
        op.get_bind().execute(sa.text(COPY.format(where=f"WHERE {within}" if within else "")), bound)


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
