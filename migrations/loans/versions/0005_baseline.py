"""loans: the baseline (loans, repayments, extensions and usage reports, with the kernel's tables)

migrations/baseline.py says what a baseline is.

Revision ID: loans_0005
Revises:
Create Date: 2026-12-03
"""

from migrations.baseline import downgrade, upgrade

__all__ = ["downgrade", "upgrade"]
revision = "loans_0005"
down_revision = None
