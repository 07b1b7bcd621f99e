"""projects: the revisions of a draft (P14, issue #19 point 3)

A project is edited while it is a draft; each edit keeps the version before it: project_revisions holds, per project
and revision number (1, 2, …), the editable fields as they were (JSONB), who edited and when. Keyed by county first
(tests/platform/test_scaling.py), append-only like the other records.

Written as autogenerate writes it against the models, with the append-only trigger the models attach.

Revision ID: projects_0008_revisions
Revises: projects_0007_backdated
Create Date: 2026-12-05 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "projects_0008_revisions"
down_revision: str | None = "projects_0007_backdated"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGER = (
    "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
)


def upgrade() -> None:
    op.create_table(
        "project_revisions",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("previous", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("revision > 0", name="ck_project_revisions_revision"),
        sa.PrimaryKeyConstraint("county_code", "project_id", "revision"),
    )
    op.execute(_TRIGGER.format(table="project_revisions"))


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
