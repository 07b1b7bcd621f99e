"""projects: the evidence of a back-dated announcement (P13, issue #17 point 9)

An announcement recorded more than 3 days after its stated start names who posted it on the board and the SHA-256
of the photo of the posted notice. Both nullable, without a default and without a backfill: an announcement recorded
in time has none, and adding such a column only changes the catalogue. Written as autogenerate writes an added
column against the models (checked by tests/platform/test_schema.py).

Revision ID: projects_0007_backdated
Revises: projects_0006_closeout
Create Date: 2026-12-05 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "projects_0007_backdated"
down_revision: str | None = "projects_0006_closeout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("announcements", sa.Column("evidence_posted_by", sa.String(length=200), nullable=True))
    op.add_column("announcements", sa.Column("evidence_photo_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
