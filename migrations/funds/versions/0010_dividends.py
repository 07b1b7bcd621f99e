"""funds: dividends of assets paid through the ledger (issue #17 point 3, rule P12)

dividend_payments: one row per household of a dividend the projects service asks funds to pay (资产收益, P6): the
money moves from the asset's income account into the household's registered 一卡通 account (F6) in the same
transaction. Keyed by (county_code, dividend_id, household_id): a dividend asked twice is paid once. Append-only.

Written as autogenerate writes it against the models, with the append-only trigger the models attach.

Revision ID: funds_0010_dividends
Revises: funds_0009_basis
Create Date: 2026-12-05 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funds_0010_dividends"
down_revision: str | None = "funds_0009_basis"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dividend_payments",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("dividend_id", sa.String(length=40), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("asset_id", sa.String(length=40), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("account_no", sa.String(length=64), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name="ck_dividend_payments_amount"),
        sa.PrimaryKeyConstraint("county_code", "dividend_id", "household_id"),
    )
    op.execute(
        "CREATE TRIGGER dividend_payments_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON dividend_payments "
        "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
