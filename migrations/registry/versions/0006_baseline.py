"""registry: the baseline (the roster of households, their status history and the imports, with the kernel's tables)

The schema as the models (`services/registry/models.py`, the kernel's tables in services/kernel/models.py)
declared it on 2026-12-03. A database made before is at this revision already (its id is the head of the history
it was built with). A fresh one is made from the models and stamped here (`fundtrack migrate`). A later change is a
new revision, generated against the models: `alembic -n registry revision --autogenerate -m "..."` (README).

Revision ID: registry_0006
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

revision: str = "registry_0006"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
