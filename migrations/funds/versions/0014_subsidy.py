"""funds: the subsidy payments of the loans service's approved subsidy claims (issue #18 point 3)

subsidy_payments: one per approved claim (unique by county and claim), the county's fiscal interest subsidy
(财政贴息) paid from its account of the declared fund to the bank or to the households; its transfers are in the
ledger (`kind` = 'subsidy', `record_id` = the payment). Keyed by the county code, append-only. A new table only.

Written as autogenerate writes it against the models, with the append-only trigger the models' `append_only`
attaches.

Revision ID: funds_0014_subsidy
Revises: funds_0013_input
Create Date: 2026-12-05 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funds_0014_subsidy"
down_revision: str | None = "funds_0013_input"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subsidy_payments",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("claim_id", sa.String(length=40), nullable=False),
        sa.Column("fund_source", sa.String(length=16), nullable=False),
        sa.Column("payee_kind", sa.String(length=16), nullable=False),
        sa.Column("payees", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("payee_kind IN ('bank', 'household')", name="ck_subsidy_payments_payee_kind"),
        sa.CheckConstraint("amount_fen > 0", name="ck_subsidy_payments_positive"),
        sa.PrimaryKeyConstraint("county_code", "id"),
        sa.UniqueConstraint("county_code", "claim_id", name="uq_subsidy_payments_claim"),
    )
    op.execute(
        "CREATE TRIGGER subsidy_payments_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON subsidy_payments "
        "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
