"""projects: a project's events keyed by its county code (issue #15, deploy/SCALING.md; step 1 of 3)

`project_events` gains the county code of its project, the key `(county_code, id)` and the foreign key
`(county_code, project_id) → projects (county_code, id)`, so that on Citus a project and its history are on one
shard, and the database refuses an event whose county is not its project's. What that key refers to is
`uq_projects_county_id`, a unique index on `projects (county_code, id)` (which replaces the plain `ix_projects_county`
on the same columns); projects_0011 makes it the projects' primary key once nothing refers to a project by id alone.

Written for a database in use (a million projects, a few events each), in the steps migrations/county_keys.py says:
the column added with a trigger filling it for a service of the version before, the rows before filled in batches,
NOT NULL through a validated CHECK, the unique indexes built CONCURRENTLY, the key swapped in one short transaction
(`PRIMARY KEY USING INDEX`, the foreign key NOT VALID), then the foreign key VALIDATEd.

Revision ID: projects_0009_county_keys_events
Revises: projects_0008_revisions
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

from alembic import op

from migrations import county_keys
from migrations.online import build_index, lock_tables, wait_briefly_for_locks

revision: str = "projects_0009_county_keys_events"
down_revision: str | None = "projects_0008_revisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    wait_briefly_for_locks()
    county_keys.add_and_fill({"project_events": ("id", county_keys.PROJECT)})
    build_index("uq_projects_county_id", "projects", ["county_code", "id"], unique=True)
    if not county_keys.swapped("fk_project_events_project"):  # (a run that failed after the swap finds it done)
        build_index("project_events_pkey_new", "project_events", ["county_code", "id"], unique=True)
        wait_briefly_for_locks()
        # the project first, as a service takes them (a project, then its event): no deadlock
        lock_tables("LOCK TABLE projects IN SHARE ROW EXCLUSIVE MODE",
                    "LOCK TABLE project_events IN ACCESS EXCLUSIVE MODE")
        op.execute("ALTER TABLE project_events DROP CONSTRAINT IF EXISTS project_events_project_id_fkey")
        op.execute("ALTER TABLE project_events DROP CONSTRAINT project_events_pkey")
        op.execute("ALTER TABLE project_events ADD CONSTRAINT project_events_pkey PRIMARY KEY "
                   "USING INDEX project_events_pkey_new")
        op.execute("ALTER TABLE project_events ADD CONSTRAINT fk_project_events_project "
                   "FOREIGN KEY (county_code, project_id) REFERENCES projects (county_code, id) NOT VALID")
    # the filling trigger stays until the series ends (projects_0011): a service of the version before records
    # events while 0010 and 0011 run
    county_keys.finish({"fk_project_events_project": "project_events"}, [])
    with op.get_context().autocommit_block():  # the same columns as uq_projects_county_id, not unique
        op.drop_index("ix_projects_county", table_name="projects", postgresql_concurrently=True, if_exists=True)


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
