"""audit_log: an index on code, for GET /audit's bounded scan

GET /audit scans a bounded window of the trail (gateway/audit_scan.py) and starts it at the newest entry of each
filter an index finds at once; `code` had none. Partial: codes are only on refusals, a few percent of the trail.
Built while `fundtrack migrate` runs, before the gateway starts (a full read of the trail: ~10 s at 10 million).

Revision ID: gateway_0005_audit_indexes
Revises: gateway_0004
Create Date: 2026-12-03 17:50:23.489560
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0005_audit_indexes"
down_revision: str | None = "gateway_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_log_code", "audit_log", ["code", "seq"], unique=False, postgresql_where=sa.text("code <> ''")
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
