"""The routers a service's routes are declared on: its public API's, and its internal API's (the services only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from services.kernel.errors import NotFound
from services.kernel.uow import UnitOfWorkRoute, principal_of


def service_router(prefix: str = "", **kwargs: Any) -> APIRouter:
    """A router whose routes run in the kernel's unit of work (transaction, idempotency, audit outbox)."""
    return APIRouter(prefix=prefix, route_class=UnitOfWorkRoute, **kwargs)


async def services_only(request: Request) -> None:
    """S1: a service's internal API takes only the services' own signed identity, never a person's or a key's, an
    admin's included: to anyone else it is not there (404, as for a route that does not exist)."""
    if principal_of(request).role != "service":
        raise NotFound("没有这个接口 / not found: the internal API answers FundTrack services only")


def internal_api_router(prefix: str) -> APIRouter:
    """A router of a service's internal API, every route of it for the services only (`services_only`, checked
    before the body is read), out of the public OpenAPI document."""
    return service_router(prefix, include_in_schema=False, dependencies=[Depends(services_only)])
