"""loans: subsidy rates by county and period, and the banks' subsidy claims with their loans and decisions (issue #18 point 3)

subsidy_rates (L11): a county's fiscal interest subsidy (财政贴息) rate for a period, whom it is paid to (the bank or
the households) and from which fund: reference data, declared, never edited. subsidy_claims (L12): a bank's claim
for a county and period; subsidy_claim_lines: each loan of it with its figures (L6) and the days excluded;
subsidy_claim_decisions (L13): finance's one decision on a claim and the payment the funds ledger recorded. All
keyed by the county code (they grow with the province's loans), all append-only.

Written as autogenerate writes it against the models, with the append-only triggers the models' `append_only`
attaches. New tables only: nothing existing is rewritten.

Revision ID: loans_0008_subsidy_claims
Revises: loans_0007_organisations
Create Date: 2026-12-05 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "loans_0008_subsidy_claims"
down_revision: str | None = "loans_0007_organisations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("subsidy_rates", "subsidy_claims", "subsidy_claim_lines", "subsidy_claim_decisions")


def _created_at() -> sa.Column[object]:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "subsidy_rates",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("paid_to", sa.String(length=16), nullable=False),
        sa.Column("fund_source", sa.String(length=16), nullable=False),
        sa.Column("declared_by", sa.String(length=64), nullable=False),
        _created_at(),
        sa.CheckConstraint("period_to > period_from", name="ck_subsidy_rates_period"),
        sa.CheckConstraint("paid_to IN ('bank', 'household')", name="ck_subsidy_rates_paid_to"),
        sa.PrimaryKeyConstraint("county_code", "id"),
    )
    op.create_index("ix_subsidy_rates_county", "subsidy_rates", ["county_code", "period_from"], unique=False)
    op.create_table(
        "subsidy_claims",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("lender_name", sa.String(length=200), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("paid_to", sa.String(length=16), nullable=False),
        sa.Column("fund_source", sa.String(length=16), nullable=False),
        sa.Column("bank_account_no", sa.String(length=64), nullable=False),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("subsidy_fen", sa.BigInteger(), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_by_org", sa.String(length=64), nullable=True),
        _created_at(),
        sa.CheckConstraint("period_to > period_from", name="ck_subsidy_claims_period"),
        sa.PrimaryKeyConstraint("county_code", "id"),
    )
    op.create_table(
        "subsidy_claim_lines",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("claim_id", sa.String(length=40), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("borrower_name", sa.String(length=200), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("subsidised_days", sa.Integer(), nullable=False),
        sa.Column("overdue_days", sa.Integer(), nullable=False),
        sa.Column("misuse_days", sa.Integer(), nullable=False),
        sa.Column("excluded", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("principal_fen_days", sa.BigInteger(), nullable=False),
        sa.Column("subsidy_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["county_code", "claim_id"], ["subsidy_claims.county_code", "subsidy_claims.id"],
                                name="fk_subsidy_claim_lines_claim"),
        sa.PrimaryKeyConstraint("county_code", "claim_id", "loan_id"),
    )
    op.create_index("ix_subsidy_claim_lines_loan", "subsidy_claim_lines", ["loan_id", "period_from"], unique=False)
    op.create_table(
        "subsidy_claim_decisions",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("claim_id", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_by_org", sa.String(length=64), nullable=True),
        _created_at(),
        sa.CheckConstraint("decision IN ('checked', 'approved', 'rejected')", name="ck_subsidy_claim_decisions_decision"),
        sa.ForeignKeyConstraint(["county_code", "claim_id"], ["subsidy_claims.county_code", "subsidy_claims.id"],
                                name="fk_subsidy_claim_decisions_claim"),
        sa.PrimaryKeyConstraint("county_code", "claim_id", "decision"),
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
        )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
