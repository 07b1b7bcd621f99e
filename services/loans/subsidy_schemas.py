"""Request and response shapes of subsidy settlement (issue #18 point 3: L11, L12, L13)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from services.kernel.types import CountyCode, Day, Happened, Input, ShortText, Text
from services.loans.schemas import AccountNo, BasisPoints

PaidTo = Literal["bank", "household"]
FundSourceCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$", description="the fund that pays it")]
Decision = Literal["checked", "approved", "rejected"]


class _Period(Input):
    period_from: Day
    period_to: Day

    @field_validator("period_to")
    @classmethod
    def ends_after_it_begins(cls, period_to: date, info: ValidationInfo) -> date:
        """422 naming `period_to` (a model's own check would name the body)."""
        period_from = info.data.get("period_from")
        if period_from is not None and period_to <= period_from:
            raise ValueError("period_to 须晚于 period_from / period_to must come after period_from (not counted)")
        return period_to


class SubsidyRateCreate(_Period):
    """L11: a county's subsidy rate for a period, whom it is paid to and from which fund."""

    county_code: CountyCode
    rate_bp: BasisPoints
    paid_to: PaidTo
    fund_source: FundSourceCode


class SubsidyRateRead(BaseModel):
    id: str
    county_code: str
    period_from: date
    period_to: date
    rate_bp: int
    paid_to: str
    fund_source: str
    declared_by: str


class SubsidyClaimCreate(_Period):
    """L12: a bank's claim of the subsidy of its loans (`lender_name` as on the loans) in a county for a period."""

    county_code: CountyCode
    lender_name: ShortText
    bank_account_no: AccountNo


class ExcludedStretch(BaseModel):
    reason: Literal["overdue", "misuse"]
    from_: date = Field(alias="from")
    to: date
    days: int


class SubsidyClaimLineRead(BaseModel):
    loan_id: str
    household_id: str
    borrower_name: str
    days: int
    subsidised_days: int
    overdue_days: int
    misuse_days: int
    excluded: list[ExcludedStretch]
    principal_fen_days: int
    subsidy_fen: int


class SubsidyDecisionRead(BaseModel):
    decision: str
    note: str
    decided_by: str
    paid_on: date | None
    payment_id: str | None


class SubsidyClaimRead(BaseModel):
    """A claim with a page of its loans (keyset by loan id: `next_cursor`); `status` is `submitted`, `checked`,
    `approved` (paid) or `rejected`."""

    id: str
    county_code: str
    lender_name: str
    period_from: date
    period_to: date
    rate_bp: int
    paid_to: str
    fund_source: str
    bank_account_no: str
    loans: int
    subsidy_fen: int
    submitted_by: str
    status: str
    decisions: list[SubsidyDecisionRead]
    items: list[SubsidyClaimLineRead]
    next_cursor: str | None = None


class SubsidyDecisionCreate(Input):
    """L13: `checked` by a first person of finance, then `approved` (paid on `paid_on`, default today) or `rejected`
    by a second; neither is the submitter."""

    decision: Decision
    note: Text
    paid_on: Happened | None = None
