"""oversight: complaints (监督举报) from the public (issue #16 point 5, rule O12)

Written as autogenerate writes it against the models (the table, its index), with the append-only trigger the
models' `append_only` attaches: a complaint is kept as made.

Revision ID: oversight_0002_complaints
Revises: oversight_0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "oversight_0002_complaints"
down_revision: str | None = "oversight_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=200), server_default="", nullable=False),
        sa.Column("subject_ref", sa.String(length=100), server_default="", nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_complaints_region", "complaints", ["region_code", "id"], unique=False,
        postgresql_ops={"region_code": "text_pattern_ops"},
    )
    op.execute(
        "CREATE TRIGGER complaints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON complaints "
        "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER complaints_append_only ON complaints")
    op.drop_index("ix_complaints_region", table_name="complaints")
    op.drop_table("complaints")
