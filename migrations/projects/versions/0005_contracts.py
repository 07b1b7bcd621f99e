"""projects: contracts and the county's tender threshold (issue #17 point 2, rules P8 and P9)

contracts: one row per contract a project signed (contractor's credit code, amount, tender method, a direct award's
reason, the day signed); tender_thresholds: the county's tender threshold (招标限额) as versions, the one in force on
a day being the latest effective by then. Both keyed by county code first (they grow with the province; no foreign
key to projects, whose key is its id alone: the project is checked in code).

Written as autogenerate writes it against the models (the tables, their indexes), with the append-only triggers the
models' `append_only` attaches.

Revision ID: projects_0005_contracts
Revises: projects_0004_organisations
Create Date: 2026-12-05 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "projects_0005_contracts"
down_revision: str | None = "projects_0004_organisations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contracts",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("contract_no", sa.String(length=200), nullable=False),
        sa.Column("contractor_uscc", sa.String(length=18), nullable=False),
        sa.Column("contractor_name", sa.String(length=200), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("tender_method", sa.String(length=32), nullable=False),
        sa.Column("direct_award_reason", sa.Text(), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name="ck_contracts_amount"),
        sa.CheckConstraint(
            "tender_method IN ('public_tender', 'invited_tender', 'competitive_negotiation', 'direct_award')",
            name="ck_contracts_tender_method",
        ),
        sa.CheckConstraint(
            "tender_method <> 'direct_award' OR length(btrim(coalesce(direct_award_reason, ''))) > 0",
            name="ck_contracts_direct_award_reason",
        ),
        sa.PrimaryKeyConstraint("county_code", "id"),
    )
    op.create_index("ix_contracts_project", "contracts", ["county_code", "project_id", "id"], unique=False)
    op.create_table(
        "tender_thresholds",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name="ck_tender_thresholds_amount"),
        sa.PrimaryKeyConstraint("county_code", "id"),
    )
    op.create_index(
        "ix_tender_thresholds_in_force", "tender_thresholds", ["county_code", "effective_on", "id"], unique=False
    )
    for table in ("contracts", "tender_thresholds"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
        )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
