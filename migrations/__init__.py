"""Alembic histories, one per schema (gateway, funds, projects, loans, registry). Run by `fundtrack migrate`."""
