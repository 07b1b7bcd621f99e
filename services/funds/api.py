"""Thin handlers of the funds API (API.md "Funds"): parse, call the service, return. The unit of work commits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request

from services.funds import allocations, queries, reference, reversals, risk_funds, settlements, spending, subsidy
from services.funds.clients import GatewayDep, ProjectsDep, RegistryDep
from services.funds.schemas import (
    AllocationBatch,
    AllocationBatchRead,
    AllocationCreate,
    AllocationRead,
    AppropriationCreate,
    AppropriationRead,
    ArrangementCreate,
    ArrangementRead,
    BalanceRead,
    CountyPut,
    CountyRead,
    DisbursementCreate,
    DisbursementRead,
    ProjectMoney,
    PublicAllocation,
    ReversalCreate,
    ReversalInternal,
    ReversalRead,
    RiskFundMoveCreate,
    RiskFundMoveRead,
    ScopePut,
    ScopeRead,
    SourceCode,
    SourcePut,
    SourceRead,
    SubsidyPaymentCreate,
    SubsidyPaymentRead,
    YearParam,
)
from services.funds.settlement_schemas import ClaimSettlementRead, ClaimVoidCreate
from services.kernel.outbox import name_entities
from services.kernel.pagination import CursorQuery, LimitQuery, Page
from services.kernel.routers import service_router
from services.kernel.types import CountyCode, RegionCode
from services.kernel.uow import PrincipalDep, ReceiptDep, SessionDep

router = service_router("/funds", tags=["funds"])
public_router = service_router("/public/allocations", tags=["public money"])
internal_router = service_router("/internal", include_in_schema=False)
RegionQuery = Annotated[RegionCode | None, Query()]
SourceQuery = Annotated[SourceCode | None, Query()]
YearQuery = Annotated[YearParam | None, Query()]


@router.put("/sources/{code}", response_model=SourceRead)
async def put_source(
    code: Annotated[SourceCode, Path()], body: SourcePut, session: SessionDep, principal: PrincipalDep
) -> SourceRead:
    return await reference.put_source(session, principal=principal, code=code, body=body)


@router.put("/sources/{code}/scopes/{year}", response_model=ScopeRead)
async def put_scope(
    code: Annotated[SourceCode, Path()], year: Annotated[YearParam, Path()], body: ScopePut, session: SessionDep,
    principal: PrincipalDep,
) -> ScopeRead:
    return await reference.put_scope(session, principal=principal, code=code, year=year, body=body)


@router.get("/sources/{code}/scopes", response_model=Page[ScopeRead])
async def get_scopes(code: Annotated[SourceCode, Path()], session: SessionDep) -> Page[ScopeRead]:
    return Page(items=await reference.list_scopes(session, code))


@router.get("/sources", response_model=Page[SourceRead])
async def get_sources(session: SessionDep) -> Page[SourceRead]:
    return Page(items=await reference.list_sources(session))


@router.get("/sources/{code}", response_model=SourceRead)
async def get_source(code: Annotated[SourceCode, Path()], session: SessionDep) -> SourceRead:
    return await reference.get_source(session, code)


@router.put("/counties/{code}", response_model=CountyRead)
async def put_county(
    code: Annotated[CountyCode, Path()], body: CountyPut, session: SessionDep, principal: PrincipalDep
) -> CountyRead:
    return await reference.put_county(session, principal=principal, code=code, body=body)


@router.get("/counties", response_model=Page[CountyRead])
async def get_counties(session: SessionDep, principal: PrincipalDep) -> Page[CountyRead]:
    return Page(items=await reference.list_counties(session, principal=principal))


@router.post("/appropriations", response_model=AppropriationRead, status_code=201)
async def post_appropriation(
    body: AppropriationCreate, request: Request, session: SessionDep, principal: PrincipalDep, gateway: GatewayDep
) -> AppropriationRead:
    created = await allocations.appropriate(session, principal=principal, gateway=gateway, body=body)
    name_entities(request, [created.transfer_id])
    return created


@router.post("/allocations", response_model=AllocationRead, status_code=201)
async def post_allocation(
    body: AllocationCreate, session: SessionDep, principal: PrincipalDep, receipt: ReceiptDep, gateway: GatewayDep
) -> AllocationRead:
    return (await allocations.allocate(session, principal=principal, gateway=gateway, items=[body],
                                       receipt=receipt))[0]


@router.post("/allocations:batch", response_model=AllocationBatchRead, status_code=201)
async def post_allocation_batch(
    body: AllocationBatch, session: SessionDep, principal: PrincipalDep, receipt: ReceiptDep, gateway: GatewayDep
) -> AllocationBatchRead:
    created = await allocations.allocate(session, principal=principal, gateway=gateway, items=body.items, batch=True,
                                         receipt=receipt)
    return AllocationBatchRead(items=created)


@router.get("/allocations", response_model=Page[AllocationRead])
async def get_allocations(
    session: SessionDep,
    principal: PrincipalDep,
    from_region: RegionQuery = None,
    to_region: RegionQuery = None,
    fund_source: SourceQuery = None,
    fiscal_year: YearQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[AllocationRead]:
    filters = {"from_region": from_region, "to_region": to_region, "fund_source": fund_source,
               "fiscal_year": fiscal_year}
    return await queries.list_allocations(session, principal=principal, filters=filters, cursor=cursor, limit=limit)


@router.get("/allocations/{allocation_id}", response_model=AllocationRead)
async def get_allocation(allocation_id: str, session: SessionDep, principal: PrincipalDep) -> AllocationRead:
    return await queries.get_allocation(session, principal=principal, allocation_id=allocation_id)


@router.get("/balances", response_model=Page[BalanceRead])
async def get_balances(
    session: SessionDep,
    principal: PrincipalDep,
    region: RegionQuery = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
) -> Page[BalanceRead]:
    return await queries.list_balances(session, principal=principal, region=region, cursor=cursor, limit=limit)


@router.post("/reversals", response_model=ReversalRead, status_code=201)
async def post_reversal(
    body: ReversalCreate, request: Request, session: SessionDep, principal: PrincipalDep
) -> ReversalRead:
    created = await reversals.reverse(session, principal=principal, body=body)
    name_entities(request, [created.target_id, *created.transfer_ids])
    return created


@internal_router.get("/reversals/{reversal_id}", response_model=ReversalInternal)
async def internal_reversal(reversal_id: str, session: SessionDep, principal: PrincipalDep) -> ReversalInternal:
    """For the oversight service (O11): does reversal X exist, for which region, of how much."""
    return await reversals.describe(session, principal=principal, reversal_id=reversal_id)


@router.post("/arrangements", response_model=ArrangementRead, status_code=201)
async def post_arrangement(
    body: ArrangementCreate, request: Request, session: SessionDep, principal: PrincipalDep, projects: ProjectsDep,
    gateway: GatewayDep,
) -> ArrangementRead:
    created = await spending.arrange(session, principal=principal, projects=projects, gateway=gateway, body=body)
    name_entities(request, [body.project_id])
    return created


@router.post("/disbursements", response_model=DisbursementRead, status_code=201)
async def post_disbursement(
    body: DisbursementCreate, request: Request, session: SessionDep, principal: PrincipalDep, projects: ProjectsDep,
    registry: RegistryDep, gateway: GatewayDep,
) -> DisbursementRead:
    created = await spending.disburse(session, principal=principal, projects=projects, registry=registry,
                                      gateway=gateway, body=body)
    name_entities(request, [body.project_id, body.payee.id])
    return created


@public_router.get("", response_model=Page[PublicAllocation])
async def get_public_allocations(
    session: SessionDep,
    county: Annotated[CountyCode, Query(description="the county whose allocations in and out are listed")],
    year: YearQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[PublicAllocation]:
    """U1: no key needed; the public columns of every allocation into or out of the county."""
    return await queries.list_public_allocations(session, county=county, fiscal_year=year, cursor=cursor,
                                                 limit=limit)


@internal_router.get("/projects/{project_id}/money", response_model=ProjectMoney)
async def get_project_money(project_id: str, session: SessionDep, principal: PrincipalDep) -> ProjectMoney:
    return await queries.project_money(session, principal=principal, project_id=project_id)


@internal_router.post("/subsidy-payments", response_model=SubsidyPaymentRead)
async def post_subsidy_payment(
    body: SubsidyPaymentCreate, session: SessionDep, principal: PrincipalDep
) -> SubsidyPaymentRead:
    """For the loans service (its L13): pay an approved subsidy claim; once per claim."""
    return await subsidy.pay(session, principal=principal, body=body)


@internal_router.post("/risk-fund-moves", response_model=RiskFundMoveRead, status_code=201)
async def post_risk_fund_move(
    body: RiskFundMoveCreate, session: SessionDep, principal: PrincipalDep
) -> RiskFundMoveRead:
    """For the loans service (issue #18, L7, L9): a deposit into, a compensation out of, or a return to a county's
    risk-compensation fund, in the ledger."""
    return await risk_funds.move(session, principal=principal, body=body)


@internal_router.post("/claim-voids", response_model=ClaimSettlementRead)
async def post_claim_void(body: ClaimVoidCreate, session: SessionDep, principal: PrincipalDep) -> ClaimSettlementRead:
    """For the loans service (issue #18, its L9, L13), before it records a rejection: the claim is never paid;
    409 CLAIM_ALREADY_PAID when its payment was made first."""
    return await settlements.void(session, principal=principal, body=body)
