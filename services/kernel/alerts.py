"""Misuse alerts: how a service stores what its detectors find, and the internal API the gateway merges.

A service registers detectors (async functions returning `AlertDraft`s). A scan runs them all as of a date; an
alert is raised once per (type, subject) while it is not resolved: a later scan that finds it again updates its
facts (a loan ageing from 31 to 95 days overdue) instead of raising a duplicate.

S2: a scan asked for by a principal (POST /alerts/scan) is as of a day not after today, and raises or updates only
alerts whose region its jurisdiction covers (the daily run is national); and an open alert's facts only move forward
in time: a scan as of an earlier day than the alert's last one leaves it as it is (a county inspector rescanning as
of 2020 cannot lower a loan's days past due).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel.errors import Conflict, NotFound, NotInJurisdiction, ValidationProblem
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.models import Alert, AlertEvent
from services.kernel.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of
from services.kernel.regions import jurisdiction_prefix
from services.kernel.types import AnyRegionCode, Happened, Input
from services.kernel.uow import PrincipalDep, SessionDep, UnitOfWorkRoute

Severity = Literal["low", "medium", "high", "critical"]
AlertStatus = Literal["open", "acknowledged", "resolved"]
OPEN_STATES = ("open", "acknowledged")


@dataclass(frozen=True)
class AlertDraft:
    type: str
    severity: Severity
    region_code: str
    subject_kind: str
    subject_id: str
    facts: dict[str, Any]


@dataclass
class DetectorContext:
    session: AsyncSession
    as_of: date
    state: Any  # the app's state: clients of other services, settings
    region_prefix: str = ""  # S2: the scan's jurisdiction ('' national); detectors may narrow their queries with it

    @property
    def region_like(self) -> str:
        """The LIKE pattern of the scan's region codes (region codes are ASCII digits: nothing to escape)."""
        return self.region_prefix + "%"


Detector = Callable[[DetectorContext], Awaitable[list[AlertDraft]]]


@dataclass
class DetectorRegistry:
    detectors: dict[str, Detector] = field(default_factory=dict)

    def register(self, name: str) -> Callable[[Detector], Detector]:
        def add(fn: Detector) -> Detector:
            self.detectors[name] = fn
            return fn

        return add


class AlertNote(BaseModel):
    action: str
    note: str
    principal_id: str
    at: datetime


class Subject(BaseModel):
    kind: str
    id: str


class AlertRead(BaseModel):
    id: str
    type: str
    severity: str
    region_code: str
    subject: Subject
    raised_at: datetime
    status: str
    facts: dict[str, Any]
    notes: list[AlertNote]


class AlertNoteIn(Input):
    note: str = Field(default="", max_length=4000)


class ScanIn(Input):
    as_of: Happened  # S2: not after today in China (a scan as of 2099 ages every overdue loan by decades)


class ScanOut(BaseModel):
    raised: dict[str, int]
    updated: dict[str, int] = Field(default_factory=dict)


UPSERT_CHUNK = 5000

# One statement per chunk: a scan over a million loans raises tens of thousands of alerts. The partial index's
# predicate is literal SQL (a bound parameter stops matching it once PostgreSQL plans the statement generically).
UPSERT_ALERTS = text(
    """
    INSERT INTO alerts (id, type, severity, region_code, subject_kind, subject_id, raised_at, as_of, status, facts)
    SELECT d.id, d.type, d.severity, d.region_code, d.subject_kind, d.subject_id, :now, :as_of, 'open', d.facts::jsonb
    FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[]), CAST(:severities AS text[]), CAST(:regions AS text[]),
                CAST(:kinds AS text[]), CAST(:subjects AS text[]), CAST(:facts AS text[]))
         AS d(id, type, severity, region_code, subject_kind, subject_id, facts)
    ON CONFLICT (type, subject_kind, subject_id) WHERE status <> 'resolved'
    DO UPDATE SET facts = EXCLUDED.facts, severity = EXCLUDED.severity, as_of = EXCLUDED.as_of
    WHERE alerts.facts IS DISTINCT FROM EXCLUDED.facts AND alerts.as_of <= EXCLUDED.as_of
    RETURNING id, type, (xmax = 0) AS inserted
    """
)
INSERT_EVENTS = text(
    """
    INSERT INTO alert_events (alert_id, action, note, principal_id)
    SELECT e.alert_id, e.action, '', 'system'
    FROM unnest(CAST(:ids AS text[]), CAST(:actions AS text[])) AS e(alert_id, action)
    """
)


def _unique(drafts: list[AlertDraft]) -> list[AlertDraft]:
    """One draft per (type, subject), the last found winning, in a stable order (so concurrent scans lock alike)."""
    by_key = {(d.type, d.subject_kind, d.subject_id): d for d in drafts}
    return [by_key[k] for k in sorted(by_key)]


async def raise_alerts(session: AsyncSession, drafts: list[AlertDraft], *, service: str, as_of: date) -> ScanOut:
    """Insert new alerts, update the facts of open ones (an event each); count both by type."""
    out = ScanOut(raised={}, updated={})
    now = datetime.now(UTC)
    unique = _unique(drafts)
    for start in range(0, len(unique), UPSERT_CHUNK):
        chunk = unique[start : start + UPSERT_CHUNK]
        rows = await session.execute(
            UPSERT_ALERTS,
            {
                "now": now,
                "as_of": as_of.isoformat(),
                "ids": [new_id(f"alert-{service}") for _ in chunk],
                "types": [d.type for d in chunk],
                "severities": [d.severity for d in chunk],
                "regions": [d.region_code for d in chunk],
                "kinds": [d.subject_kind for d in chunk],
                "subjects": [d.subject_id for d in chunk],
                "facts": [json.dumps(d.facts, ensure_ascii=False, default=str) for d in chunk],
            },
        )
        ids, actions = [], []
        for row in rows:
            counts = out.raised if row.inserted else out.updated
            counts[row.type] = counts.get(row.type, 0) + 1
            ids.append(row.id)
            actions.append("raised" if row.inserted else "updated")
        if ids:
            await session.execute(INSERT_EVENTS, {"ids": ids, "actions": actions})
    return out


