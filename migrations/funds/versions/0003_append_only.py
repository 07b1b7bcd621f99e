"""funds: recorded facts are append-only in the database itself (nothing recorded is edited or deleted)

Revision ID: funds_0003
Revises: funds_0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from services.kernel.migration_ops import append_only

revision: str = "funds_0003"
down_revision: str | None = "funds_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    append_only("transfers", "appropriations", "allocations", "arrangements", "disbursements", "reversals")


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
