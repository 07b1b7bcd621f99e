"""Funds: the double-entry ledger of integrated money, allocations, spending, reports and tracing (F1–F10)."""
