"""the subsidy report's indexes: a loan's repayments by day with their principal (index-only), and a county's loans
by the day of their latest repayment

The province's subsidy report (L6, GET /loans/reports/subsidy) read every loan and every repayment into the service
(1.5 GB, past the gateway's 30 s: issue #20). It is now one statement (services/loans/repository.py
`subsidy_by_county`) over the loans owing or repaid since the period's first day, each with its repayments since
then: `ix_repayments_loan_paid` now includes the principal so that read touches no table row, and
`ix_balances_county_paid` finds a county's (or a city's) loans repaid since a day.

Revision ID: loans_0012_subsidy_report
Revises: loans_0011_household_records
Create Date: 2026-12-06 04:20:00
"""

from collections.abc import Sequence

from alembic import op

from migrations.online import build_index, rebuild_index

revision: str = "loans_0012_subsidy_report"
down_revision: str | None = "loans_0011_household_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # each built CONCURRENTLY (migrations/online.py): repayments and balances are read and written meanwhile
    rebuild_index("ix_repayments_loan_paid", "loan_repayments", ["loan_id", "paid_on"],
                  postgresql_include=["principal_fen"])
    build_index("ix_balances_county_paid", "loan_balances", ["county_code", "last_paid_on"],
                postgresql_ops={"county_code": "text_pattern_ops"})
    op.execute("ANALYZE loan_repayments")


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
