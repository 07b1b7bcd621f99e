"""loans: the county code in the keys of the loans and of what is recorded of them (issue #15, deploy/SCALING.md)

`loans` is keyed `(county_code, id)`; `loan_repayments`, `loan_extensions` and `loan_usage_reports` gain the county
code of their loan, the key `(county_code, id)` and the foreign key `(county_code, loan_id) → loans`; an extension
stays one per loan as `(county_code, loan_id)`; `loan_balances` (which has its county already) is keyed
`(county_code, loan_id)` with the same foreign key. A loan's id stays unique by how it is made (services/kernel/ids.py:
the millisecond and 80 random bits), no longer by an index; `ix_loans_id` (plain) finds a loan by id alone.

Written for a database in use (a province: 800,000 loans, 3 million repayments), in steps that each hold a lock
briefly, waiting at most `LOCK_TIMEOUT` for it (migrations/online.py), and that can be run again after a failure:

1. the column is added (nullable: no rewrite), and until this revision ends a trigger fills it from the loan on every
   row inserted meanwhile by a service of the version before (which does not write it);
2. the rows recorded before are filled from their loan in batches of `BATCH` ids, each its own transaction (the
   append-only trigger is disabled inside it, and only there). Batches, not one UPDATE: one statement over 3 million
   repayments would hold off every repayment for its whole run (the lock that disables the trigger) and leave
   3 million dead rows at once; a batch holds writers off a fraction of a second and autovacuum can follow;
3. NOT NULL through a CHECK … NOT VALID, validated without blocking writers, then SET NOT NULL (no scan);
4. the new unique indexes built CONCURRENTLY (`*_pkey_new`, `uq_extensions_loan_new`) and `ix_loans_id`;
5. one short transaction swaps the keys: the old foreign keys and keys dropped, the new keys made from the indexes
   (`ADD CONSTRAINT … PRIMARY KEY USING INDEX`: no scan), the new foreign keys added NOT VALID;
6. each foreign key VALIDATEd (a scan that lets writers go on), the filling trigger dropped.

A run that failed part way (a lock not had within `LOCK_TIMEOUT`) is run again from the start: each step finds
what an earlier run did (tests/loans/test_county_keys.py runs the revision twice).

The county totals' trigger (loans_0013) is on `loan_balances`, whose rows are not changed here: it keeps working.
A service of the version before fails to record a repayment once this revision is done (the column is NOT NULL and
it does not write it): `fundtrack migrate` runs before the new version starts, as always.

Revision ID: loans_0014_county_keys
Revises: loans_0013_county_totals
Create Date: 2026-12-06 07:30:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.online import LOCK_TIMEOUT, build_index, lock_tables, wait_briefly_for_locks

revision: str = "loans_0014_county_keys"
down_revision: str | None = "loans_0013_county_totals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHILDREN = ("loan_repayments", "loan_extensions", "loan_usage_reports")
KEYED = {"loans": "id", **dict.fromkeys(CHILDREN, "id"), "loan_balances": "loan_id"}  # the key: county_code, then
FOREIGN_KEYS = {"loan_repayments": "fk_repayments_loan", "loan_extensions": "fk_extensions_loan",
                "loan_usage_reports": "fk_usage_loan", "loan_balances": "fk_balances_loan"}
BATCH = 5_000
_ID = re.compile(r"[A-Za-z0-9_]+")

FILL_FUNCTION = """
CREATE OR REPLACE FUNCTION loans_0014_county_filled() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT
AS $$
        BEGIN
            IF NEW.county_code IS NULL THEN
                SELECT county_code INTO NEW.county_code FROM loans WHERE id = NEW.loan_id;
            END IF;
            RETURN NEW;
        END $$
