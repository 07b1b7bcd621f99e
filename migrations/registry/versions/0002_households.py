"""registry: the roster of registered poor households (建档立卡), their status history and the imports

Revision ID: registry_0002
Revises: registry_0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0002"
down_revision: str | None = "registry_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "household_imports",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("imported", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
    )
    # The current record of each household; its history of status and cadre flag is in household_status_history.
    op.create_table(
        "households",
        sa.Column("household_id", sa.String(64), primary_key=True),
        sa.Column("head_id_number", sa.String(18), nullable=False),
        sa.Column("head_name", sa.String(100), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("village_code", sa.String(12), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("members", sa.SmallInteger, nullable=False),
        sa.Column("village_cadre", sa.Boolean, nullable=False),
        sa.Column("card_account", sa.String(64), nullable=False),
        sa.Column("registered_on", sa.Date, nullable=False),
        sa.Column("updated_on", sa.Date, nullable=False),
        sa.Column("import_id", sa.String(40), nullable=False),
        sa.CheckConstraint("status IN ('poor', 'exited', 'returned', 'not_poor')", name="ck_households_status"),
        sa.CheckConstraint("members > 0", name="ck_households_members"),
    )
    op.create_index("ix_households_county", "households", ["county_code", "household_id"])
    op.create_table(
        "household_status_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("household_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("village_cadre", sa.Boolean, nullable=False),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("import_id", sa.String(40), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "ix_household_status_history_at", "household_status_history", ["household_id", "effective_on", "id"]
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
