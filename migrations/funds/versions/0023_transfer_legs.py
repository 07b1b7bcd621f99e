"""funds: the ledger's transfers as legs, each on its account's region, and the accounts keyed by region (issue #15,
deploy/SCALING.md)

A transfer names two accounts, often of two regions (an allocation from a province to a county), so it has no region
of its own. `transfer_legs` holds it as two legs, one per account: 'out' on the account the money left, 'in' on the
account it entered, each keyed `(region_code, transfer_id, leg, created_at)` with its account's region code and
carrying every figure of the transfer (the other account as `counter_account_id`), its foreign key
`fk_transfer_legs_account (region_code, account_id) → accounts (region_code, id)` co-located. `reverses_id` (the
transfer a compensating one reverses) has no foreign key: the ledger makes a reversal from the legs it read, and
`uq_reversals_target` keeps a record reversed at most once. `accounts` is keyed `(region_code, id)`; its id comes
from an identity (distinct by construction, no longer by an index), read by id alone through the plain
`ix_accounts_id`. The old `transfers` table goes.

Written for a database in use (a province: tens of millions of transfers), in the steps of migrations/county_keys.py:

1. (the revision's transaction) `transfer_legs` created with its indexes (empty: no CONCURRENTLY needed) and its
   append-only trigger, and a trigger on `transfers` that writes both legs of each transfer a service of the version
   before inserts while the revision runs, the roles that may insert a transfer (that service's) given the right to
   insert its legs (the trigger runs as them; `fundtrack migrate` grants the new table's rights only at its end);
2. the transfers before copied into legs in batches of `county_keys.BATCH` transfers, each its own short
   transaction (`ON CONFLICT DO NOTHING`: a transfer the trigger wrote already, or a run again, is not copied twice);
3. the accounts' new key and their plain id index built CONCURRENTLY; the old table's foreign keys to `accounts (id)`
   dropped (one short transaction of `transfers`: the legs of its rows are checked by theirs), then the accounts'
   key swapped (`PRIMARY KEY USING INDEX`: no scan, one short transaction of `accounts`), then the legs' foreign key
   added NOT VALID and VALIDATEd while writers go on; each holding one table, waiting at most `LOCK_TIMEOUT`;
4. last, the trigger and `transfers` dropped: until then a service of the version before records transfers (their
   legs written by the trigger); from then it fails to, until the new version starts.

A run that failed part way is run again from the start: each step finds what an earlier run did
(tests/funds/test_transfer_legs.py runs it twice).

Revision ID: funds_0023_transfer_legs
Revises: funds_0022_county_keys
Create Date: 2026-12-06 13:30:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import county_keys
from migrations.online import LOCK_TIMEOUT, build_index, grant_to_writers_of, wait_briefly_for_locks

revision: str = "funds_0023_transfer_legs"
down_revision: str | None = "funds_0022_county_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEG_COLUMNS = ("region_code, transfer_id, leg, account_id, counter_account_id, amount_fen, kind, fund_source, "
               "record_id, doc_no, occurred_on, reverses_id, created_at")
# Both legs of the transfers `{row}` (a table alias or NEW), each with its account's region code.
LEGS_OF = f"""
    INSERT INTO transfer_legs ({LEG_COLUMNS})
    SELECT a.region_code, {{row}}.id, side.leg, a.id,
           CASE side.leg WHEN 'out' THEN {{row}}.destination_account_id ELSE {{row}}.source_account_id END,
           {{row}}.amount_fen, {{row}}.kind, {{row}}.fund_source, {{row}}.record_id, {{row}}.doc_no,
           {{row}}.occurred_on, {{row}}.reverses_id, {{row}}.created_at
    FROM {{source}}
    CROSS JOIN (VALUES ('out'), ('in')) AS side(leg)
    JOIN accounts a ON a.id = CASE side.leg WHEN 'out' THEN {{row}}.source_account_id
                                           ELSE {{row}}.destination_account_id END
    {{where}}
    ON CONFLICT DO NOTHING
