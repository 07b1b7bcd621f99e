"""funds: the figures the input obligations are judged on (issue #17 point 4, rules F17–F18)

revenue_declarations (a region's declared revenue for a year; the latest declaration counts) and recoveries (its
recoveries of idle money and the part put to targeted poverty work): new rows only, keyed by region code first.

Written as autogenerate writes it against the models, with the append-only triggers the models' `append_only`
attaches.

Revision ID: funds_0013_input
Revises: funds_0012_plans
Create Date: 2026-12-05 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funds_0013_input"
down_revision: str | None = "funds_0012_plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "revenue_declarations",
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("revenue_fen", sa.BigInteger(), nullable=False),
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("recorded_by_org", sa.String(length=64), nullable=True),
        sa.CheckConstraint("revenue_fen >= 0", name="ck_revenue_declarations_not_negative"),
        sa.PrimaryKeyConstraint("region_code", "id"),
    )
    op.create_index("ix_revenue_declarations_year", "revenue_declarations", ["region_code", "fiscal_year"],
                    unique=False)
    op.create_table(
        "recoveries",
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("to_poverty_fen", sa.BigInteger(), nullable=False),
        sa.Column("recovered_on", sa.Date(), nullable=False),
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("recorded_by_org", sa.String(length=64), nullable=True),
        sa.CheckConstraint("amount_fen > 0", name="ck_recoveries_positive"),
        sa.CheckConstraint("to_poverty_fen >= 0 AND to_poverty_fen <= amount_fen", name="ck_recoveries_to_poverty"),
        sa.PrimaryKeyConstraint("region_code", "id"),
    )
    op.create_index("ix_recoveries_year", "recoveries", ["region_code", "fiscal_year"], unique=False)
    for table in ("revenue_declarations", "recoveries"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
        )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
