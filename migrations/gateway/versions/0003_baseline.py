"""gateway: the baseline (principals, the audit inbox and the hash-chained trail, with the kernel's tables)

migrations/baseline.py says what a baseline is.

Revision ID: gateway_0003
Revises:
Create Date: 2026-12-03
"""

from migrations.baseline import downgrade, upgrade

__all__ = ["downgrade", "upgrade"]
revision = "gateway_0003"
down_revision = None
