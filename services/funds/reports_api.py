"""Handlers of the funds reports and the trace (API.md "Funds": growth, progress, trace)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from services.funds import reports, trace
from services.funds.schemas import RecordId, YearParam
from services.kernel import clock
from services.kernel.app import service_router
from services.kernel.errors import NotInJurisdiction, ValidationProblem
from services.kernel.identity import Principal
from services.kernel.regions import jurisdiction_prefix
from services.kernel.types import Day, RegionCode
from services.kernel.uow import PrincipalDep, SessionDep

router = service_router("/funds", tags=["funds"])


def _covered(principal: Principal, region: str, field: str) -> None:
    if not principal.covers(region):
        raise NotInJurisdiction(f"{region} 不在管辖范围内 / {region} is outside your jurisdiction", field=field)


@router.get("/reports/growth")
async def get_growth(
    session: SessionDep,
    principal: PrincipalDep,
    province: Annotated[RegionCode, Query()],
    fiscal_year: Annotated[YearParam, Query()],
) -> dict[str, Any]:
    """F2: per integrable fund, what the province's counties received this year and last (net of reversals)."""
    if not province.endswith("0000") or province == "000000":
        raise ValidationProblem("不是省级代码 / not a province code (PP0000)", field="province")
    _covered(principal, province, "province")
    rows = await reports.growth(session, province=province, fiscal_year=fiscal_year)
    return {"province": province, "fiscal_year": fiscal_year, "items": [r.as_item() for r in rows]}


@router.get("/reports/progress")
async def get_progress(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    region: Annotated[RegionCode | None, Query()] = None,
    as_of: Annotated[Day | None, Query()] = None,
) -> dict[str, Any]:
    region = region or principal.region_code
    _covered(principal, region, "region")
    day = as_of or clock.today()
    items = await reports.progress(
        session, prefix=jurisdiction_prefix(region), as_of=day, idle_days=request.app.state.settings.idle_funds_days
    )
    return {"region": region, "as_of": day.isoformat(), "items": items}


@router.get("/trace")
async def get_trace(
    session: SessionDep,
    principal: PrincipalDep,
    allocation_id: Annotated[RecordId | None, Query()] = None,
    project_id: Annotated[RecordId | None, Query()] = None,
    household_id: Annotated[RecordId | None, Query()] = None,
) -> dict[str, Any]:
    return await trace.trace(
        session, principal=principal, allocation_id=allocation_id, project_id=project_id, household_id=household_id
    )
