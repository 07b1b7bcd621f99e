"""projects: assets, shares, dividends and payouts keyed by county code, and the projects by (county_code, id)
(issue #15, deploy/SCALING.md; step 3 of 3)

`assets`, `asset_shares`, `dividends` and `dividend_payouts` gain the county code of their project (a share and a
dividend through their asset, a payout through its dividend), the keys `(county_code, id)`,
`(county_code, asset_id, household_id)`, `(county_code, id)` and `(county_code, dividend_id, household_id)`, and the
foreign keys `(county_code, project_id) → projects`, `(county_code, asset_id) → assets` (twice) and
`(county_code, dividend_id) → dividends`, each to `(county_code, id)`. With them no table refers to a project by id
alone, so `projects` is keyed `(county_code, id)`: its primary key is made of `uq_projects_county_id` (projects_0009,
which the other children's foreign keys already refer to). A project's id stays unique by how it is made
(services/kernel/ids.py `new_id`: the millisecond and 80 random bits), no longer by an index; `ix_projects_id`
(plain) finds a project by id alone.

Written for a database in use (tens of millions of payouts at a province's scale), in the steps
migrations/county_keys.py says (the column added with a trigger filling it, the rows before filled in batches, NOT
NULL through a validated CHECK, the unique indexes built CONCURRENTLY, the keys swapped in one short transaction,
the foreign keys NOT VALID then VALIDATEd).

Revision ID: projects_0011_keys_assets
Revises: projects_0010_keys_objections
Create Date: 2026-12-06 08:30:00
"""

from collections.abc import Sequence

from alembic import op

from migrations import county_keys
from migrations.online import build_index, lock_tables, wait_briefly_for_locks

revision: str = "projects_0011_keys_assets"
down_revision: str | None = "projects_0010_keys_objections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {  # table: (the first column of its key before, how a row finds its county), parents first
    "assets": ("id", county_keys.PROJECT),
    "asset_shares": ("asset_id", county_keys.ASSET),
    "dividends": ("id", county_keys.ASSET),
    "dividend_payouts": ("dividend_id", county_keys.DIVIDEND),
}
KEYS = {  # the new primary key after county_code
    "assets": ["id"], "asset_shares": ["asset_id", "household_id"], "dividends": ["id"],
    "dividend_payouts": ["dividend_id", "household_id"],
}
FOREIGN_KEYS = {  # name: (table, column, parent)
    "fk_assets_project": ("assets", "project_id", "projects"),
    "fk_asset_shares_asset": ("asset_shares", "asset_id", "assets"),
    "fk_dividends_asset": ("dividends", "asset_id", "assets"),
    "fk_dividend_payouts_dividend": ("dividend_payouts", "dividend_id", "dividends"),
}


def upgrade() -> None:
    wait_briefly_for_locks()
    county_keys.add_and_fill(TABLES)
    build_index("ix_projects_id", "projects", ["id"])  # lookups by id alone, before the key on id goes
    if not county_keys.swapped("fk_assets_project"):  # (a run that failed after the swap finds it done)
        for table, key in KEYS.items():
            build_index(f"{table}_pkey_new", table, ["county_code", *key], unique=True)
        wait_briefly_for_locks()
        # the project first, as a service takes them (a project, then its asset, then what hangs on it)
        lock_tables(f"LOCK TABLE projects, {', '.join(KEYS)} IN ACCESS EXCLUSIVE MODE")
        for table, column, _parent in FOREIGN_KEYS.values():
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_fkey")
        for table in reversed(KEYS):  # a payout's dividend's key before the dividend's, and so on
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
        op.execute("ALTER TABLE projects DROP CONSTRAINT projects_pkey")
        op.execute("ALTER TABLE projects ADD CONSTRAINT projects_pkey PRIMARY KEY USING INDEX uq_projects_county_id")
        for table in KEYS:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY USING INDEX {table}_pkey_new")
        for name, (table, column, parent) in FOREIGN_KEYS.items():
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (county_code, {column}) "
                       f"REFERENCES {parent} (county_code, id) NOT VALID")
    # the series' last revision: every filling trigger of 0009-0011 dropped, the last statements of the migration (a
    # service of the version before records until here, then waits for the new version, which writes the county)
    county_keys.finish({name: table for name, (table, _c, _p) in FOREIGN_KEYS.items()},
                       [*county_keys.SERIES_BEFORE_0011, *TABLES])


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
