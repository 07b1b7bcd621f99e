"""Request and response shapes of the loans API (API.md "Loans")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, model_validator

from services.kernel.types import (
    CreditCode,
    Fen,
    FenOrZero,
    Happened,
    IdNumber,
    Input,
    ShortText,
    Text,
    check_uscc,
)
from services.loans.codes import MAX_PARTNERS
from services.loans.records_schemas import AgreementCreate

Purpose = Literal[
    "planting", "breeding", "processing", "commerce", "rural_tourism", "services", "other_productive",
    "housing", "wedding_funeral", "consumption", "debt_repayment", "enterprise_investment",
]
Mode = Literal["self", "partnership", "cooperative"]
RecipientKind = Literal["household", "cooperative", "enterprise"]
LoanStatus = Literal["active", "overdue", "extended", "repaid"]
BasisPoints = Annotated[StrictInt, Field(ge=0, le=100_000, description="annual rate in basis points (435 = 4.35%)")]
Months = Annotated[StrictInt, Field(ge=1, le=1200)]
HouseholdId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
AccountNo = Annotated[str, Field(min_length=1, max_length=64)]


class DisbursementAccount(Input):
    holder_id_number: IdNumber | None = None
    holder_uscc: CreditCode | None = None
    account_no: AccountNo

    @model_validator(mode="after")
    def one_holder(self) -> DisbursementAccount:
        if (self.holder_id_number is None) == (self.holder_uscc is None):
            raise ValueError("账户须有且只有一个持有人 / give exactly one of holder_id_number and holder_uscc")
        return self


class LoanCreate(Input):
    household_id: HouseholdId
    borrower_id_number: IdNumber
    lender_name: ShortText
    product_name: ShortText
    amount_fen: Fen
    term_months: Months
    annual_rate_bp: BasisPoints
    benchmark_rate_bp: BasisPoints
    fees_fen: FenOrZero
    collateral_required: StrictBool
    guarantee_required: StrictBool
    mode: Mode
    purpose: Purpose
    cooperative_uscc: CreditCode | None = None
    disbursement_account: DisbursementAccount
    issued_on: Happened
    # issue #18: the cooperative mode's agreement (L15) and the partnership mode's partner households (L16)
    agreement: AgreementCreate | None = None
    partners: Annotated[list[HouseholdId], Field(max_length=MAX_PARTNERS)] | None = None

    @model_validator(mode="after")
    def records_of_their_mode(self) -> LoanCreate:
        if self.agreement is not None and self.mode != "cooperative":
            raise ValueError("委托协议仅用于户贷社管 / an agreement is given in the cooperative mode only")
        if self.partners is not None and self.mode != "partnership":
            raise ValueError("合伙农户仅用于合伙发展 / partners are named in the partnership mode only")
        if self.partners is not None and len(set(self.partners)) != len(self.partners):
            raise ValueError("合伙农户重复 / a partner household is named twice")
        return self


class RepaymentCreate(Input):
    principal_fen: FenOrZero
    interest_fen: FenOrZero
    paid_on: Happened

    @model_validator(mode="after")
    def something_paid(self) -> RepaymentCreate:
        if self.principal_fen == 0 and self.interest_fen == 0:
            raise ValueError("还款金额不能为零 / a repayment pays some principal or interest")
        return self


class ExtensionCreate(Input):
    new_maturity_on: date
    reason: Text
    extended_on: Happened | None = None  # L14: the day it was agreed (default: today)


class Recipient(Input):
    kind: RecipientKind
    id: Annotated[str, Field(min_length=1, max_length=64)]
    name: ShortText

    @model_validator(mode="after")
    def organisation_has_credit_code(self) -> Recipient:
        if self.kind != "household":
            self.id = check_uscc(self.id)
            if self.kind == "cooperative" and not self.id.startswith("93"):
                raise ValueError("合作社的统一社会信用代码以 93 开头 / a cooperative's credit code starts with 93")
        return self


class UsageReportCreate(Input):
    recipient: Recipient
    amount_fen: Fen
    purpose: Purpose
    reported_on: Happened


class AccountRead(BaseModel):
    holder_id_number: str | None
    holder_uscc: str | None
    account_no: str


class RepaymentRead(BaseModel):
    id: str
    loan_id: str
    principal_fen: int
    interest_fen: int
    paid_on: date
    outstanding_fen: int | None = None


class ExtensionRead(BaseModel):
    id: str
    loan_id: str
    original_maturity_on: date
    new_maturity_on: date
    reason: str
    extended_on: date | None = None  # L14 (null: recorded before extensions were dated)


class UsageReportRead(BaseModel):
    id: str
    loan_id: str
    recipient: dict[str, str]
    amount_fen: int
    purpose: str
    reported_on: date
    breaks_rules: list[str]


class LoanRead(BaseModel):
    id: str
    household_id: str
    borrower_id_number: str  # masked (A5)
    borrower_name: str
    county_code: str
    village_code: str
    lender_name: str
    product_name: str
    amount_fen: int
    term_months: int
    annual_rate_bp: int
    benchmark_rate_bp: int
    fees_fen: int
    collateral_required: bool
    guarantee_required: bool
    mode: str
    purpose: str
    cooperative_uscc: str | None
    disbursement_account: AccountRead
    issued_on: date
    maturity_on: date
    maturity_in_force: date
    repaid_fen: int
    outstanding_fen: int
    status: LoanStatus
    status_as_of: date
    # issue #16 (O13): the recording principal's organisation and the lending branch answering for the loan (null:
    # recorded before organisations were)
    recorded_by_org: str | None = None
    responsible_org: str | None = None


class LoanDetail(LoanRead):
    repayments: list[RepaymentRead]
    extension: ExtensionRead | None
    usage_reports: list[UsageReportRead]


class Bucket(BaseModel):
    count: int
    principal_fen: int


class OverdueReport(BaseModel):
    as_of: date
    county: str
    buckets: dict[str, Bucket]


class OutstandingRow(BaseModel):
    county_code: str
    loans: int
    outstanding_loans: int
    outstanding_fen: int


class OutstandingReport(BaseModel):
    region: str
    as_of: date
    items: list[OutstandingRow]


class SubsidyRead(BaseModel):
    loan_id: str
    period_from: date = Field(serialization_alias="from")
    period_to: date = Field(serialization_alias="to")
    rate_bp: int
    days: int
    subsidised_days: int
    overdue_days: int
    misuse_from: date | None
    principal_fen_days: int
    subsidy_fen: int


class SubsidyRow(BaseModel):
    county_code: str
    loans: int
    subsidy_fen: int


class SubsidyReport(BaseModel):
    region: str
    period_from: date = Field(serialization_alias="from")
    period_to: date = Field(serialization_alias="to")
    rate_bp: int
    days: int
    items: list[SubsidyRow]
    total_fen: int
