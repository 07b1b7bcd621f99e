"""Request and response shapes of the funds API (API.md "Funds")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt

from services.funds.basis_schemas import ContractStage, PaymentBasis, PaymentBasisRead
from services.kernel.types import (
    CountyCode,
    CreditCode,
    Fen,
    Happened,
    Input,
    ProvinceCode,
    RegionCode,
    ShortText,
    Text,
)

SourceCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$", description="fund source code")]
FiscalYear = Annotated[StrictInt, Field(ge=2000, le=2100)]
YearParam = Annotated[int, Field(ge=2000, le=2100)]  # a query parameter arrives as text
RecordId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
AccountNo = Annotated[str, Field(min_length=1, max_length=64)]


class SourcePut(Input):
    name: ShortText
    level: Literal["central", "provincial"]
    integrable: StrictBool
    province_code: ProvinceCode | None = Field(
        default=None, description="F21: the province a provincial source belongs to (required for one, none for a "
                                  "central one)")


class SourceRead(BaseModel):
    code: str
    name: str
    level: str
    integrable: bool
    province_code: str | None = None


class ScopePut(Input):
    """F7 (extended): whether the source is inside the integration scope in that year."""

    integrable: StrictBool


class ScopeRead(BaseModel):
    fund_source: str
    year: int
    integrable: bool


class CountyPut(Input):
    name: ShortText
    poor: StrictBool
    integration_pilot: StrictBool


class CountyRead(BaseModel):
    code: str
    name: str
    poor: bool
    integration_pilot: bool


class AppropriationCreate(Input):
    fund_source: SourceCode
    fiscal_year: FiscalYear
    region_code: RegionCode
    amount_fen: Fen
    doc_no: ShortText
    appropriated_on: Happened | None = None


class AppropriationRead(BaseModel):
    id: str
    fund_source: str
    fiscal_year: int
    region_code: str
    amount_fen: int
    doc_no: str
    appropriated_on: date
    transfer_id: str
    # issue #16 (O13): the recording principal's organisation and the one answering for the record (null: recorded
    # before organisations were)
    recorded_by_org: str | None = None
    responsible_org: str | None = None


class Task(Input):
    text: Text
    poverty_related: StrictBool


class AllocationCreate(Input):
    fund_source: SourceCode
    fiscal_year: FiscalYear
    from_region: RegionCode
    to_region: RegionCode
    amount_fen: Fen
    doc_no: ShortText
    issued_on: Happened
    designated_project_id: RecordId | None = None
    tasks: list[Task] = Field(default_factory=list, max_length=100)


class AllocationBatch(Input):
    items: list[AllocationCreate] = Field(min_length=1, max_length=1000)


class ProjectMoney(BaseModel):
    """Internal (projects asks it for the public page, U2): what is arranged to a project and what it paid."""

    project_id: str
    arranged_fen: int
    paid_fen: int


class PublicAllocation(BaseModel):
    """U1: an allocation as the public sees it (GET /public/allocations): no id of who recorded it."""

    doc_no: str
    fund_source: str
    fiscal_year: int
    amount_fen: int
    issued_on: date
    from_region: str
    to_region: str
    reversed: bool


class AllocationRead(BaseModel):
    id: str
    fund_source: str
    fiscal_year: int
    from_region: str
    to_region: str
    amount_fen: int
    doc_no: str
    issued_on: date
    designated_project_id: str | None
    tasks: list[dict[str, object]]
    destination_account: str
    reversal_id: str | None = None
    created_at: datetime | None = None
    # issue #16 (O13): the recording principal's organisation and the one answering for the record (null: recorded
    # before organisations were)
    recorded_by_org: str | None = None
    responsible_org: str | None = None


class AllocationBatchRead(BaseModel):
    items: list[AllocationRead]


class BalanceRead(BaseModel):
    region_code: str
    account: str
    fund_source: str
    ref: str
    balance_fen: int


class ReversalCreate(Input):
    target_id: RecordId = Field(description="the allocation, appropriation, arrangement or disbursement to reverse")
    reason: Text
    reversed_on: Happened | None = None


class ReversalRead(BaseModel):
    id: str
    target_id: str
    target_kind: str
    reason: str
    reversed_on: date
    transfer_ids: list[str]
    # issue #16 (O13): the recording principal's organisation and the one answering for the record (null: recorded
    # before organisations were)
    recorded_by_org: str | None = None
    responsible_org: str | None = None


class ReversalInternal(BaseModel):
    """A reversal as the internal API answers another service: where it answers and how much it moved back."""

    id: str
    target_id: str
    target_kind: str
    region_code: str
    amount_fen: int
    reversed_on: date


class ArrangementCreate(Input):
    county_code: CountyCode
    project_id: RecordId
    amount_fen: Fen
    fund_source: SourceCode | None = None
    arranged_on: Happened | None = None


class MovementRead(BaseModel):
    transfer_id: str
    fund_source: str
    amount_fen: int


class ArrangementRead(BaseModel):
    id: str
    county_code: str
    project_id: str
    amount_fen: int
    fund_source: str | None
    arranged_on: date
    movements: list[MovementRead]
    # issue #16 (O13): the recording principal's organisation and the one answering for the record (null: recorded
    # before organisations were)
    recorded_by_org: str | None = None
    responsible_org: str | None = None


class HouseholdPayee(Input):
    kind: Literal["household"]
    id: RecordId
    name: ShortText
    account_no: AccountNo


class EnterprisePayee(Input):
    kind: Literal["enterprise"]
    id: CreditCode
    name: ShortText
    account_no: AccountNo


class DisbursementCreate(Input):
    project_id: RecordId
    amount_fen: Fen
    voucher_no: ShortText
    payee: Annotated[HouseholdPayee | EnterprisePayee, Field(discriminator="kind")]
    paid_on: Happened | None = None
    # issue #17 (F11-F14): an enterprise is paid against its contract (and says which stage: retention and final
    # payments are the only ones after completion); a household on a stated basis
    contract_id: RecordId | None = None
    contract_stage: ContractStage | None = None
    basis: PaymentBasis | None = None


class PayeeRead(BaseModel):
    kind: str
    id: str
    name: str
    account_no: str


class DisbursementRead(BaseModel):
    id: str
    project_id: str
    county_code: str
    amount_fen: int
    voucher_no: str
    payee: PayeeRead
    paid_on: date
    movements: list[MovementRead]
    contract_id: str | None = None  # F11
    contract_stage: str | None = None  # F14
    basis: PaymentBasisRead | None = None  # F12, F13 (kind "contract" for an enterprise)
    # issue #16 (O13): the recording principal's organisation and the one answering for the record (null: recorded
    # before organisations were)
    recorded_by_org: str | None = None
    responsible_org: str | None = None


class SubsidyPayee(Input):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    amount_fen: Fen


class SubsidyPaymentCreate(Input):
    """Internal (the loans service, its L13): pay an approved subsidy claim from the county's account of the fund."""

    claim_id: Annotated[str, Field(min_length=1, max_length=40)]
    county_code: CountyCode
    fund_source: SourceCode
    paid_on: Happened
    payee_kind: Literal["bank", "household"]
    payees: Annotated[list[SubsidyPayee], Field(min_length=1, max_length=200_000)]


class SubsidyPaymentRead(BaseModel):
    id: str
    claim_id: str
    county_code: str
    fund_source: str
    payee_kind: str
    payees: int
    amount_fen: int
    paid_on: date


RiskMoveKind = Literal["deposit", "compensation", "return"]
MoveId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.:-]+$")]  # a transfer's record id


class RiskFundMoveCreate(Input):
    """Issue #18 (internal, the loans service only): money of a county's risk-compensation fund. `deposit`: from the
    county's fund and pool accounts of `fund_source` into the fund's `risk_fund` account; `compensation`: from it to
    the partner bank's `bank` account; `return`: a recovery's share back from the bank to the fund. `id` is the
    loans service's record id: the same id again answers the move already made."""

    id: MoveId
    kind: RiskMoveKind
    county_code: CountyCode
    fund_id: RecordId
    fund_source: SourceCode
    amount_fen: Fen
    doc_no: ShortText
    occurred_on: Happened


class RiskFundMoveRead(BaseModel):
    id: str
    kind: RiskMoveKind
    county_code: str
    fund_id: str
    fund_source: str
    amount_fen: int
    occurred_on: date
    transfer_ids: list[str]
    fund_balance_fen: int  # the fund's `risk_fund` account after the move
