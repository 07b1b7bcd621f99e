"""What every schema's first revision is: the baseline of 2026-12-03.

The schema as its models (the service's `models.py`, or `gateway/models.py`, with the kernel's tables of
services/kernel/models.py) declared it on that day. A database made before is at the baseline already: each
baseline's id is the head of the history that database was built with. A fresh database is made from the models and
stamped at the head (`fundtrack migrate`, deploy/migrate.py). A later change is a new revision, generated against
the models: `alembic -n <schema> revision --autogenerate -m "..."` (README, Development), which `fundtrack migrate`
then runs and checks (deploy/drift.py).
"""

from __future__ import annotations


def upgrade() -> None:
    """Nothing to do: a database is at the baseline already, or is made from the models."""


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
