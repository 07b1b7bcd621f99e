"""registry: the roster and its status history keyed by county code (issue #15, deploy/SCALING.md)

`households` is keyed `(county_code, household_id)` (its primary key made of a new unique index on those columns,
which also replaces the plain `ix_households_county` on the same columns); `uq_households_household_id`, unique on
the household id alone, keeps a household one across counties (the roster's ids come from the national system, and
a re-import moves a household to another county by updating its record) and serves every read by id alone.
`household_status_history` gains `county_code` (the county of the state it records; the rows recorded before are
given their household's county of now: which county a moved household was in before is not recorded anywhere), the
key `(county_code, id)` (an id is drawn from one sequence: distinct by construction), and `ix_history_household`
`(household_id, effective_on, id)`, the order of the old key, which every read of a household's history needs.

Written for a database in use (a province: 2 million households, several times that of history), in the steps
migrations/county_keys.py says: the column added with a trigger filling it from the household for the rows a service
of the version before inserts meanwhile (it does not write the column), the rows before filled in batches, NOT NULL
through a validated CHECK, the new indexes built CONCURRENTLY, the keys swapped in one short transaction
(`PRIMARY KEY USING INDEX`: no scan), the trigger dropped last. Each step can run again after a failure
(tests/registry/test_county_keys.py runs the revision twice).

Revision ID: registry_0013_county_keys
Revises: registry_0012_changed_since
Create Date: 2026-12-06 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import county_keys
from migrations.online import build_index, lock_tables, wait_briefly_for_locks

revision: str = "registry_0013_county_keys"
down_revision: str | None = "registry_0012_changed_since"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HISTORY = "household_status_history"
# how a history row finds its county: its household's (county_keys: `{row}` names the row)
HOUSEHOLD = "SELECT h.county_code FROM households h WHERE h.household_id = {row}.household_id"
KEYS = {"households": ["county_code", "household_id"], HISTORY: ["county_code", "id"]}


def upgrade() -> None:
    wait_briefly_for_locks()
    county_keys.add_and_fill({HISTORY: ("household_id", HOUSEHOLD)})
    # before the keys on household_id go: a household stays one across counties, and is read by id alone
    build_index("uq_households_household_id", "households", ["household_id"], unique=True)
    build_index("ix_history_household", HISTORY, ["household_id", "effective_on", "id"])
    if not _swapped():  # (a run that failed after the swap finds it done: its new indexes are the keys now)
        for table, key in KEYS.items():
            build_index(f"{table}_pkey_new", table, key, unique=True)
        wait_briefly_for_locks()
        # the roster first, as an import takes them (its merge reads the households, then writes the history)
        lock_tables(f"LOCK TABLE households, {HISTORY} IN ACCESS EXCLUSIVE MODE")
        for table in KEYS:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY USING INDEX {table}_pkey_new")
    with op.get_context().autocommit_block():  # the same columns as the new key, not unique
        op.drop_index("ix_households_county", table_name="households", postgresql_concurrently=True, if_exists=True)
    county_keys.finish({}, [HISTORY])  # last: until here a service of the version before records history


def _swapped() -> bool:
    """The households' primary key has the county code already."""
    return bool(op.get_bind().execute(sa.text(
        "SELECT array_length(i.indkey, 1) = 2 FROM pg_index i "
        "WHERE i.indrelid = to_regclass('households') AND i.indisprimary"
    )).scalar())


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
