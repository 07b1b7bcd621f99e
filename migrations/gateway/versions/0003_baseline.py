"""gateway: the baseline of 2026-12-03 (migrations/baseline.py): principals, the audit inbox and the hash-chained trail, with the kernel's tables"""

from migrations.baseline import downgrade, upgrade  # noqa: F401  (Alembic reads them from this module)

revision = "gateway_0003"
down_revision = None
