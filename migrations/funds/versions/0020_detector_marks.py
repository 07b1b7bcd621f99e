"""funds: detector marks, and what INELIGIBLE_PAYEE's incremental run reads by (issue #20)

`detector_marks` (kernel/models.DetectorMark, kernel/marks.py): per detector and scope, how far its last successful
run got (its as_of, the oldest transaction its reading could not see, the registry's such transaction). A bookmark
replaced by each successful run, not a record.
`disbursements.xid`: the transaction that recorded a payment (kernel/schema.recorded_xid_column), added without a
default and then given it, so the table of millions of payments is not rewritten (those recorded before keep null:
they were committed before any mark); `ix_disbursements_xid` (partial: the rows that have one) and
`ix_disbursements_paid_on` (the payments paid after a mark's as_of).
Written as autogenerate writes them against the models (checked by tests/platform/test_schema.py).

Revision ID: funds_0020_detector_marks
Revises: funds_0019_accounts_region_id
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.online import build_index, wait_briefly_for_locks
from services.kernel.schema import XID8

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
        sa.Column("read_from", sa.BigInteger(), nullable=False),
        sa.Column("others", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("detector", "region_prefix"),
        if_not_exists=True,  # as the column below: run again after a failed index build (build_index commits first)
    )
    wait_briefly_for_locks()  # the column and its default: a brief exclusive lock each, not a rewrite
    op.add_column("disbursements", sa.Column("xid", XID8(), nullable=True), if_not_exists=True)
    op.alter_column("disbursements", "xid", server_default=sa.text("pg_current_xact_id()"))
    # after the commit, CONCURRENTLY: payments are recorded and read meanwhile (migrations/online.py)
    build_index("ix_disbursements_xid", "disbursements", ["xid"], postgresql_where=sa.text("xid IS NOT NULL"))
    build_index("ix_disbursements_paid_on", "disbursements", ["paid_on"])


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
