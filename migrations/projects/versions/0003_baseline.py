"""projects: the baseline of 2026-12-03 (migrations/baseline.py): the county project library, with the kernel's tables"""

from migrations.baseline import downgrade, upgrade  # noqa: F401  (Alembic reads them from this module)

revision = "projects_0003"
down_revision = None
