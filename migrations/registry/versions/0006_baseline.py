"""registry: the baseline (the roster of households, their status history and the imports, with the kernel's tables)

migrations/baseline.py says what a baseline is.

Revision ID: registry_0006
Revises:
Create Date: 2026-12-03
"""

from migrations.baseline import downgrade, upgrade

__all__ = ["downgrade", "upgrade"]
revision = "registry_0006"
down_revision = None
