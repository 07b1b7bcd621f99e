"""registry: how far each import under way has read (issue #19: the roster import's progress bar)

`import_progress`: a row per importing principal and Idempotency-Key, written outside the import's transaction every
so many lines (services/registry/progress.py) and read by GET /registry/imports/{key}/progress on any worker. A
gauge, not a record: UNLOGGED (added by hand, autogenerate does not see a table's persistence), rows a day old
deleted by the next import that starts.
Written as autogenerate writes it against the models (checked by tests/platform/test_schema.py).

Revision ID: registry_0011_import_progress
Revises: registry_0010_cadre_exceptions
Create Date: 2026-12-05 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0011_import_progress"
down_revision: str | None = "registry_0010_cadre_exceptions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_progress",
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("bytes_read", sa.BigInteger(), nullable=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal_id", "idempotency_key"),
        prefixes=["UNLOGGED"],
    )
    op.create_index("ix_import_progress_updated_at", "import_progress", ["updated_at"], unique=False)


def downgrade() -> None:
    # a gauge, not a record: nothing recorded is lost with it
    op.drop_index("ix_import_progress_updated_at", table_name="import_progress")
    op.drop_table("import_progress")
