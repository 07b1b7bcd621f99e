"""funds: the basis of every payment and the counties' subsidy standards (issue #17 points 2 and 8, F11-F14)

disbursement_bases: one row per payment recorded from now on, with the contract and stage an enterprise is paid
against or the basis a household is paid on; subsidy_standards: a county's published standards (分类补助标准) as
versions. Both keyed by county code first (they grow with the province). Payments recorded before have no row: they
count against no contract and no standard (none could name one).

Written as autogenerate writes it against the models (the tables, their indexes), with the append-only triggers the
models' `append_only` attaches.

Revision ID: funds_0009_basis
Revises: funds_0008_organisations
Create Date: 2026-12-05 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funds_0009_basis"
down_revision: str | None = "funds_0008_organisations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "disbursement_bases",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("disbursement_id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("payee_id", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("basis_kind", sa.String(length=16), nullable=False),
        sa.Column("contract_id", sa.String(length=64), nullable=True),
        sa.Column("contract_stage", sa.String(length=16), nullable=True),
        sa.Column("subsidy_category", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "basis_kind IN ('contract', 'wages', 'subsidy', 'dividend', 'other')", name="ck_disbursement_bases_kind"
        ),
        sa.CheckConstraint("(basis_kind = 'contract') = (contract_id IS NOT NULL)", name="ck_disbursement_bases_contract"),
        sa.CheckConstraint(
            "contract_stage IS NULL OR contract_stage IN ('progress', 'retention', 'final')",
            name="ck_disbursement_bases_stage",
        ),
        sa.CheckConstraint(
            "(basis_kind = 'subsidy') = (subsidy_category IS NOT NULL)", name="ck_disbursement_bases_subsidy"
        ),
        sa.PrimaryKeyConstraint("county_code", "disbursement_id"),
    )
    op.create_index(
        "ix_disbursement_bases_contract", "disbursement_bases", ["county_code", "contract_id"], unique=False
    )
    op.create_index(
        "ix_disbursement_bases_subsidy",
        "disbursement_bases",
        ["county_code", "payee_id", "subsidy_category", "paid_on"],
        unique=False,
    )
    op.create_table(
        "subsidy_standards",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name="ck_subsidy_standards_amount"),
        sa.PrimaryKeyConstraint("county_code", "id"),
    )
    op.create_index(
        "ix_subsidy_standards_in_force", "subsidy_standards", ["county_code", "category", "effective_on"], unique=False
    )
    for table in ("disbursement_bases", "subsidy_standards"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
        )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
