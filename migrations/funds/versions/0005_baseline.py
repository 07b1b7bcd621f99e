"""funds: the baseline of 2026-12-03 (migrations/baseline.py): reference data, the double-entry ledger and its business records, with the kernel's tables"""

from migrations.baseline import downgrade, upgrade  # noqa: F401  (Alembic reads them from this module)

revision = "funds_0005"
down_revision = None
