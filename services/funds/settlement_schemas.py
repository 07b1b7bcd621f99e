"""Shapes of the internal settlement of the loans service's claims (issue #18, loans' L9, L13)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from services.funds.schemas import RecordId
from services.kernel.types import CountyCode, Input

ClaimKind = Literal["subsidy", "compensation"]


class ClaimVoidCreate(Input):
    """Internal (the loans service, before it records a rejection): the claim paid under `payment_key` (a subsidy
    claim's id, a compensation's move id) will never be paid."""

    county_code: CountyCode
    kind: ClaimKind
    payment_key: RecordId


class ClaimSettlementRead(BaseModel):
    county_code: str
    kind: ClaimKind
    payment_key: str
    outcome: Literal["paid", "voided"]
