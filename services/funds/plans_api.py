"""Thin handlers of the county's integration plan and the obligations (issue #17, docs/api.md "Funds"): parse, call
the service, return. The unit of work commits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from services.funds import input_obligations, obligations, plan_execution, plans
from services.funds.clients import ProjectsDep
from services.funds.input_schemas import (
    InputReport,
    ObligationCode,
    ObligationPut,
    ObligationRead,
    RecoveryCreate,
    RecoveryRead,
    RevenueCreate,
    RevenueRead,
)
from services.funds.plan_schemas import PlanAdjustment, PlanCreate, PlanExecution, PlanRead, PlanReportCreate
from services.funds.schemas import RecordId, YearParam
from services.kernel.pagination import Page
from services.kernel.routers import service_router
from services.kernel.scope import check_covers, scope_prefix
from services.kernel.types import CountyCode, RegionCode
from services.kernel.uow import BriefReadsDep, PrincipalDep, SessionDep

router = service_router("/funds", tags=["funds"])
PlanId = Annotated[RecordId, Path()]


@router.post("/plans", response_model=PlanRead, status_code=201)
async def post_plan(body: PlanCreate, session: SessionDep, principal: PrincipalDep, projects: ProjectsDep) -> PlanRead:
    """F16: a county's integration plan for a year (version 1, a draft until reported)."""
    return await plans.file_plan(session, principal=principal, projects=projects, body=body)


@router.post("/plans/{plan_id}/adjustments", response_model=PlanRead, status_code=201)
async def post_plan_adjustment(
    plan_id: PlanId, body: PlanAdjustment, session: SessionDep, principal: PrincipalDep, projects: ProjectsDep,
    brief: BriefReadsDep,
) -> PlanRead:
    """F16: an adjustment (调整) is a new version with its reason; the earlier ones are kept."""
    return await plans.adjust(session, principal=principal, projects=projects, brief=brief, plan_id=plan_id,
                              body=body)


@router.post("/plans/{plan_id}/report", response_model=PlanRead)
async def post_plan_report(
    plan_id: PlanId, body: PlanReportCreate, session: SessionDep, principal: PrincipalDep
) -> PlanRead:
    """F16: the latest version reported to the city and province becomes the plan in force (F15)."""
    return await plans.report(session, principal=principal, plan_id=plan_id, body=body)


@router.get("/plans", response_model=Page[PlanRead])
async def get_plans(
    session: SessionDep,
    principal: PrincipalDep,
    county: Annotated[RegionCode | None, Query()] = None,
    year: Annotated[YearParam | None, Query()] = None,
) -> Page[PlanRead]:
    prefix = scope_prefix(principal, county, field="county")
    return Page(items=await plans.list_plans(session, prefix=prefix, fiscal_year=year))


@router.get("/plans/{plan_id}", response_model=PlanRead)
async def get_plan(plan_id: PlanId, session: SessionDep, principal: PrincipalDep) -> PlanRead:
    return await plans.get_plan(session, principal=principal, plan_id=plan_id)


@router.get("/reports/plan-execution", response_model=PlanExecution)
async def get_plan_execution(
    session: SessionDep,
    principal: PrincipalDep,
    county: Annotated[CountyCode, Query()],
    year: Annotated[YearParam, Query()],
) -> PlanExecution:
    """The plan in force against the year's arranged and paid money, by fund source and by project."""
    check_covers(principal, county, field="county")
    return await plan_execution.plan_execution(session, county_code=county, fiscal_year=year)


@router.put("/obligations/{code}", response_model=ObligationRead)
async def put_obligation(
    code: Annotated[ObligationCode, Path()], body: ObligationPut, session: SessionDep, principal: PrincipalDep
) -> ObligationRead:
    return await obligations.put_obligation(session, principal=principal, code=code, body=body)


@router.get("/obligations/{code}", response_model=ObligationRead)
async def get_obligation(code: Annotated[ObligationCode, Path()], session: SessionDep) -> ObligationRead:
    return await obligations.get_obligation(session, code)


@router.post("/revenues", response_model=RevenueRead, status_code=201)
async def post_revenue(body: RevenueCreate, session: SessionDep, principal: PrincipalDep) -> RevenueRead:
    """F17: a region's revenue for a year, as declared (a correction is a later declaration)."""
    return await input_obligations.declare_revenue(session, principal=principal, body=body)


@router.post("/recoveries", response_model=RecoveryRead, status_code=201)
async def post_recovery(body: RecoveryCreate, session: SessionDep, principal: PrincipalDep) -> RecoveryRead:
    """F17: idle money a region recovered, and the part of it put to targeted poverty work."""
    return await input_obligations.record_recovery(session, principal=principal, body=body)


@router.get("/reports/input", response_model=InputReport)
async def get_input_report(
    session: SessionDep,
    principal: PrincipalDep,
    projects: ProjectsDep,
    brief: BriefReadsDep,
    region: Annotated[RegionCode, Query()],
    year: Annotated[YearParam, Query()],
) -> InputReport:
    """F17–F18: each input obligation in force for the region and year, passed or failed."""
    return await input_obligations.input_report(session, principal=principal, projects=projects, brief=brief,
                                                region_code=region, fiscal_year=year)
