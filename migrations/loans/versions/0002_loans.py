"""loans: loans, repayments, extensions and usage reports (L1–L6), append-only

Revision ID: loans_0002
Revises: loans_0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "loans_0002"
down_revision: str | None = "loans_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recorded() -> list[sa.Column[object]]:
    return [
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def upgrade() -> None:
    op.create_table(
        "loans",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("household_id", sa.String(64), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("village_code", sa.String(12), nullable=False),
        sa.Column("borrower_id_number", sa.String(18), nullable=False),
        sa.Column("borrower_name", sa.String(200), nullable=False),
        sa.Column("lender_name", sa.String(200), nullable=False),
        sa.Column("product_name", sa.String(200), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("term_months", sa.Integer, nullable=False),
        sa.Column("annual_rate_bp", sa.Integer, nullable=False),
        sa.Column("benchmark_rate_bp", sa.Integer, nullable=False),
        sa.Column("fees_fen", sa.BigInteger, nullable=False),
        sa.Column("collateral_required", sa.Boolean, nullable=False),
        sa.Column("guarantee_required", sa.Boolean, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("cooperative_uscc", sa.String(18), nullable=True),
        sa.Column("account_holder_id_number", sa.String(18), nullable=True),
        sa.Column("account_holder_uscc", sa.String(18), nullable=True),
        sa.Column("account_no", sa.String(64), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("maturity_on", sa.Date, nullable=False),
        *_recorded(),
        sa.CheckConstraint("amount_fen > 0", name="ck_loans_amount_positive"),
        sa.CheckConstraint("mode IN ('self', 'partnership', 'cooperative')", name="ck_loans_mode"),
        sa.CheckConstraint("maturity_on > issued_on", name="ck_loans_maturity_after_issue"),
    )
    op.create_index("ix_loans_household", "loans", ["household_id"])
    op.create_index("ix_loans_county_id", "loans", ["county_code", "id"],
                    postgresql_ops={"county_code": "text_pattern_ops"})
    op.create_table(
        "loan_repayments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("loan_id", sa.String(40), sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("principal_fen", sa.BigInteger, nullable=False),
        sa.Column("interest_fen", sa.BigInteger, nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        *_recorded(),
        sa.CheckConstraint("principal_fen >= 0 AND interest_fen >= 0", name="ck_repayments_not_negative"),
    )
    op.create_index("ix_repayments_loan_paid", "loan_repayments", ["loan_id", "paid_on"])
    op.create_table(
        "loan_extensions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("loan_id", sa.String(40), sa.ForeignKey("loans.id"), nullable=False, unique=True),
        sa.Column("original_maturity_on", sa.Date, nullable=False),
        sa.Column("new_maturity_on", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        *_recorded(),
        sa.CheckConstraint("new_maturity_on > original_maturity_on", name="ck_extensions_later"),
    )
    op.create_table(
        "loan_usage_reports",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("loan_id", sa.String(40), sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("recipient_kind", sa.String(16), nullable=False),
        sa.Column("recipient_id", sa.String(64), nullable=False),
        sa.Column("recipient_name", sa.String(200), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("reported_on", sa.Date, nullable=False),
        sa.Column("breaks_enterprise_rule", sa.Boolean, nullable=False),
        sa.Column("breaks_purpose_rule", sa.Boolean, nullable=False),
        *_recorded(),
        sa.CheckConstraint("recipient_kind IN ('household', 'cooperative', 'enterprise')", name="ck_usage_kind"),
    )
    op.create_index("ix_usage_loan", "loan_usage_reports", ["loan_id", "reported_on"])
    op.create_index("ix_usage_recipient", "loan_usage_reports", ["recipient_id", "reported_on"])


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
