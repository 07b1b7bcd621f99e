"""Loans: small poverty loans with the five prohibitions enforced (L1–L6)."""
