"""registry: the baseline of 2026-12-03 (migrations/baseline.py): the roster of households, their status history and the imports, with the kernel's tables"""

from migrations.baseline import downgrade, upgrade  # noqa: F401  (Alembic reads them from this module)

revision = "registry_0006"
down_revision = None
