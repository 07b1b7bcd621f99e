"""funds: each record carries the organisation that recorded it and the one responsible for it (issue #16, O13)

appropriations, allocations, arrangements, disbursements and reversals get `recorded_by_org` (the recording
principal's organisation) and `responsible_org` (rule O13: the region's finance bureau, else the recorder); the
kernel's alerts table gets `responsible_org`, the organisation an alert names as answering for its subject.
Null for the rows recorded, and the alerts raised, before it.

Every column is nullable, without a default and without a backfill: rows recorded before organisations were have
none (their recorder's organisation was not kept), and adding such a column only changes the catalogue, so a table
of millions of rows (disbursements, transfers' records) is not rewritten or scanned. Written as autogenerate writes
an added column against the models (checked by tests/platform/test_schema.py).

Revision ID: funds_0008_organisations
Revises: funds_0007_account_last_out
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funds_0008_organisations"
down_revision: str | None = "funds_0007_account_last_out"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("responsible_org", sa.String(length=64), nullable=True))
    op.add_column("appropriations", sa.Column("recorded_by_org", sa.String(length=64), nullable=True))
    op.add_column("appropriations", sa.Column("responsible_org", sa.String(length=64), nullable=True))
    op.add_column("allocations", sa.Column("recorded_by_org", sa.String(length=64), nullable=True))
    op.add_column("allocations", sa.Column("responsible_org", sa.String(length=64), nullable=True))
    op.add_column("arrangements", sa.Column("recorded_by_org", sa.String(length=64), nullable=True))
    op.add_column("arrangements", sa.Column("responsible_org", sa.String(length=64), nullable=True))
    op.add_column("disbursements", sa.Column("recorded_by_org", sa.String(length=64), nullable=True))
    op.add_column("disbursements", sa.Column("responsible_org", sa.String(length=64), nullable=True))
    op.add_column("reversals", sa.Column("recorded_by_org", sa.String(length=64), nullable=True))
    op.add_column("reversals", sa.Column("responsible_org", sa.String(length=64), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
