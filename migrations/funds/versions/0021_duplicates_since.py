"""funds: what DUPLICATE_PAYMENT's incremental run reads by (issue #20, docs/rules.md F8 incremental)

`reversals.xid`: the transaction that recorded a reversal (kernel/schema.recorded_xid_column), added without a default
and then given it, as funds_0020 added disbursements' (those recorded before keep null: they were committed before
any DUPLICATE_PAYMENT mark, which only code reading this column writes); `ix_reversals_xid` (partial: the rows that
have one) and `ix_reversals_reversed_on` (the reversals dated after a mark's as_of): a reversal takes a payment out of
the live ones and so touches its group. `ix_disbursements_repeats` (payee, project, amount, day): the payments of a
touched group, read by group in the order the detector pairs them (the name an older comment gave an index that was
never built). The indexes built CONCURRENTLY (migrations/online.py).
Written as autogenerate writes them against the models (checked by tests/platform/test_schema.py).

Revision ID: funds_0021_duplicates_since
Revises: funds_0020_detector_marks
Create Date: 2026-12-06 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.online import build_index, wait_briefly_for_locks
from services.kernel.schema import XID8

revision: str = "funds_0021_duplicates_since"
down_revision: str | None = "funds_0020_detector_marks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    wait_briefly_for_locks()  # the column and its default: a brief exclusive lock each, not a rewrite
    # IF NOT EXISTS: a run whose index build failed has committed the column (build_index commits first), and is run
    # again from the start
    op.add_column("reversals", sa.Column("xid", XID8(), nullable=True), if_not_exists=True)
    op.alter_column("reversals", "xid", server_default=sa.text("pg_current_xact_id()"))
    # after the commit, CONCURRENTLY: payments and reversals are recorded and read meanwhile (migrations/online.py)
    build_index("ix_reversals_xid", "reversals", ["xid"], postgresql_where=sa.text("xid IS NOT NULL"))
    build_index("ix_reversals_reversed_on", "reversals", ["reversed_on"])
    build_index("ix_disbursements_repeats", "disbursements", ["payee_id", "project_id", "amount_fen", "paid_on"])


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
