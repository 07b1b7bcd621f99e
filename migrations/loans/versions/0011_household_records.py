"""loans: the 一自两合 records, the provinces' product names and credit lines (issue #18 points 5–7, L15–L19)

`loan_agreements` (a cooperative-mode loan's entrustment agreement), `loan_partners` (a partnership-mode loan's
partner households), `loan_household_returns` (what a cooperative paid the household) and `loan_credit_lines` (授信)
are distributed by county (deploy/SCALING.md); `loan_product_names` is reference data (a few names a province).
All are append-only. Written as autogenerate writes them against the models, with the append-only triggers.

Revision ID: loans_0011_household_records
Revises: loans_0010_renewals
Create Date: 2026-12-05 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "loans_0011_household_records"
down_revision: str | None = "loans_0010_renewals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("loan_agreements", "loan_partners", "loan_household_returns", "loan_product_names", "loan_credit_lines")


def _created() -> list[sa.Column[object]]:
    return [
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "loan_agreements",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("cooperative_uscc", sa.String(length=18), nullable=False),
        sa.Column("return_terms", sa.Text(), nullable=False),
        sa.Column("annual_return_fen", sa.BigInteger(), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        *_created(),
        sa.CheckConstraint("annual_return_fen >= 0", name="ck_agreements_return"),
        sa.PrimaryKeyConstraint("county_code", "loan_id"),
    )
    op.create_table(
        "loan_partners",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("partner_household_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("county_code", "loan_id", "partner_household_id"),
    )
    op.create_table(
        "loan_household_returns",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("cooperative_uscc", sa.String(length=18), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        *_created(),
        sa.CheckConstraint("amount_fen > 0", name="ck_household_returns_amount"),
        sa.PrimaryKeyConstraint("county_code", "id"),
    )
    op.create_index("ix_household_returns_loan", "loan_household_returns", ["county_code", "loan_id", "paid_on"],
                    unique=False)
    op.create_table(
        "loan_product_names",
        sa.Column("province_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        *_created(),
        sa.PrimaryKeyConstraint("province_code", "name"),
    )
    op.create_table(
        "loan_credit_lines",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("lender_name", sa.String(length=200), nullable=False),
        sa.Column("limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=False),
        *_created(),
        sa.CheckConstraint("limit_fen >= 0", name="ck_credit_lines_limit"),
        sa.PrimaryKeyConstraint("county_code", "id"),
    )
    op.create_index("ix_credit_lines_household", "loan_credit_lines", ["county_code", "household_id", "evaluated_on"],
                    unique=False)
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
        )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
