"""loans: refusals counted per principal (S6: identity-number enumeration through POST /loans is limited)

Revision ID: loans_0004
Revises: loans_0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from services.kernel.migration_ops import create_refusals_table

revision: str = "loans_0004"
down_revision: str | None = "loans_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_refusals_table()


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
