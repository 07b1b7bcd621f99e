"""registry: what changed since a time (issue #20: F10's incremental run asks POST /internal/households/changed)

`ix_history_recorded`: BRIN on household_status_history.recorded_at (the history is appended in time order);
`ix_households_registered_by`: BRIN on households.registered_by (households are appended import by import), so the
households an import of a time registered are found without reading the roster, and a roster's COPY maintains
nearly nothing.
Written as autogenerate writes them against the models (checked by tests/platform/test_schema.py).

Revision ID: registry_0012_changed_since
Revises: registry_0011_import_progress
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "registry_0012_changed_since"
down_revision: str | None = "registry_0011_import_progress"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_history_recorded", "household_status_history", ["recorded_at"], unique=False,
                    postgresql_using="brin")
    op.create_index("ix_households_registered_by", "households", ["registered_by"], unique=False,
                    postgresql_using="brin")


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
