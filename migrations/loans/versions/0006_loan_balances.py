"""loans: loan_balances, each loan's principal repaid and maturity in force, derived from the facts (issue #20)

The overdue report and the detectors summed every repayment of every loan under the region (3 million at a
province's size, ~5 s). The table is kept by the service in the same transaction as the facts; here it is filled
from the facts recorded so far (one pass over the repayments: seconds at a province's size).

Revision ID: loans_0006_loan_balances
Revises: loans_0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "loans_0006_loan_balances"
down_revision: str | None = "loans_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loan_balances",
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("maturity_in_force", sa.Date(), nullable=False),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("repaid_fen", sa.BigInteger(), nullable=False),
        sa.Column("last_paid_on", sa.Date(), nullable=True),
        sa.CheckConstraint("repaid_fen >= 0 AND repaid_fen <= amount_fen", name="ck_balances_repaid"),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("loan_id"),
    )
    op.execute(
        """
        INSERT INTO loan_balances (loan_id, county_code, household_id, amount_fen, issued_on, maturity_in_force,
                                   extended, repaid_fen, last_paid_on)
        SELECT l.id, l.county_code, l.household_id, l.amount_fen, l.issued_on,
               coalesce(e.new_maturity_on, l.maturity_on), e.loan_id IS NOT NULL, coalesce(r.repaid, 0), r.last_paid_on
        FROM loans l
        LEFT JOIN loan_extensions e ON e.loan_id = l.id
        LEFT JOIN (SELECT loan_id, sum(principal_fen) AS repaid, max(paid_on) AS last_paid_on
                   FROM loan_repayments GROUP BY loan_id) r ON r.loan_id = l.id
        """
    )
    op.create_index("ix_balances_owing", "loan_balances", ["maturity_in_force", "county_code"], unique=False,
                    postgresql_where=sa.text("repaid_fen < amount_fen"),
                    postgresql_ops={"county_code": "text_pattern_ops"})
    op.create_index("ix_balances_last_paid", "loan_balances", ["last_paid_on"], unique=False)
    op.execute("ANALYZE loan_balances")


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
