"""funds: detector marks, and the indexes of INELIGIBLE_PAYEE's incremental run (issue #20)

`detector_marks` (kernel/models.DetectorMark, kernel/marks.py): per detector and scope, how far its last successful
run got (its as_of, the time up to which it read recorded facts, the registry's time up to which it asked what
changed). A bookmark replaced by each successful run, not a record.
`ix_disbursements_recorded`: BRIN on created_at (payments are appended as they are recorded: a few block ranges
hold a day's); `ix_disbursements_paid_on`: the payments paid after a mark's as_of.
Written as autogenerate writes them against the models (checked by tests/platform/test_schema.py).

Revision ID: funds_0020_detector_marks
Revises: funds_0019_accounts_region_id
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "funds_0020_detector_marks"
down_revision: str | None = "funds_0019_accounts_region_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "detector_marks",
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("region_prefix", sa.String(length=12), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("read_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("others", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("detector", "region_prefix"),
    )
    op.create_index("ix_disbursements_recorded", "disbursements", ["created_at"], unique=False,
                    postgresql_using="brin")
    op.create_index("ix_disbursements_paid_on", "disbursements", ["paid_on"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
