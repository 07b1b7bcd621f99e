"""Thin handlers of the close-out (issue #17 point 3): the asset register and an asset's handover (P11). Mounted
before the projects router, so `/projects/assets` is the register, not a project named `assets`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from services.kernel.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from services.kernel.routers import internal_api_router, service_router
from services.kernel.types import RegionCode
from services.kernel.uow import BriefReadsDep, PrincipalDep, SessionDep, unaudited
from services.projects import closeout, repository
from services.projects.clients import FundsDep
from services.projects.schemas import (
    AssetRegisterItem,
    HandoverIn,
    HandoverRead,
    ProjectVillage,
    VillagesRequest,
    VillagesResult,
)

closeout_router = service_router("/projects", tags=["projects"])
closeout_internal_router = internal_api_router("/internal/projects")
CountyQuery = Annotated[RegionCode | None, Query(description="a region code: county, city or province")]
# a village's code: its first six digits a county's (not ending in 00), said by the pattern itself
VILLAGE_IN_COUNTY = r"^[0-9]{4}([0-9][1-9]|[1-9]0)[0-9]{6}$"
VillageQuery = Annotated[
    str | None, Query(pattern=VILLAGE_IN_COUNTY, description="a village's 12-digit code, its county's six first")
]


@closeout_router.get("/assets", response_model=Page[AssetRegisterItem])
async def asset_register(
    session: SessionDep,
    principal: PrincipalDep,
    county: CountyQuery = None,
    village: VillageQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[AssetRegisterItem]:
    return await closeout.asset_register(session, principal, county=county, village=village, cursor=cursor,
                                         limit=limit)


@closeout_router.post("/{project_id}/assets/{asset_id}/handover", status_code=201, response_model=HandoverRead)
async def hand_over(
    project_id: str, asset_id: str, body: HandoverIn, session: SessionDep, principal: PrincipalDep, funds: FundsDep,
    brief: BriefReadsDep,
) -> HandoverRead:
    return await closeout.hand_over(session, principal, project_id, asset_id, body, funds, brief)


@closeout_internal_router.post("/villages", openapi_extra=unaudited(reads_only=True))
async def internal_villages(body: VillagesRequest, session: SessionDep) -> VillagesResult:
    """The village of each project asked, in order (funds' VILLAGE_CONCENTRATION, F20); null for an unknown one."""
    found = await repository.villages_of(session, [item.project_id for item in body.items])
    return VillagesResult(items=[ProjectVillage(project_id=i.project_id, village_code=found.get(i.project_id))
                                 for i in body.items])
