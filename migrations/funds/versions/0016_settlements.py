"""funds: how each claim of the loans service is settled, decided once (issue #18, loans' L9 and L13)

claim_settlements: one row per payment key of a subsidy claim or a risk-fund compensation claim, `paid` or
`voided`, keyed by the county code and the key (so a claim is paid or voided, never both), append-only. The
payments made before this revision are recorded as `paid` (from subsidy_payments and the compensations of
risk_fund_moves): a rejection asked afterwards finds them paid. A new table and its rows only.

Written as autogenerate writes it against the models, with the append-only trigger the models' `append_only`
attaches.

Revision ID: funds_0016_settlements
Revises: funds_0015_risk_fund
Create Date: 2026-12-05 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funds_0016_settlements"
down_revision: str | None = "funds_0015_risk_fund"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claim_settlements",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("payment_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('subsidy', 'compensation')", name="ck_claim_settlements_kind"),
        sa.CheckConstraint("outcome IN ('paid', 'voided')", name="ck_claim_settlements_outcome"),
        sa.PrimaryKeyConstraint("county_code", "payment_key"),
    )
    op.execute(
        "CREATE TRIGGER claim_settlements_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON claim_settlements "
        "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
    )
    op.execute(
        "INSERT INTO claim_settlements (county_code, payment_key, kind, outcome, created_by, created_at) "
        "SELECT county_code, claim_id, 'subsidy', 'paid', created_by, created_at FROM subsidy_payments"
    )
    op.execute(
        "INSERT INTO claim_settlements (county_code, payment_key, kind, outcome, created_by, created_at) "
        "SELECT county_code, id, 'compensation', 'paid', created_by, created_at FROM risk_fund_moves "
        "WHERE kind = 'compensation'"
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
