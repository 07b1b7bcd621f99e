"""oversight: the schema's first revision (issue #16): cases, their alerts, events and accountability records,
with the kernel's tables. A fresh schema is made from the models and stamped here (migrations/baseline.py)."""

from migrations.baseline import downgrade, upgrade  # noqa: F401  (Alembic reads them from this module)

revision = "oversight_0001"
down_revision = None
