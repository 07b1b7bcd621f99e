"""loans: risk-compensation funds, compensation claims, their decisions and recoveries (issue #18 points 1 and 2)

risk_funds: a county's risk-compensation fund (风险补偿金) with a partner bank (L7: deposit × leverage caps the bank's
outstanding poverty loans in the county); compensation_claims: a bank's claim on it for a loan overdue beyond the
fund's threshold (L8); compensation_decisions: finance's one decision on a claim, an approval paying the fund's
share through the funds ledger (L9); compensation_recoveries: principal recovered afterwards, the fund's share
returned (L9). All append-only, keyed by the county code (distributed with the loans, deploy/SCALING.md).

New tables only: no existing row is read or rewritten. Written as autogenerate writes them against the models, with
the append-only triggers.

Revision ID: loans_0009_risk_funds
Revises: loans_0008_subsidy_claims
Create Date: 2026-12-05 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "loans_0009_risk_funds"
down_revision: str | None = "loans_0008_subsidy_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")


def _append_only(table: str) -> None:
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
    )


def upgrade() -> None:
    op.create_table(
        "risk_funds",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("bank_name", sa.String(length=200), nullable=False),
        sa.Column("fund_source", sa.String(length=16), nullable=False),
        sa.Column("deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("leverage", sa.Integer(), nullable=False),
        sa.Column("fund_share_bp", sa.Integer(), nullable=False),
        sa.Column("claim_after_days", sa.Integer(), nullable=False),
        sa.Column("depleted_share_bp", sa.Integer(), nullable=False),
        sa.Column("agreement_no", sa.String(length=200), nullable=False),
        sa.Column("established_on", sa.Date(), nullable=False),
        sa.Column("deposit_transfer_ids", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_by_org", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.CheckConstraint("claim_after_days >= 1", name="ck_risk_funds_claim_after"),
        sa.CheckConstraint("deposit_fen > 0", name="ck_risk_funds_deposit"),
        sa.CheckConstraint("depleted_share_bp BETWEEN 1 AND 10000", name="ck_risk_funds_depleted"),
        sa.CheckConstraint("fund_share_bp BETWEEN 1 AND 10000", name="ck_risk_funds_share"),
        sa.CheckConstraint("leverage BETWEEN 1 AND 20", name="ck_risk_funds_leverage"),
        sa.PrimaryKeyConstraint("county_code", "id"),
        sa.UniqueConstraint("county_code", "bank_name", name="uq_risk_funds_bank"),
    )
    op.create_table(
        "compensation_claims",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("fund_id", sa.String(length=40), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("principal_lost_fen", sa.BigInteger(), nullable=False),
        sa.Column("outstanding_fen", sa.BigInteger(), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("claimed_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_by_org", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.CheckConstraint("principal_lost_fen > 0", name="ck_claims_positive"),
        sa.ForeignKeyConstraint(["county_code", "fund_id"], ["risk_funds.county_code", "risk_funds.id"],
                                name="fk_claims_fund"),
        sa.PrimaryKeyConstraint("county_code", "id"),
    )
    op.create_index("ix_claims_fund", "compensation_claims", ["county_code", "fund_id"], unique=False)
    op.create_index("ix_claims_loan", "compensation_claims", ["county_code", "loan_id"], unique=False)
    op.create_table(
        "compensation_decisions",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("claim_id", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("transfer_ids", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_by_org", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.CheckConstraint("decision IN ('approved', 'rejected')", name="ck_decisions_decision"),
        sa.CheckConstraint("paid_fen >= 0", name="ck_decisions_paid"),
        sa.ForeignKeyConstraint(["county_code", "claim_id"],
                                ["compensation_claims.county_code", "compensation_claims.id"],
                                name="fk_decisions_claim"),
        sa.PrimaryKeyConstraint("county_code", "claim_id"),
    )
    op.create_table(
        "compensation_recoveries",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("claim_id", sa.String(length=40), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("returned_fen", sa.BigInteger(), nullable=False),
        sa.Column("recovered_on", sa.Date(), nullable=False),
        sa.Column("transfer_ids", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.CheckConstraint("amount_fen > 0 AND returned_fen >= 0", name="ck_recoveries_amounts"),
        sa.ForeignKeyConstraint(["county_code", "claim_id"],
                                ["compensation_claims.county_code", "compensation_claims.id"],
                                name="fk_recoveries_claim"),
        sa.PrimaryKeyConstraint("county_code", "id"),
    )
    op.create_index("ix_recoveries_claim", "compensation_recoveries", ["county_code", "claim_id"], unique=False)
    for table in ("risk_funds", "compensation_claims", "compensation_decisions", "compensation_recoveries"):
        _append_only(table)


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
