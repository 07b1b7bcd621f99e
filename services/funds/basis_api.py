"""Thin handlers of the counties' subsidy standards (分类补助标准, F13; issue #17 point 2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from services.funds import basis
from services.funds.basis_schemas import SubsidyStandardCreate, SubsidyStandardRead
from services.kernel.pagination import Page
from services.kernel.routers import service_router
from services.kernel.types import RegionCode
from services.kernel.uow import PrincipalDep, SessionDep

router = service_router("/funds", tags=["funds"])


@router.post("/subsidy-standards", response_model=SubsidyStandardRead, status_code=201)
async def post_subsidy_standard(
    body: SubsidyStandardCreate, session: SessionDep, principal: PrincipalDep
) -> SubsidyStandardRead:
    return await basis.publish_standard(session, principal=principal, body=body)


@router.get("/subsidy-standards", response_model=Page[SubsidyStandardRead])
async def get_subsidy_standards(
    session: SessionDep, principal: PrincipalDep,
    county: Annotated[RegionCode | None, Query(description="a county, or a region above it")] = None,
) -> Page[SubsidyStandardRead]:
    """Every standard published under the region, newest first (the one in force on a day is the latest effective
    by then)."""
    return Page(items=await basis.list_standards(session, principal=principal, county=county))
