"""The internal alerts API every service serves (the gateway merges it into /alerts): list, acknowledge, resolve,
scan. Not public: the gateway reaches it with the caller's identity signed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.kernel.alerts import DetectorRegistry, Severity
from services.kernel.alerts_scan import run_detectors
from services.kernel.alerts_schemas import AlertNoteIn, AlertRead, AlertStatus, AlertSummary, ScanIn, ScanOut
from services.kernel.alerts_store import get_alert, list_alerts, summarise_alerts, transition
from services.kernel.errors import NotFound
from services.kernel.pagination import CursorQuery, LimitQuery, Page
from services.kernel.types import AnyRegionCode
from services.kernel.uow import PrincipalDep, SessionDep, UnitOfWorkRoute, asks_while_reading, long_statements

StatusQuery = Annotated[AlertStatus | None, Query()]
SeverityQuery = Annotated[Severity | None, Query()]
RegionQuery = Annotated[AnyRegionCode | None, Query()]
TypeQuery = Annotated[str | None, Query(alias="type", max_length=64)]


def alerts_router(service: str, registry: DetectorRegistry) -> APIRouter:
    router = APIRouter(prefix="/internal/alerts", route_class=UnitOfWorkRoute, include_in_schema=False)

    @router.get("", response_model=Page[AlertRead])
    async def get_alerts(
        session: SessionDep,
        principal: PrincipalDep,
        type_: TypeQuery = None,
        region: RegionQuery = None,
        status: StatusQuery = None,
        severity: SeverityQuery = None,
        since: datetime | None = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = 50,
    ) -> Page[AlertRead]:
        return await list_alerts(
            session,
            principal=principal,
            type_=type_,
            region=region,
            status=status,
            severity=severity,
            since=since,
            cursor=cursor,
            limit=limit,
        )

    @router.get("/summary", response_model=AlertSummary)
    async def get_summary(
        session: SessionDep,
        principal: PrincipalDep,
        type_: TypeQuery = None,
        region: RegionQuery = None,
        status: StatusQuery = None,
        severity: SeverityQuery = None,
        since: datetime | None = None,
    ) -> AlertSummary:
        return await summarise_alerts(
            session, principal=principal, type_=type_, region=region, status=status, severity=severity, since=since
        )

    @router.get("/{alert_id}", response_model=AlertRead)
    async def one_alert(alert_id: str, session: SessionDep, principal: PrincipalDep) -> AlertRead:
        """One alert: to a service that names it (a case opened from it, issue #16) whatever its region; to a person
        or key (GET /alerts/{alert_id}, issue #19) inside their jurisdiction only, else as unknown (S1: the list
        would not show it either)."""
        found = await get_alert(session, alert_id)
        if found is None or (principal.role != "service" and not principal.covers(found.region_code)):
            raise NotFound(f"没有这条预警 / no alert {alert_id}")
        return found

    @router.post("/{alert_id}/acknowledge", response_model=AlertRead)
    async def acknowledge(alert_id: str, body: AlertNoteIn, session: SessionDep, principal: PrincipalDep) -> AlertRead:
        return await transition(session, alert_id=alert_id, action="acknowledged", note=body.note, principal=principal)

    @router.post("/{alert_id}/resolve", response_model=AlertRead)
    async def resolve(alert_id: str, body: AlertNoteIn, session: SessionDep, principal: PrincipalDep) -> AlertRead:
        return await transition(session, alert_id=alert_id, action="resolved", note=body.note, principal=principal)

    @router.post("/scan", response_model=ScanOut, openapi_extra={**long_statements(), **asks_while_reading()})
    async def scan(body: ScanIn, request: Request, session: SessionDep, principal: PrincipalDep) -> ScanOut:
        return await run_detectors(
            session,
            registry,
            service=service,
            as_of=body.as_of,
            state=request.app.state,
            region_prefix=principal.region_prefix,  # S2
        )

    return router
