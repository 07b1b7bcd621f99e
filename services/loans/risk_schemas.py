"""Request and response shapes of the risk-compensation fund's routes (issue #18, docs/api.md "Risk funds")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from services.kernel.types import CountyCode, Fen, Happened, Input, ShortText, Text
from services.loans import codes

SourceCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$", description="the funds ledger's fund source")]
ShareBp = Annotated[StrictInt, Field(ge=1, le=10_000, description="a share in basis points (7000 = 70 %)")]
Leverage = Annotated[StrictInt, Field(ge=codes.LEVERAGE_MIN, le=codes.LEVERAGE_MAX,
                                      description="放大倍数: the loans backed are deposit × this")]
Days = Annotated[StrictInt, Field(ge=1, le=3650)]


class RiskFundCreate(Input):
    county_code: CountyCode
    bank_name: ShortText  # the loans' `lender_name` of this bank (L7 counts its loans by it)
    fund_source: SourceCode  # the county's money deposited: its fund, then its pool account of this source
    deposit_fen: Fen
    leverage: Leverage
    fund_share_bp: ShareBp  # the fund's share of a loss (70/30: 7000), the bank bearing the rest
    claim_after_days: Days = 90  # L8: overdue more than this many days before the bank may claim
    depleted_share_bp: ShareBp = 5000  # L10: RISK_FUND_DEPLETED beyond this share of the deposit lost
    agreement_no: ShortText
    established_on: Happened


class RiskFundRead(BaseModel):
    id: str
    county_code: str
    bank_name: str
    fund_source: str
    deposit_fen: int
    leverage: int
    capacity_fen: int  # deposit × leverage (L7)
    used_fen: int  # the bank's outstanding poverty loans in the county now
    available_fen: int  # capacity less used, never below 0
    fund_share_bp: int
    claim_after_days: int
    depleted_share_bp: int
    claims_paid_fen: int  # compensations paid (L9)
    recoveries_returned_fen: int  # recoveries' shares returned to the fund (L9)
    claims_pending: int
    depleted: bool  # L10
    agreement_no: str
    established_on: date
    deposit_transfer_ids: list[str]
    recorded_by_org: str | None


class ClaimCreate(Input):
    principal_lost_fen: Fen
    claimed_on: Happened
    reason: Text


class DecisionCreate(Input):
    decided_on: Happened
    note: Text


class CompensationRecoveryCreate(Input):
    amount_fen: Fen
    recovered_on: Happened


class CompensationRecoveryRead(BaseModel):
    id: str
    claim_id: str
    amount_fen: int
    returned_fen: int  # the fund's share, returned to it in the funds ledger
    recovered_on: date
    transfer_ids: list[str]


class DecisionRead(BaseModel):
    decision: Literal["approved", "rejected"]
    paid_fen: int
    decided_on: date
    note: str
    decided_by: str
    transfer_ids: list[str]


class ClaimRead(BaseModel):
    id: str
    fund_id: str
    loan_id: str
    county_code: str
    principal_lost_fen: int
    outstanding_fen: int
    days_overdue: int
    claimed_on: date
    reason: str
    created_by: str
    status: Literal["pending", "approved", "rejected"]
    decision: DecisionRead | None
    recoveries: list[CompensationRecoveryRead]
