"""funds: the baseline (reference data, the double-entry ledger and its business records, with the kernel's tables)

migrations/baseline.py says what a baseline is.

Revision ID: funds_0005
Revises:
Create Date: 2026-12-03
"""

from migrations.baseline import downgrade, upgrade

__all__ = ["downgrade", "upgrade"]
revision = "funds_0005"
down_revision = None
