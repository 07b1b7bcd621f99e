"""loans: each loan carries the organisation that recorded it and the lending branch; alerts name it (issue #16)

loans get `recorded_by_org` (the recording principal's organisation) and `responsible_org` (rule O13: the lending
branch, the lender principal's organisation); the kernel's alerts table gets `responsible_org`, the organisation
an alert names as answering for its subject. Null on the loans recorded, and the alerts raised, before it.

Every column is nullable, without a default and without a backfill: rows recorded before organisations were have
none (their recorder's organisation was not kept), and adding such a column only changes the catalogue, so a table
of millions of rows (the loans) is not rewritten or scanned. Written as autogenerate writes
an added column against the models (checked by tests/platform/test_schema.py).

Revision ID: loans_0007_organisations
Revises: loans_0006_loan_balances
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "loans_0007_organisations"
down_revision: str | None = "loans_0006_loan_balances"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("responsible_org", sa.String(length=64), nullable=True))
    op.add_column("loans", sa.Column("recorded_by_org", sa.String(length=64), nullable=True))
    op.add_column("loans", sa.Column("responsible_org", sa.String(length=64), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
