"""Organisations (单位) as every process names them: the kinds an organisation can be. The gateway owns the table
(gateway/models.py `organisations`) and serves it to the services over its internal API (gateway/internal.py); a
principal belongs to one, and the signed identity carries its id (identity.Principal.organisation_id)."""

from __future__ import annotations

from typing import Literal

OrganisationKind = Literal[
    "finance_bureau", "poverty_office", "bank_branch", "discipline_commission", "project_unit", "other"
]
ORGANISATION_KINDS: tuple[str, ...] = (
    "finance_bureau", "poverty_office", "bank_branch", "discipline_commission", "project_unit", "other"
)
DISCIPLINE_COMMISSION = "discipline_commission"
