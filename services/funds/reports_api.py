"""Handlers of the funds reports and the trace (API.md "Funds": growth, progress, trace)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from services.funds import problems, reports, trace
from services.funds.schemas import RecordId, YearParam
from services.kernel import clock
from services.kernel.pagination import MAX_LIMIT, CursorQuery, LimitQuery
from services.kernel.regions import region_level
from services.kernel.routers import service_router
from services.kernel.scope import scope_prefix
from services.kernel.types import Day, ProvinceCode, RegionCode
from services.kernel.uow import PrincipalDep, SessionDep

router = service_router("/funds", tags=["funds"])


@router.get("/reports/growth")
async def get_growth(
    session: SessionDep,
    principal: PrincipalDep,
    province: Annotated[ProvinceCode, Query()],
    fiscal_year: Annotated[YearParam, Query()],
) -> dict[str, Any]:
    """F2: per integrable fund, what the province's counties received this year and last (net of reversals)."""
    if region_level(province) != "province":
        raise problems.not_a_province()
    prefix = scope_prefix(principal, province, field="province")
    rows = await reports.growth(session, prefix=prefix, fiscal_year=fiscal_year)
    return {"province": province, "fiscal_year": fiscal_year, "items": [r.as_item() for r in rows]}


@router.get("/reports/progress")
async def get_progress(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    region: Annotated[RegionCode | None, Query()] = None,
    as_of: Annotated[Day | None, Query()] = None,
) -> dict[str, Any]:
    prefix = scope_prefix(principal, region)
    day = as_of or clock.today()
    items = await reports.progress(
        session, prefix=prefix, as_of=day, idle_days=request.app.state.settings.idle_funds_days
    )
    return {"region": region or principal.region_code, "as_of": day.isoformat(), "items": items}


@router.get("/trace")
async def get_trace(
    session: SessionDep,
    principal: PrincipalDep,
    allocation_id: Annotated[RecordId | None, Query()] = None,
    project_id: Annotated[RecordId | None, Query()] = None,
    household_id: Annotated[RecordId | None, Query()] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = MAX_LIMIT,
) -> dict[str, Any]:
    """A4, a page at a time: up to `limit` hops (upstream, then downstream) and the next page's cursor."""
    return await trace.trace(
        session, principal=principal, allocation_id=allocation_id, project_id=project_id, household_id=household_id,
        cursor=cursor, limit=limit,
    )
