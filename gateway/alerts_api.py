"""GET /alerts merges every service's alerts (newest first, keyset across services); acknowledge, resolve and
scan reach the owning services, with the caller's identity signed, and are audited at the door and by them."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from gateway.policy import ALERT_DOMAINS
from gateway.scan_jobs import ScanJobs
from services.kernel.alerts_api import RegionQuery, SeverityQuery, StatusQuery, TypeQuery
from services.kernel.alerts_schemas import AlertNoteIn, AlertSummary, ScanIn
from services.kernel.errors import NotFound, ServiceUnavailable
from services.kernel.http import signed_headers
from services.kernel.jsonbody import StrictJsonRoute
from services.kernel.pagination import CursorQuery, LimitQuery, decode_cursor, encode_cursor
from services.kernel.topology import SERVICES
from services.kernel.types import Instant
from services.kernel.uow import PrincipalDep, principal_of

router = APIRouter(prefix="/alerts", tags=["alerts"], route_class=StrictJsonRoute)
ALERT_ID = re.compile(r"^alert-(?P<service>[a-z]+)_[0-9a-z]{26}$")


async def _call(
    request: Request,
    service: str,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    json: Any = None,
) -> httpx.Response:
    client: httpx.AsyncClient = request.app.state.service_http[service]
    principal = principal_of(request)
    outgoing = client.build_request(method, path, params=params, json=json)
    key = request.headers.get("idempotency-key")
    if key:
        outgoing.headers["idempotency-key"] = key
    outgoing.headers.update(
        signed_headers(
            method, outgoing.url, principal, request.state.request_id, body=outgoing.content, audience=service
        )
    )
    try:
        return await client.send(outgoing)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(
            f"{service} 服务不可用 / the {service} service did not answer", service=service
        ) from exc


def _passthrough(response: httpx.Response) -> JSONResponse:
    return JSONResponse(
        response.json(),
        status_code=response.status_code,
        media_type=response.headers.get("content-type", "application/json"),
    )


def _filter(type_: str | None, region: str | None, status: str | None, severity: str | None,
            since: datetime | None, **page: Any) -> dict[str, Any]:
    """The query of GET /alerts and its summary, as each service's internal API takes it (what was not asked left
    out)."""
    asked = {"type": type_, "region": region, "status": status, "severity": severity,
             "since": since.isoformat() if since else None, **page}
    return {k: v for k, v in asked.items() if v is not None}


@router.get("")
async def list_alerts(
    request: Request,
    principal: PrincipalDep,
    type_: TypeQuery = None,
    region: RegionQuery = None,
    status: StatusQuery = None,
    severity: SeverityQuery = None,
    since: Annotated[Instant | None, Query()] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> JSONResponse:
    decode_cursor(cursor, 2)  # refuse a foreign cursor here, once, rather than in every service
    services = ALERT_DOMAINS.get(principal.role, tuple(SERVICES))
    params = _filter(type_, region, status, severity, since, cursor=cursor, limit=limit)
    responses = await asyncio.gather(*(_call(request, s, "GET", "/internal/alerts", params=params) for s in services))
    items: list[dict[str, Any]] = []
    more = False
    for response in responses:
        if response.status_code != 200:
            return _passthrough(response)
        page = response.json()
        items.extend(page["items"])
        more = more or page["next_cursor"] is not None
    items.sort(key=lambda a: (a["raised_at"], a["id"]), reverse=True)
    more = more or len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor([items[-1]["raised_at"], items[-1]["id"]]) if more and items else None
    return JSONResponse({"items": items, "next_cursor": next_cursor})


@router.get("/summary")
async def summary(
    request: Request,
    principal: PrincipalDep,
    type_: TypeQuery = None,
    region: RegionQuery = None,
    status: StatusQuery = None,
    severity: SeverityQuery = None,
    since: Annotated[Instant | None, Query()] = None,
) -> JSONResponse:
    """How many alerts GET /alerts would list with the same filter, by type, status and severity (issue #19: the
    console's counts), summed over the services of the caller's domain: one grouped count in each."""
    services = ALERT_DOMAINS.get(principal.role, tuple(SERVICES))
    params = _filter(type_, region, status, severity, since)
    responses = await asyncio.gather(
        *(_call(request, s, "GET", "/internal/alerts/summary", params=params) for s in services)
    )
    total = AlertSummary()
    for response in responses:
        if response.status_code != 200:
            return _passthrough(response)
        part = AlertSummary.model_validate(response.json())
        total.total += part.total
        for mine, theirs in ((total.by_type, part.by_type), (total.by_status, part.by_status),
                             (total.by_severity, part.by_severity)):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count
    return JSONResponse(total.model_dump())


def _owner(alert_id: str) -> str:
    found = ALERT_ID.match(alert_id)
    if found is None or found["service"] not in SERVICES:
        raise NotFound(f"没有这条预警 / no alert {alert_id}")
    return found["service"]


@router.get("/{alert_id}")
async def one_alert(alert_id: str, request: Request, principal: PrincipalDep) -> JSONResponse:
    """One alert, as GET /alerts lists it (issue #19: the console's alert page): to whom the list would show it (its
    domain, its jurisdiction), else 404 as unknown."""
    service = _owner(alert_id)
    if service not in ALERT_DOMAINS.get(principal.role, tuple(SERVICES)):
        raise NotFound(f"没有这条预警 / no alert {alert_id}")
    return _passthrough(await _call(request, service, "GET", f"/internal/alerts/{alert_id}"))


@router.post("/{alert_id}/acknowledge")
async def acknowledge(alert_id: str, body: AlertNoteIn, request: Request) -> JSONResponse:
    service = _owner(alert_id)
    return _passthrough(
        await _call(request, service, "POST", f"/internal/alerts/{alert_id}/acknowledge", json=body.model_dump())
    )


@router.post("/{alert_id}/resolve")
async def resolve(alert_id: str, body: AlertNoteIn, request: Request) -> JSONResponse:
    service = _owner(alert_id)
    return _passthrough(
        await _call(request, service, "POST", f"/internal/alerts/{alert_id}/resolve", json=body.model_dump())
    )


@router.post("/scan", status_code=202)
async def scan(body: ScanIn, request: Request) -> JSONResponse:
    """A job (gateway/scan_jobs.py): 202 with its id at once; GET /alerts/scans/{id} follows it."""
    jobs: ScanJobs = request.app.state.scan_jobs
    job, _started = jobs.start(principal_of(request), request.state.request_id, body.as_of)
    return JSONResponse(job.answer(), status_code=202, headers={"location": f"/alerts/scans/{job.id}"})


@router.get("/scans/{scan_id}")
async def scan_job(scan_id: str, request: Request) -> JSONResponse:
    return JSONResponse(request.app.state.scan_jobs.get(principal_of(request), scan_id).answer())
