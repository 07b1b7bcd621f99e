"""loans: the baseline of 2026-12-03 (migrations/baseline.py): loans, repayments, extensions and usage reports, with the kernel's tables"""

from migrations.baseline import downgrade, upgrade  # noqa: F401  (Alembic reads them from this module)

revision = "loans_0005"
down_revision = None
