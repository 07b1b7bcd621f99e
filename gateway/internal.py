"""The gateway's internal API: what the services ask the gateway about what it owns (organisations, issue #16).
Reached by the services only, signed as they sign each other's calls (S5, audience `gateway`) by a service
principal; the door passes `/internal/` here without a key, and anything unsigned is 401. Reads only, not audited
one by one (as the services' internal reads are not)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from gateway import organisations
from gateway.organisations import OrganisationRead
from services.kernel.errors import NotFound, Unauthorized
from services.kernel.identity import (
    BODY_DIGEST_HEADER,
    NONCE_HEADER,
    PRINCIPAL_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Principal,
    SignatureError,
    body_digest,
    verify,
)
from services.kernel.organisations import OrganisationKind
from services.kernel.settings import get_settings
from services.kernel.types import Input, RegionCode

PREFIX = "/internal/"
AUDIENCE = "gateway"
REGIONS_LIMIT = 1000  # regions asked in one call


async def service_caller(request: Request) -> Principal:
    """The calling service, if the request is signed for the gateway by a service principal, with the body it
    signed (none for a GET; a batch question's JSON, read only once the signature holds)."""
    settings = get_settings()
    headers = request.headers
    try:
        verified = verify(
            settings.service_secret,
            ttl_seconds=settings.signature_ttl_seconds,
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            request_id=headers.get("x-request-id", ""),
            principal_header=headers.get(PRINCIPAL_HEADER),
            timestamp_header=headers.get(TIMESTAMP_HEADER),
            signature_header=headers.get(SIGNATURE_HEADER),
            nonce_header=headers.get(NONCE_HEADER),
            body_digest_header=headers.get(BODY_DIGEST_HEADER),
            audience=AUDIENCE,
        )
    except SignatureError as exc:
        raise Unauthorized(f"未经签名的内部请求 / refused: {exc}") from exc
    if verified.principal.role != "service":
        raise Unauthorized("只有服务可以调用内部接口 / the internal API answers the services only")
    body = await request.body() if request.method == "POST" else b""
    if verified.body_sha256 != body_digest(body):
        raise Unauthorized("请求体与签名不符 / refused: the body is not the one signed (S5)")
    return verified.principal


router = APIRouter(prefix="/internal", include_in_schema=False, dependencies=[Depends(service_caller)])
ServiceCaller = Annotated[Principal, Depends(service_caller)]


class OrganisationList(BaseModel):
    items: list[OrganisationRead]


@router.get("/organisations", response_model=OrganisationList)
async def organisations_of_region(
    request: Request, region_code: Annotated[RegionCode, Query()], kind: Annotated[OrganisationKind, Query()]
) -> OrganisationList:
    """The organisations of exactly one region and kind, the first registered first: how a service finds the
    county finance bureau responsible for what it records (rule O13)."""
    async with request.app.state.sessions() as session:
        found = await organisations.of_region(session, region_code=region_code, kind=kind)
    return OrganisationList(items=found)


@router.get("/organisations/{organisation_id}", response_model=OrganisationRead)
async def get_organisation(organisation_id: str, request: Request) -> OrganisationRead:
    async with request.app.state.sessions() as session:
        found = await organisations.get(session, organisation_id)
    if found is None:
        raise NotFound(f"没有这个单位 / no organisation {organisation_id}")
    return found


class RegionsQuestion(Input):
    kind: OrganisationKind
    region_codes: list[RegionCode] = Field(max_length=REGIONS_LIMIT)


class RegionOrganisation(BaseModel):
    region_code: str
    organisation: OrganisationRead


class RegionsAnswer(BaseModel):
    items: list[RegionOrganisation]  # in the order asked, each region once
    missing: list[str]  # the regions without one of that kind


@router.post("/organisations/first-of-regions", response_model=RegionsAnswer)
async def first_of_regions(request: Request, body: RegionsQuestion) -> RegionsAnswer:
    """The first registered organisation of a kind of exactly each of up to 1,000 regions: how a service names the
    finance bureaus of many counties at once (rule O13; a scan asks one call per page of regions, not one per
    region)."""
    wanted = list(dict.fromkeys(body.region_codes))
    async with request.app.state.sessions() as session:
        found = await organisations.first_of_regions(session, region_codes=wanted, kind=body.kind)
    return RegionsAnswer(items=[RegionOrganisation(region_code=c, organisation=found[c]) for c in wanted if c in found],
                         missing=[c for c in wanted if c not in found])
