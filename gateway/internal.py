"""The gateway's internal API: what the services ask the gateway about what it owns (organisations, issue #16).
Reached by the services only, signed as they sign each other's calls (S5, audience `gateway`) by a service
principal; the door passes `/internal/` here without a key, and anything unsigned is 401. Reads only, not audited
one by one (as the services' internal reads are not)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from gateway import organisations
from gateway.organisations import OrganisationRead
from services.kernel.errors import NotFound, Unauthorized
from services.kernel.identity import (
    BODY_DIGEST_HEADER,
    EMPTY_BODY_SHA256,
    NONCE_HEADER,
    PRINCIPAL_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Principal,
    SignatureError,
    verify,
)
from services.kernel.organisations import OrganisationKind
from services.kernel.settings import get_settings
from services.kernel.types import RegionCode

PREFIX = "/internal/"
AUDIENCE = "gateway"


def service_caller(request: Request) -> Principal:
    """The calling service, if the request is signed for the gateway by a service principal, with no body."""
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
    if verified.principal.role != "service" or verified.body_sha256 != EMPTY_BODY_SHA256:
        raise Unauthorized("只有服务可以调用内部接口 / the internal API answers the services only")
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
