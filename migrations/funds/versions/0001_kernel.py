"""funds: the kernel tables (audit outbox, idempotency keys, alerts)

Revision ID: funds_0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from services.kernel.migration_ops import create_kernel_tables

revision: str = "funds_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_kernel_tables()


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
