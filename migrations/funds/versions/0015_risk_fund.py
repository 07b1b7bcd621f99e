"""funds: the risk-compensation fund's accounts and moves (issue #18 points 1 and 2, rules L7, L9)

The accounts take two more kinds: `risk_fund` (a county's risk-compensation fund with a partner bank, 风险补偿金,
ref = the fund's id) and `bank` (that fund's partner bank, ref = the fund's id), so the deposit, each compensation
paid to the bank and each recovery's share returned are transfers of the ledger (A4). `risk_fund_moves` records
each such move the loans service asked for (its id is the loans service's record id: a repeated call moves nothing
twice), append-only, keyed by the county code.

Replacing the check constraint reads the accounts once (a CHECK is validated on the rows there are); no row is
rewritten. Written as autogenerate writes the table against the models, with the append-only trigger.

Revision ID: funds_0015_risk_fund
Revises: funds_0014_subsidy
Create Date: 2026-12-05 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funds_0015_risk_fund"
down_revision: str | None = "funds_0014_subsidy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("ck_accounts_kind", "accounts", type_="check")
    op.create_check_constraint(
        "ck_accounts_kind", "accounts",
        "kind IN ('budget', 'treasury', 'fund', 'pool', 'project', 'payee', 'risk_fund', 'bank')",
    )
    op.create_table(
        "risk_fund_moves",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("fund_source", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name="ck_risk_fund_moves_positive"),
        sa.CheckConstraint("kind IN ('deposit', 'compensation', 'return')", name="ck_risk_fund_moves_kind"),
        sa.PrimaryKeyConstraint("county_code", "id"),
    )
    op.create_index("ix_risk_fund_moves_fund", "risk_fund_moves", ["county_code", "fund_id"], unique=False)
    op.execute(
        "CREATE TRIGGER risk_fund_moves_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON risk_fund_moves "
        "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