"""


def upgrade() -> None:
    wait_briefly_for_locks()
    op.execute(FILL_FUNCTION)
    for table in CHILDREN:
        op.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS county_code varchar(6)")
        op.execute(f"CREATE OR REPLACE TRIGGER {table}_county_filled BEFORE INSERT ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION loans_0014_county_filled()")
    with op.get_context().autocommit_block():
        op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        for table in CHILDREN:
            _fill(table)
            _not_null(table)
        op.execute("RESET lock_timeout")
    swapped = _swapped()  # by a run that failed after it
    if not swapped:
        for table, key in KEYED.items():
            build_index(f"{table}_pkey_new", table, ["county_code", key], unique=True)
        build_index("uq_extensions_loan_new", "loan_extensions", ["county_code", "loan_id"], unique=True)
    build_index("ix_loans_id", "loans", ["id"])
    if not swapped:
        wait_briefly_for_locks()
        _swap()
    with op.get_context().autocommit_block():
        op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        for table, foreign_key in FOREIGN_KEYS.items():
            op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {foreign_key}")  # writers go on meanwhile
        for table in CHILDREN:
            op.execute(f"ANALYZE {table}")
        for table in CHILDREN:  # last: until here a service of the version before still records (step 1)
            op.execute(f"DROP TRIGGER IF EXISTS {table}_county_filled ON {table}")
        op.execute("DROP FUNCTION IF EXISTS loans_0014_county_filled()")
        op.execute("RESET lock_timeout")


def _swapped() -> bool:
    """The loans' primary key has the county code already."""
    return bool(op.get_bind().execute(sa.text(
        "SELECT array_length(i.indkey, 1) = 2 FROM pg_index i "
        "WHERE i.indrelid = to_regclass('loans') AND i.indisprimary"
    )).scalar())


def _fill(table: str) -> None:
    """The county code of each row recorded before step 1, from its loan, `BATCH` ids at a time: the bounds are read
    first (from the key's index), then each range is one statement, so one transaction."""
    bounds = [row[0] for row in op.get_bind().execute(sa.text(
        f"SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM {table} WHERE county_code IS NULL) s "
        f"WHERE n % {BATCH} = 0 ORDER BY id"
    ))]
    assert all(_ID.fullmatch(bound) for bound in bounds), "ids are written into the statements below"
    ranges = list(zip([None, *bounds], [*bounds, None], strict=True))
    for low, high in ranges:
        within = " ".join([f"AND t.id > '{low}'" if low else "", f"AND t.id <= '{high}'" if high else ""])
        op.execute(f"""
            DO $$ BEGIN
                ALTER TABLE {table} DISABLE TRIGGER {table}_append_only;
                UPDATE {table} t SET county_code = l.county_code FROM loans l
                WHERE l.id = t.loan_id AND t.county_code IS NULL {within};
                ALTER TABLE {table} ENABLE TRIGGER {table}_append_only;
            END $$
        """)


def _not_null(table: str) -> None:
    check = f"ck_{table}_county_filled"
    op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK (county_code IS NOT NULL) NOT VALID")
    op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}")  # writers go on meanwhile
    op.execute(f"ALTER TABLE {table} ALTER COLUMN county_code SET NOT NULL")  # proven by the check: no scan
    op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {check}")


def _swap() -> None:
    # every table at once, the loans first as a service takes them (a loan, then what is recorded of it): no deadlock
    lock_tables(f"LOCK TABLE {', '.join(KEYED)} IN ACCESS EXCLUSIVE MODE")
    for table in FOREIGN_KEYS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_loan_id_fkey")
    op.execute("ALTER TABLE loan_extensions DROP CONSTRAINT IF EXISTS loan_extensions_loan_id_key")
    for table in KEYED:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY USING INDEX {table}_pkey_new")
    op.execute("ALTER TABLE loan_extensions ADD CONSTRAINT uq_extensions_loan UNIQUE USING INDEX uq_extensions_loan_new")
    for table, foreign_key in FOREIGN_KEYS.items():
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {foreign_key} FOREIGN KEY (county_code, loan_id) "
                   "REFERENCES loans (county_code, id) NOT VALID")


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