"""
WRITES_LEGS = "transfers_write_legs"  # the trigger on `transfers` and its function
OLD_FOREIGN_KEYS = ("transfers_source_account_id_fkey", "transfers_destination_account_id_fkey")
_VALUE = re.compile(r"[A-Za-z0-9_.-]+")  # the ids that bound the batches are written into the statements


def upgrade() -> None:
    wait_briefly_for_locks()
    old = _exists("transfers")
    if not _exists("transfer_legs"):
        _create_legs()
    if old:
        op.execute(f"""
            CREATE OR REPLACE FUNCTION {WRITES_LEGS}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT
            AS $$
            BEGIN
                {LEGS_OF.format(row="NEW", source="(SELECT 1) AS one", where="")};
                RETURN NULL;
            END $$
        """)
        op.execute(f"CREATE OR REPLACE TRIGGER {WRITES_LEGS} AFTER INSERT ON transfers "
                   f"FOR EACH ROW EXECUTE FUNCTION {WRITES_LEGS}()")
        # The trigger runs as the role that inserts the transfer: the funds service's own (deploy/migrate.py),
        # which is given the new table's rights only once every schema is migrated. Until then, whoever may
        # insert a transfer may insert its legs, or a service of the version before could record no money at all.
        grant_to_writers_of("transfers", "SELECT, INSERT", "transfer_legs")
    if old:
        with op.get_context().autocommit_block():
            op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            _copy()
            op.execute("RESET lock_timeout")
    build_index("ix_accounts_id", "accounts", ["id"])
    if not _keyed("accounts"):  # else by a run that failed after it
        build_index("accounts_pkey_new", "accounts", ["region_code", "id"], unique=True)
        if old:  # they depend on the key on the id alone
            _alter("transfers", [f"DROP CONSTRAINT IF EXISTS {name}" for name in OLD_FOREIGN_KEYS])
        _alter("accounts", ["DROP CONSTRAINT accounts_pkey",
                            "ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_pkey_new"])
    if not county_keys.swapped("fk_transfer_legs_account"):
        _alter("transfer_legs", ["ADD CONSTRAINT fk_transfer_legs_account FOREIGN KEY (region_code, account_id) "
                                 "REFERENCES accounts (region_code, id) NOT VALID"])
    with op.get_context().autocommit_block():
        op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        op.execute("ALTER TABLE transfer_legs VALIDATE CONSTRAINT fk_transfer_legs_account")  # writers go on
        # last: until here a service of the version before records transfers (the trigger writes their legs)
        if old:
            _every_transfer_has_its_legs()
        op.execute("DROP TABLE IF EXISTS transfers")  # its trigger with it
        op.execute(f"DROP FUNCTION IF EXISTS {WRITES_LEGS}()")
        op.execute("RESET lock_timeout")
        op.execute("ANALYZE transfer_legs")
        op.execute("ANALYZE accounts")


def _create_legs() -> None:
    op.create_table(
        "transfer_legs",
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("transfer_id", sa.String(length=40), nullable=False),
        sa.Column("leg", sa.String(length=3), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("counter_account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fund_source", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("reverses_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("leg IN ('out', 'in')", name="ck_transfer_legs_leg"),
        sa.CheckConstraint("amount_fen > 0", name="ck_transfer_legs_positive"),
        sa.CheckConstraint("account_id <> counter_account_id", name="ck_transfer_legs_two_accounts"),
        sa.PrimaryKeyConstraint("region_code", "transfer_id", "leg", "created_at"),
    )
    op.create_index("ix_transfer_legs_account", "transfer_legs", ["account_id", "leg", "occurred_on"])
    op.create_index("ix_transfer_legs_record", "transfer_legs", ["record_id"])
    op.create_index("ix_transfer_legs_transfer", "transfer_legs", ["transfer_id"])
    op.create_index("ix_transfer_legs_reverses", "transfer_legs", ["reverses_id"],
                    postgresql_where=sa.text("reverses_id IS NOT NULL"))
    op.execute("CREATE TRIGGER transfer_legs_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON transfer_legs "
               "FOR EACH STATEMENT EXECUTE FUNCTION append_only()")


def _copy() -> None:
    """Step 2, in an autocommit block: the transfers, `BATCH` at a time in id order (their key's index): the bounds
    are read first, then each range is one statement (so one transaction)."""
    bounds = [row[0] for row in op.get_bind().execute(sa.text(
        f"SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM transfers) s "
        f"WHERE n % {county_keys.BATCH} = 0 ORDER BY id"
    ))]
    assert all(_VALUE.fullmatch(str(bound)) for bound in bounds), "the bounds are written into the statements below"
    for low, high in zip([None, *bounds], [*bounds, None], strict=True):
        within = " AND ".join([*([f"t.id > '{low}'"] if low is not None else []),
                               *([f"t.id <= '{high}'"] if high is not None else [])])
        op.execute(LEGS_OF.format(row="t", source="transfers t", where=f"WHERE {within}" if within else ""))


def _every_transfer_has_its_legs() -> None:
    """Before `transfers` goes: each of its rows has both its legs (a scan of both tables; a transfer inserted after
    it has its legs from the trigger, in its own transaction). The revision stops here, nothing dropped, otherwise."""
    missing = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM transfers t WHERE (SELECT count(*) FROM transfer_legs l "
        "WHERE l.transfer_id = t.id AND l.leg IN ('out', 'in')) <> 2"
    )).scalar_one()
    if missing:
        raise RuntimeError(f"funds_0023: {missing} transfers lack a leg: `transfers` is kept; run the revision again")


def _alter(table: str, actions: list[str]) -> None:
    """One ALTER TABLE of `table` alone, its own short transaction, waiting at most LOCK_TIMEOUT for its lock."""
    with op.get_context().autocommit_block():
        op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        op.execute(f"ALTER TABLE {table} {', '.join(actions)}")
        op.execute("RESET lock_timeout")


def _exists(table: str) -> bool:
    return op.get_bind().execute(sa.text("SELECT to_regclass(:table) IS NOT NULL"), {"table": table}).scalar_one()


def _keyed(table: str) -> bool:
    """The table's primary key starts with the region code already."""
    return op.get_bind().execute(sa.text(
        "SELECT a.attname = 'region_code' FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
        "WHERE i.indrelid = to_regclass(:table) AND i.indisprimary"
    ), {"table": table}).scalar_one()


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
