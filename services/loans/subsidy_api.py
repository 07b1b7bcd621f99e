"""Thin handlers of subsidy settlement (issue #18 point 3): rates (L11), claims (L12), decisions (L13)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response

from services.kernel.outbox import name_entities
from services.kernel.pagination import CursorQuery, LimitQuery, Page
from services.kernel.routers import service_router
from services.kernel.types import RegionCode
from services.kernel.uow import BriefReadsDep, PrincipalDep, SessionDep
from services.loans import subsidy_claims as service
from services.loans import subsidy_export as export
from services.loans import subsidy_repository as repository
from services.loans.clients import FundsDep
from services.loans.subsidy_schemas import (
    SubsidyClaimCreate,
    SubsidyClaimRead,
    SubsidyDecisionCreate,
    SubsidyRateCreate,
    SubsidyRateRead,
)

router = service_router("/loans", tags=["loans: subsidy settlement"])

CountyQuery = Annotated[RegionCode | None, Query(description="a region code (county, city, province)")]
FormatQuery = Annotated[Literal["json", "csv", "xlsx"], Query(description="json (paged), or the whole claim as a "
                                                                          "CSV or Excel download")]
FIRST_PAGE = 50  # the loans a POST answers with the claim
DOWNLOADS: dict[int | str, dict[str, Any]] = {200: {"content": {export.CSV_MEDIA_TYPE: {}, export.XLSX_MEDIA_TYPE: {}}}}


@router.post("/subsidy-rates", status_code=201, response_model=SubsidyRateRead)
async def post_subsidy_rate(body: SubsidyRateCreate, session: SessionDep, principal: PrincipalDep) -> SubsidyRateRead:
    return await service.declare_rate(session, principal, body)


@router.get("/subsidy-rates", response_model=Page[SubsidyRateRead])
async def get_subsidy_rates(session: SessionDep, principal: PrincipalDep, county: CountyQuery = None
                            ) -> Page[SubsidyRateRead]:
    return Page(items=await service.list_rates(session, principal, county))


@router.post("/subsidy-claims", status_code=201, response_model=SubsidyClaimRead)
async def post_subsidy_claim(
    body: SubsidyClaimCreate, request: Request, session: SessionDep, principal: PrincipalDep
) -> SubsidyClaimRead:
    """The claim with the first page of its loans (`next_cursor`: GET the rest)."""
    claim = await service.submit_claim(session, principal, body)
    name_entities(request, [claim.id])
    return await service.claim_read(session, principal, claim.id, cursor=None, limit=FIRST_PAGE)


@router.get("/subsidy-claims/{claim_id}", response_model=SubsidyClaimRead, response_model_by_alias=True,
            responses=DOWNLOADS)
async def get_subsidy_claim(
    claim_id: str, session: SessionDep, principal: PrincipalDep, cursor: CursorQuery = None, limit: LimitQuery = 50,
    format: FormatQuery = "json",  # noqa: A002 (the query parameter's name)
) -> SubsidyClaimRead | Response:
    if format == "json":
        return await service.claim_read(session, principal, claim_id, cursor=cursor, limit=limit)
    claim = await repository.get_claim(session, principal, claim_id)
    if format == "csv":
        body, media_type = await export.as_csv(session, claim), export.CSV_MEDIA_TYPE
    else:
        body, media_type = await export.as_xlsx(session, claim), export.XLSX_MEDIA_TYPE
    filename = f"subsidy-claim-{claim.id}.{format}"
    return Response(body, media_type=media_type,
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


@router.post("/subsidy-claims/{claim_id}/decisions", status_code=201, response_model=SubsidyClaimRead)
async def post_subsidy_decision(
    claim_id: str, body: SubsidyDecisionCreate, request: Request, session: SessionDep, principal: PrincipalDep,
    brief: BriefReadsDep, funds: FundsDep,
) -> SubsidyClaimRead:
    claim = await service.decide(session, brief, funds, principal, claim_id, body)
    name_entities(request, [claim.id])
    return await service.claim_read(session, principal, claim.id, cursor=None, limit=FIRST_PAGE)
