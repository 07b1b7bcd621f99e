"""registry: the audit outbox is permanent and acknowledged by insert (A1, S4), and carries the signed nonce (S5)

Revision ID: registry_0006
Revises: registry_0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from services.kernel.migration_ops import permanent_outbox

revision: str = "registry_0006"
down_revision: str | None = "registry_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    permanent_outbox()


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
