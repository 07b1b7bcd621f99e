"""registry: recorded facts are append-only in the database itself (nothing recorded is edited or deleted)

Revision ID: registry_0004
Revises: registry_0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from services.kernel.migration_ops import append_only

revision: str = "registry_0004"
down_revision: str | None = "registry_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    append_only("household_imports", "household_status_history")


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
