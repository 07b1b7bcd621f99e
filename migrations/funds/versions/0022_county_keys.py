"""funds: the county code in the keys of the arrangements, payments, reversals and project ledgers (issue #15,
deploy/SCALING.md)

`arrangements` and `disbursements` are keyed `(county_code, id)`, `project_ledgers` `(county_code, project_id)` (each
had its county already, NOT NULL). `reversals` gains `county_code`, the region that answers for the reversed record
(an arrangement's or a payment's county; an appropriation's region, an allocation's issuing region: as
services/funds/repository/reversals.py `_ANSWERING_REGION` says), the key `(county_code, id)` and the unique
`uq_reversals_target (county_code, target_id)` in place of the unique `target_id`: the county is a function of the
record, so a record is still reversed at most once. Ids stay unique by how they are made (services/kernel/ids.py
`new_id`: the millisecond and 80 random bits), no longer by an index; what the service reads by an id alone has a
plain index (`ix_arrangements_id`, `ix_disbursements_id`, `ix_reversals_id`, `ix_reversals_target`,
`ix_project_ledgers_project_id`). No foreign key joins these tables (a reversal's target is one of four tables), so
none is swapped; `funds.accounts` and `transfers` are not changed here (SCALING.md: their redesign is its own).

Written for a database in use (a province: 5 million payments), in the steps migrations/county_keys.py says:
`reversals.county_code` added with a trigger filling it for a service of the version before (which does not write
it), the reversals before filled in batches, NOT NULL through a validated CHECK; the new indexes built
CONCURRENTLY; then each table's keys swapped in one ALTER TABLE of its own (`PRIMARY KEY USING INDEX`: no scan; one
short transaction holding that table alone, waiting at most `LOCK_TIMEOUT` for it: no two tables are locked
together, so no order of locks can deadlock with a service's transaction); the filling trigger dropped last. The
project ledgers are swapped last: until then a service of the version before still arranges (its `ON CONFLICT
(project_id)` needs the old key). A run that failed part way is run again from the start: each step finds what an
earlier run did (tests/funds/test_county_keys.py runs it twice).

Revision ID: funds_0022_county_keys
Revises: funds_0021_duplicates_since
Create Date: 2026-12-06 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import county_keys
from migrations.online import LOCK_TIMEOUT, build_index, wait_briefly_for_locks

revision: str = "funds_0022_county_keys"
down_revision: str | None = "funds_0021_duplicates_since"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A reversal's county: the region answering for the record it reversed, by the record's kind (`{row}`: the reversal)
REVERSED_RECORD = """SELECT CASE {row}.target_kind
    WHEN 'arrangement' THEN (SELECT a.county_code FROM arrangements a WHERE a.id = {row}.target_id)
    WHEN 'disbursement' THEN (SELECT d.county_code FROM disbursements d WHERE d.id = {row}.target_id)
    WHEN 'appropriation' THEN (SELECT p.region_code FROM appropriations p WHERE p.id = {row}.target_id)
    WHEN 'allocation' THEN (SELECT l.from_region FROM allocations l WHERE l.id = {row}.target_id) END"""
LOOKUPS = {  # the plain indexes of the lookups by an id alone: name: (table, column)
    "ix_arrangements_id": ("arrangements", "id"),
    "ix_disbursements_id": ("disbursements", "id"),
    "ix_reversals_id": ("reversals", "id"),
    "ix_reversals_target": ("reversals", "target_id"),
    "ix_project_ledgers_project_id": ("project_ledgers", "project_id"),
}
KEYS = {  # the new primary key after county_code, in the order swapped (the project ledgers last: see above)
    "reversals": ["id"], "arrangements": ["id"], "disbursements": ["id"], "project_ledgers": ["project_id"],
}


def upgrade() -> None:
    wait_briefly_for_locks()
    county_keys.add_and_fill({"reversals": ("id", REVERSED_RECORD)})
    for name, (table, column) in LOOKUPS.items():  # before the keys on the ids go
        build_index(name, table, [column])
    for table, key in KEYS.items():
        if _keyed(table):  # by a run that failed after it
            continue
        build_index(f"{table}_pkey_new", table, ["county_code", *key], unique=True)
        swap = [f"DROP CONSTRAINT {table}_pkey",
                f"ADD CONSTRAINT {table}_pkey PRIMARY KEY USING INDEX {table}_pkey_new"]
        if table == "reversals":
            build_index("uq_reversals_target_new", table, ["county_code", "target_id"], unique=True)
            swap = ["DROP CONSTRAINT reversals_target_id_key", *swap,
                    "ADD CONSTRAINT uq_reversals_target UNIQUE USING INDEX uq_reversals_target_new"]
        with op.get_context().autocommit_block():
            op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            op.execute(f"ALTER TABLE {table} {', '.join(swap)}")
            op.execute("RESET lock_timeout")
    # last: until here a service of the version before records reversals (the trigger gives them their county)
    county_keys.finish({}, ["reversals"])


def _keyed(table: str) -> bool:
    """The table's primary key starts with the county code already."""
    return op.get_bind().execute(sa.text(
        "SELECT a.attname = 'county_code' FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
        "WHERE i.indrelid = to_regclass(:table) AND i.indisprimary"
    ), {"table": table}).scalar_one()


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
