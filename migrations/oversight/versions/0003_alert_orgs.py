"""oversight: alerts name the organisation responsible for their subject (issue #16, O13)

alerts.responsible_org: the organisation an alert names as answering for its subject (rule O13). Null for the
alerts raised before it, and for those whose facts were recorded before organisations were.

Every column is nullable, without a default and without a backfill: rows recorded before organisations were have
none (their recorder's organisation was not kept), and adding such a column only changes the catalogue, so a table
of millions of rows is not rewritten or scanned. Written as autogenerate writes
an added column against the models (checked by tests/platform/test_schema.py).

Revision ID: oversight_0003_alert_orgs
Revises: oversight_0002_complaints
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "oversight_0003_alert_orgs"
down_revision: str | None = "oversight_0002_complaints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("responsible_org", sa.String(length=64), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
