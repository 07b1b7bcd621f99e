"""projects: announcements, objections and their resolutions keyed by county code (issue #15; step 2 of 3)

`announcements`, `objections` and `objection_resolutions` gain the county code of their project (a resolution's
through its objection), the keys `(county_code, project_id)`, `(county_code, id)` and `(county_code, objection_id)`,
and the foreign keys `(county_code, project_id) → projects (county_code, id)` (`uq_projects_county_id`, projects_0009)
and `(county_code, objection_id) → objections (county_code, id)`. An announcement's `seq`, the order of the public
page of announcements across counties (GET /public/announcements' cursor), stays drawn from its one sequence, so
distinct by construction; the database keeps it unique per county, `uq_announcements_seq (county_code, seq)`
(a distributed table keeps no unique index without its county), and `ix_announcements_seq` (plain) serves the page.

Written for a database in use, in the steps migrations/county_keys.py says (the column added with a trigger
filling it, the rows before filled in batches, NOT NULL through a validated CHECK, the unique indexes built
CONCURRENTLY, the keys swapped in one short transaction, the foreign keys NOT VALID then VALIDATEd).

Revision ID: projects_0010_keys_objections
Revises: projects_0009_county_keys_events
Create Date: 2026-12-06 08:15:00
"""

from collections.abc import Sequence

from alembic import op

from migrations import county_keys
from migrations.online import build_index, lock_tables, wait_briefly_for_locks

revision: str = "projects_0010_keys_objections"
down_revision: str | None = "projects_0009_county_keys_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {  # table: (the first column of its key before, how a row finds its county), parents first
    "announcements": ("project_id", county_keys.PROJECT),
    "objections": ("id", county_keys.PROJECT),
    "objection_resolutions": ("objection_id", county_keys.OBJECTION),
}
KEYS = {"announcements": "project_id", "objections": "id", "objection_resolutions": "objection_id"}
FOREIGN_KEYS = {  # name: (table, column, parent)
    "fk_announcements_project": ("announcements", "project_id", "projects"),
    "fk_objections_project": ("objections", "project_id", "projects"),
    "fk_objection_resolutions_objection": ("objection_resolutions", "objection_id", "objections"),
}


def upgrade() -> None:
    wait_briefly_for_locks()
    county_keys.add_and_fill(TABLES)
    build_index("ix_announcements_seq", "announcements", ["seq"])  # the public page's order, before its key goes
    if not county_keys.swapped("fk_objections_project"):  # (a run that failed after the swap finds it done)
        for table, key in KEYS.items():
            build_index(f"{table}_pkey_new", table, ["county_code", key], unique=True)
        build_index("uq_announcements_seq_new", "announcements", ["county_code", "seq"], unique=True)
        wait_briefly_for_locks()
        # the project first, as a service takes them (a project, then what is recorded of it): no deadlock
        lock_tables("LOCK TABLE projects IN SHARE ROW EXCLUSIVE MODE",
                    f"LOCK TABLE {', '.join(KEYS)} IN ACCESS EXCLUSIVE MODE")
        for table, column, _parent in FOREIGN_KEYS.values():
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_fkey")
        op.execute("ALTER TABLE announcements DROP CONSTRAINT IF EXISTS announcements_seq_key")
        for table in KEYS:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY USING INDEX {table}_pkey_new")
        op.execute("ALTER TABLE announcements ADD CONSTRAINT uq_announcements_seq UNIQUE "
                   "USING INDEX uq_announcements_seq_new")
        for name, (table, column, parent) in FOREIGN_KEYS.items():
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (county_code, {column}) "
                       f"REFERENCES {parent} (county_code, id) NOT VALID")
    # the filling triggers stay until the series ends (projects_0011), as 0009's
    county_keys.finish({name: table for name, (table, _c, _p) in FOREIGN_KEYS.items()}, [])


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
