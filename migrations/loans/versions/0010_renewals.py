"""loans: renewals (续贷) linked to the loan they repay, and the day an extension was agreed (issue #18 point 4, L14)

`loan_renewals` links a new loan to the old one it renewed, once per old loan (uq_renewals_old_loan); distributed by
county like the loans (deploy/SCALING.md). `loan_extensions.extended_on` is nullable without a default: extensions
recorded before it have no date of their own (their `created_at` is when they were recorded), and adding such a
column only changes the catalogue. Written as autogenerate writes it against the models, with the append-only
trigger the models' `append_only` attaches.

Revision ID: loans_0010_renewals
Revises: loans_0009_risk_funds
Create Date: 2026-12-05 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "loans_0010_renewals"
down_revision: str | None = "loans_0009_risk_funds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("loan_extensions", sa.Column("extended_on", sa.Date(), nullable=True))
    op.create_table(
        "loan_renewals",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("old_loan_id", sa.String(length=40), nullable=False),
        sa.Column("new_loan_id", sa.String(length=40), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("renewed_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("county_code", "id"),
        sa.UniqueConstraint("county_code", "new_loan_id", name="uq_renewals_new_loan"),
        sa.UniqueConstraint("county_code", "old_loan_id", name="uq_renewals_old_loan"),
    )
    op.execute(
        "CREATE TRIGGER loan_renewals_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON loan_renewals "
        "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
