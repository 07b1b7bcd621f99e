"""registry: only the indexes the reads need, so that a million-line import writes fewer index entries

Each index costs every imported row an entry (and its WAL). `ix_households_county` goes: the list pages by
household id (the primary key) and filters by county or village prefix. The history's two indexes (the identity
primary key and `(household_id, effective_on, id)`) become one primary key `(household_id, effective_on, id)`: every
read of the history is by household (its changes in order, or the one in force on a date); `id` stays an identity.

Revision ID: registry_0003
Revises: registry_0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "registry_0003"
down_revision: str | None = "registry_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_households_county", table_name="households")
    op.drop_index("ix_household_status_history_at", table_name="household_status_history")
    op.drop_constraint("household_status_history_pkey", "household_status_history", type_="primary")
    op.create_primary_key(
        "household_status_history_pkey", "household_status_history", ["household_id", "effective_on", "id"]
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
