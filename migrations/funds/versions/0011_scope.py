"""funds: the integration scope by year (F7 extended, issue #17 point 10)

`fund_source_scopes`: whether a source is inside the integration scope in one year, where that year's scope differs
from the source's own flag. Reference data (national, a row per source and year that differs), read with the
sources on every allocation's path. Written as autogenerate writes it against the models (checked by
tests/platform/test_schema.py).

Revision ID: funds_0011_scope
Revises: funds_0010_dividends
Create Date: 2026-12-05 00:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funds_0011_scope"
down_revision: str | None = "funds_0010_dividends"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fund_source_scopes",
        sa.Column("fund_source", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("integrable", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["fund_source"], ["fund_sources.code"]),
        sa.PrimaryKeyConstraint("fund_source", "year"),
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
