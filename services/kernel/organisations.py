"""Organisations (单位) as every process names them: the kinds an organisation can be. The gateway owns the table
(gateway/models.py `organisations`) and serves it to the services over its internal API (gateway/internal.py); a
principal belongs to one, and the signed identity carries its id (identity.Principal.organisation_id)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

OrganisationKind = Literal[
    "finance_bureau", "poverty_office", "bank_branch", "discipline_commission", "project_unit", "other"
]
ORGANISATION_KINDS: tuple[str, ...] = (
    "finance_bureau", "poverty_office", "bank_branch", "discipline_commission", "project_unit", "other"
)
DISCIPLINE_COMMISSION = "discipline_commission"

# An organisation's id as the gateway makes it (`new_id("org")`, or migration gateway_0008's md5-derived one): what a
# service's body names when it points at an organisation.
OrganisationId = Annotated[str, Field(pattern=r"^org_[0-9a-z]{26}$")]
# The refusals every service answers with when a body names an organisation (422, the field naming it): one that
# the gateway does not know, and one whose region does not cover the region it must cover.
UNKNOWN_ORGANISATION = "UNKNOWN_ORGANISATION"
ORGANISATION_REGION = "ORGANISATION_REGION"
