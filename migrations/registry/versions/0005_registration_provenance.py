"""registry: each household keeps the import and line that registered it; the status history holds changes only

A million new households are COPYed straight into `households` (services/registry/importer.py), without a history
row each: the state a household was registered in is its record's own as long as nothing changed, and the import
writes it to the history (dated `registered_on`, from `registered_import_id`) just before the first change. For that
the record keeps which import registered it and on which line of the file (`registered_line`: also how a line
repeated later in the same file is told which line it repeats). Existing households took their registration from the
first history row, which every one of them has.

Revision ID: registry_0005
Revises: registry_0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0005"
down_revision: str | None = "registry_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("households", sa.Column("registered_import_id", sa.String(40), nullable=True))
    op.add_column("households", sa.Column("registered_line", sa.Integer, nullable=True))
    op.execute(
        """
        UPDATE households h SET registered_import_id = coalesce((
            SELECT x.import_id FROM household_status_history x WHERE x.household_id = h.household_id
            ORDER BY x.effective_on, x.id LIMIT 1), h.import_id)
        """
    )
    op.alter_column("households", "registered_import_id", nullable=False)


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