def in_scope(drafts: list[AlertDraft], region_prefix: str) -> list[AlertDraft]:
    """S2: the drafts a scan of this jurisdiction may raise or update (a subject spanning counties, such as a
    cooperative reached from two counties, has its alert at their common region, out of a county's reach)."""
    return [d for d in drafts if d.region_code.startswith(region_prefix)]


async def run_detectors(
    session: AsyncSession,
    registry: DetectorRegistry,
    *,
    service: str,
    as_of: date,
    state: Any,
    region_prefix: str = "",
) -> ScanOut:
    drafts: list[AlertDraft] = []
    context = DetectorContext(session=session, as_of=as_of, state=state, region_prefix=region_prefix)
    for detector in registry.detectors.values():
        drafts.extend(in_scope(await detector(context), region_prefix))
    result = await raise_alerts(session, drafts, service=service, as_of=as_of)
    for name in registry.detectors:
        result.raised.setdefault(name, 0)
    return result


async def _read(session: AsyncSession, alerts: list[Alert]) -> list[AlertRead]:
    ids = [a.id for a in alerts]
    notes: dict[str, list[AlertNote]] = {i: [] for i in ids}
    if ids:
        events = await session.execute(
            select(AlertEvent)
            .where(AlertEvent.alert_id.in_(ids), AlertEvent.action.in_(("acknowledged", "resolved")))  # type: ignore[attr-defined]
            .order_by(AlertEvent.id)  # type: ignore[arg-type]
        )
        for e in events.scalars():
            notes[e.alert_id].append(AlertNote(action=e.action, note=e.note, principal_id=e.principal_id, at=e.at))
    return [
        AlertRead(
            id=a.id,
            type=a.type,
            severity=a.severity,
            region_code=a.region_code,
            subject=Subject(kind=a.subject_kind, id=a.subject_id),
            raised_at=a.raised_at,
            status=a.status,
            facts=a.facts,
            notes=notes[a.id],
        )
        for a in alerts
    ]


async def list_alerts(
    session: AsyncSession,
    *,
    principal: Principal,
    type_: str | None,
    region: str | None,
    status: str | None,
    severity: str | None,
    since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[AlertRead]:
    t = Alert.__table__.c  # type: ignore[attr-defined]
    query = select(Alert).where(t.region_code.startswith(principal.region_prefix))
    if region:
        query = query.where(t.region_code.startswith(jurisdiction_prefix(region)))
    if type_:
        query = query.where(t.type == type_)
    if status:
        query = query.where(t.status == status)
    if severity:
        query = query.where(t.severity == severity)
    if since:
        query = query.where(t.raised_at >= since)
    key = decode_cursor(cursor, 2)
    if key is not None:
        at = datetime.fromisoformat(str(key[0]))
        query = query.where(or_(t.raised_at < at, and_(t.raised_at == at, t.id < str(key[1]))))
    rows = list((await session.execute(query.order_by(t.raised_at.desc(), t.id.desc()).limit(limit + 1))).scalars())
    page = page_of(rows, limit, lambda a: [a.raised_at.isoformat(), a.id])
    return Page(items=await _read(session, page.items), next_cursor=page.next_cursor)


async def transition(
    session: AsyncSession,
    *,
    alert_id: str,
    action: Literal["acknowledged", "resolved"],
    note: str,
    principal: Principal,
) -> AlertRead:
    query = select(Alert).where(col(Alert.id) == alert_id).with_for_update()
    alert = (await session.execute(query)).scalar_one_or_none()
    if alert is None:
        raise NotFound(f"没有这条预警 / no alert {alert_id}")
    if not principal.covers(alert.region_code):
        raise NotInJurisdiction(f"预警 {alert_id} 不在管辖范围内 / alert {alert_id} is outside your jurisdiction")
    if action == "resolved" and not note.strip():
        raise ValidationProblem("处置预警必须写明说明 / resolving an alert needs a note", field="note")
    if alert.status == "resolved":
        raise Conflict(f"预警已处置 / alert {alert_id} is already resolved", code="ALERT_RESOLVED")
    if action == "acknowledged" and alert.status == "acknowledged":
        raise Conflict(f"预警已确认 / alert {alert_id} is already acknowledged", code="ALERT_ACKNOWLEDGED")
    await session.execute(update(Alert).where(col(Alert.id) == alert_id).values(status=action))
    session.add(AlertEvent(alert_id=alert_id, action=action, note=note, principal_id=principal.id))
    await session.flush()
    alert.status = action
    return (await _read(session, [alert]))[0]


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

    @router.post("/{alert_id}/acknowledge", response_model=AlertRead)
    async def acknowledge(alert_id: str, body: AlertNoteIn, session: SessionDep, principal: PrincipalDep) -> AlertRead:
        return await transition(session, alert_id=alert_id, action="acknowledged", note=body.note, principal=principal)

    @router.post("/{alert_id}/resolve", response_model=AlertRead)
    async def resolve(alert_id: str, body: AlertNoteIn, session: SessionDep, principal: PrincipalDep) -> AlertRead:
        return await transition(session, alert_id=alert_id, action="resolved", note=body.note, principal=principal)

    @router.post("/scan", response_model=ScanOut)
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
