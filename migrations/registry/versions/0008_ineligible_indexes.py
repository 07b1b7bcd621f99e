"""registry: partial indexes of the households and history rows that are not eligible (issue #20)

POST /internal/households/ineligible (the INELIGIBLE_BORROWER scan) lists the households ineligible on a day: these
indexes hold only the rows whose status is not an eligible one or that have a village cadre (models.NOT_ELIGIBLE),
in household id order, so a scan reads those rows only, not the roster and its whole history. Built while
`fundtrack migrate` runs (one read of each table).

Revision ID: registry_0008_ineligible
Revises: registry_0007_households_county
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0008_ineligible"
down_revision: str | None = "registry_0007_households_county"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_ELIGIBLE = "status NOT IN ('poor', 'exited', 'returned') OR village_cadre"  # models.NOT_ELIGIBLE on this day


def upgrade() -> None:
    op.create_index("ix_households_ineligible", "households", ["household_id"], unique=False,
                    postgresql_where=sa.text(NOT_ELIGIBLE))
    op.create_index("ix_history_ineligible", "household_status_history", ["household_id", "effective_on"],
                    unique=False, postgresql_where=sa.text(NOT_ELIGIBLE))


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
