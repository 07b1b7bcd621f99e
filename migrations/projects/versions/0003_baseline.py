"""projects: the baseline (the county project library, with the kernel's tables)

migrations/baseline.py says what a baseline is.

Revision ID: projects_0003
Revises:
Create Date: 2026-12-03
"""

from migrations.baseline import downgrade, upgrade

__all__ = ["downgrade", "upgrade"]
revision = "projects_0003"
down_revision = None
