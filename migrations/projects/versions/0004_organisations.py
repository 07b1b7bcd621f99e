"""projects: alerts name the organisation responsible for their subject (issue #16, O9)

The kernel's alerts table gets `responsible_org`, the organisation an alert names as answering for its subject
(rule O9). Null on the alerts raised before it.

The column is nullable, without a default and without a backfill, so adding it only changes the catalogue: the
table is not rewritten or scanned. Written as autogenerate writes an added column against the models (checked by
tests/platform/test_schema.py).

Revision ID: projects_0004_organisations
Revises: projects_0003
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "projects_0004_organisations"
down_revision: str | None = "projects_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("responsible_org", sa.String(length=64), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
