"""projects: close-out (issue #17 point 3): each target's actual value at acceptance, and the assets' handovers

acceptance_results: one row per performance target of an accepted project (P10): the indicator and target as the
project declared them, the actual value the acceptance found, and whether it was met. asset_handovers: one row per
asset handed over (P11, 资产移交/确权): owner (village collective or households), manager (管护主体), value, and the
reconciliation with what funds had paid to the project (paid_fen; handed_over_fen: the project's assets handed over
so far, this one included). Both carry the county code in their primary key (tests/platform/test_scaling.py) and
are append-only.

Written as autogenerate writes it against the models, with the append-only triggers the models attach.

Revision ID: projects_0006_closeout
Revises: projects_0005_contracts
Create Date: 2026-12-05 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "projects_0006_closeout"
down_revision: str | None = "projects_0005_contracts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGER = (
    "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
)


def upgrade() -> None:
    op.create_table(
        "acceptance_results",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("actual", sa.String(length=200), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("county_code", "project_id", "position"),
    )
    op.create_table(
        "asset_handovers",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("asset_id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("owner_kind", sa.String(length=24), nullable=False),
        sa.Column("owner_name", sa.String(length=200), nullable=False),
        sa.Column("manager", sa.String(length=200), nullable=False),
        sa.Column("value_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("handed_over_fen", sa.BigInteger(), nullable=False),
        sa.Column("handed_over_on", sa.Date(), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("owner_kind IN ('village_collective', 'households')", name="ck_asset_handovers_owner_kind"),
        sa.CheckConstraint("value_fen > 0", name="ck_asset_handovers_value"),
        sa.CheckConstraint("paid_fen >= 0", name="ck_asset_handovers_paid"),
        sa.PrimaryKeyConstraint("county_code", "asset_id"),
    )
    op.create_index("ix_asset_handovers_project", "asset_handovers", ["county_code", "project_id"], unique=False)
    for table in ("acceptance_results", "asset_handovers"):
        op.execute(_TRIGGER.format(table=table))


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
