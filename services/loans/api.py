"""Thin handlers of /loans: parse, call the service, answer (the unit of work commits)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request

from services.kernel import clock
from services.kernel.outbox import name_entities
from services.kernel.pagination import CursorQuery, LimitQuery, Page
from services.kernel.routers import service_router
from services.kernel.split_reads import SplitReadersDep
from services.kernel.types import Day, RegionCode
from services.kernel.uow import PrincipalDep, SessionDep
from services.loans import reads, service
from services.loans.clients import RegistryDep
from services.loans.schemas import (
    ExtensionCreate,
    ExtensionRead,
    LoanCreate,
    LoanDetail,
    LoanRead,
    LoanStatus,
    OutstandingReport,
    OverdueReport,
    RepaymentCreate,
    RepaymentRead,
    SubsidyRead,
    SubsidyReport,
    UsageReportCreate,
    UsageReportRead,
)

router = service_router("/loans", tags=["loans"])

RegionQuery = Annotated[RegionCode | None, Query(description="a region code (county, city, province)")]
AsOfQuery = Annotated[Day | None, Query(description="the date the figures are as of (default: today)")]
RateQuery = Annotated[int, Query(ge=0, le=100_000, description="subsidy rate in basis points a year")]
FromQuery = Annotated[Day, Query(alias="from")]
ToQuery = Annotated[Day, Query(alias="to")]
HouseholdQuery = Annotated[str | None, Query(max_length=64)]


@router.post("", status_code=201, response_model=LoanDetail)
async def create_loan(
    body: LoanCreate, request: Request, session: SessionDep, principal: PrincipalDep, registry: RegistryDep
) -> LoanDetail:
    loan = await service.originate(session, registry, principal, body)
    name_entities(request, [loan.household_id])
    return await reads.loan_detail(session, principal, loan.id, clock.today())


@router.get("", response_model=Page[LoanRead])
async def get_loans(
    session: SessionDep, principal: PrincipalDep, county: RegionQuery = None, status: LoanStatus | None = None,
    household_id: HouseholdQuery = None, as_of: AsOfQuery = None, cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[LoanRead]:
    return await reads.list_loans(
        session, principal, county=county, status=status, household_id=household_id, as_of=as_of or clock.today(),
        cursor=cursor, limit=limit,
    )


@router.get("/reports/overdue", response_model=OverdueReport)
async def get_overdue_report(
    session: SessionDep, principal: PrincipalDep, as_of: AsOfQuery = None, county: RegionQuery = None
) -> OverdueReport:
    return await reads.overdue_report(session, principal, as_of=as_of or clock.today(), county=county)


@router.get("/reports/outstanding", response_model=OutstandingReport)
async def get_outstanding_report(
    session: SessionDep, principal: PrincipalDep, county: RegionQuery = None, as_of: AsOfQuery = None
) -> OutstandingReport:
    return await reads.outstanding_report(session, principal, county=county, as_of=as_of or clock.today())


@router.get("/reports/subsidy", response_model=SubsidyReport, response_model_by_alias=True)
async def get_subsidy_report(
    session: SessionDep, principal: PrincipalDep, readers: SplitReadersDep, period_from: FromQuery,
    period_to: ToQuery, rate_bp: RateQuery, county: RegionQuery = None,
) -> SubsidyReport:
    return await reads.subsidy_report(
        session, principal, readers, county=county, period_from=period_from, period_to=period_to, rate_bp=rate_bp
    )


@router.get("/{loan_id}", response_model=LoanDetail)
async def get_loan(loan_id: str, session: SessionDep, principal: PrincipalDep, as_of: AsOfQuery = None) -> LoanDetail:
    return await reads.loan_detail(session, principal, loan_id, as_of or clock.today())


@router.get("/{loan_id}/subsidy", response_model=SubsidyRead, response_model_by_alias=True)
async def get_loan_subsidy(
    loan_id: str, session: SessionDep, principal: PrincipalDep, period_from: FromQuery, period_to: ToQuery,
    rate_bp: RateQuery,
) -> SubsidyRead:
    return await reads.loan_subsidy(
        session, principal, loan_id, period_from=period_from, period_to=period_to, rate_bp=rate_bp
    )


@router.post("/{loan_id}/repayments", status_code=201, response_model=RepaymentRead)
async def create_repayment(
    loan_id: str, body: RepaymentCreate, session: SessionDep, principal: PrincipalDep
) -> RepaymentRead:
    repayment, outstanding = await service.repay(session, principal, loan_id, body)
    read = RepaymentRead.model_validate(repayment, from_attributes=True)
    read.outstanding_fen = outstanding
    return read


@router.post("/{loan_id}/extensions", status_code=201, response_model=ExtensionRead)
async def create_extension(
    loan_id: str, body: ExtensionCreate, session: SessionDep, principal: PrincipalDep
) -> ExtensionRead:
    extension = await service.extend(session, principal, loan_id, body)
    return ExtensionRead.model_validate(extension, from_attributes=True)


@router.post("/{loan_id}/usage-reports", status_code=201, response_model=UsageReportRead)
async def create_usage_report(
    loan_id: str, body: UsageReportCreate, session: SessionDep, principal: PrincipalDep
) -> UsageReportRead:
    return reads.usage_read(await service.report_usage(session, principal, loan_id, body))

