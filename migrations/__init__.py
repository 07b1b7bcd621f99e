"""Alembic histories, one per schema (gateway, funds, projects, loans, registry, oversight). Run by
`fundtrack migrate`."""
