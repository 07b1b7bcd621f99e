"""funds: refusals counted per principal (S6: card-account enumeration through POST /funds/disbursements is limited)

Revision ID: funds_0004
Revises: funds_0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from services.kernel.migration_ops import create_refusals_table

revision: str = "funds_0004"
down_revision: str | None = "funds_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_refusals_table()


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
