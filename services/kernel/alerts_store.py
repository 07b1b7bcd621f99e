"""How a service keeps its alerts: raised once per (type, subject) while not resolved, listed inside the reader's
jurisdiction, acknowledged and resolved with a note. Every query of the alerts tables is here.

A later scan that finds an open alert again updates its facts (a loan ageing from 31 to 95 days overdue) instead
of raising a duplicate; S2: an open alert's facts only move forward in time: a scan as of an earlier day than the
alert's last one leaves it as it is (a county inspector rescanning as of 2020 cannot lower a loan's days past due).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel.alerts import AlertDraft
from services.kernel.alerts_schemas import AlertNote, AlertRead, AlertSummary, ScanOut, Subject
from services.kernel.db import any_of
from services.kernel.errors import Conflict, NotFound, ValidationProblem
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.models import Alert, AlertEvent
from services.kernel.pagination import Page, decode_cursor, page_of
from services.kernel.scope import check_covers, within_reach

UPSERT_CHUNK = 5000

# One statement per chunk: a scan over a million loans raises tens of thousands of alerts. The partial index's
# predicate is literal SQL (a bound parameter stops matching it once PostgreSQL plans the statement generically).
# A draft whose open alert already says the same (or says something newer: S2) is left out before the INSERT: the
# ON CONFLICT clause alone would still lock, and so write, every such row of a daily run; it stays for a draft an
# alert raced in between.
UPSERT_ALERTS = text(
    """
    WITH d AS (
        SELECT d.id, d.type, d.severity, d.region_code, d.subject_kind, d.subject_id, d.facts::jsonb AS facts,
               d.responsible_org
        FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[]), CAST(:severities AS text[]),
                    CAST(:regions AS text[]), CAST(:kinds AS text[]), CAST(:subjects AS text[]),
                    CAST(:facts AS text[]), CAST(:orgs AS text[]))
             AS d(id, type, severity, region_code, subject_kind, subject_id, facts, responsible_org)
    )
    INSERT INTO alerts (id, type, severity, region_code, subject_kind, subject_id, raised_at, as_of, status, facts,
                        responsible_org)
    SELECT d.id, d.type, d.severity, d.region_code, d.subject_kind, d.subject_id, :now, CAST(:as_of AS varchar),
           'open', d.facts, d.responsible_org
    FROM d
    WHERE NOT EXISTS (
        SELECT 1 FROM alerts a
        WHERE a.type = d.type AND a.subject_kind = d.subject_kind AND a.subject_id = d.subject_id
          AND a.status <> 'resolved' AND ((a.facts = d.facts AND a.responsible_org IS NOT DISTINCT FROM
                                           d.responsible_org) OR a.as_of > CAST(:as_of AS varchar)))
    ON CONFLICT (type, subject_kind, subject_id) WHERE status <> 'resolved'
    DO UPDATE SET facts = EXCLUDED.facts, severity = EXCLUDED.severity, as_of = EXCLUDED.as_of,
                  responsible_org = EXCLUDED.responsible_org
    WHERE (alerts.facts IS DISTINCT FROM EXCLUDED.facts
           OR alerts.responsible_org IS DISTINCT FROM EXCLUDED.responsible_org) AND alerts.as_of <= EXCLUDED.as_of
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
                "orgs": [d.responsible_org for d in chunk],
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


async def _read(session: AsyncSession, alerts: list[Alert]) -> list[AlertRead]:
    ids = [a.id for a in alerts]
    notes: dict[str, list[AlertNote]] = {i: [] for i in ids}
    if ids:
        events = await session.execute(
            select(AlertEvent)
            .where(any_of(col(AlertEvent.alert_id), ids), col(AlertEvent.action).in_(("acknowledged", "resolved")))
            .order_by(col(AlertEvent.id))
        )
        for e in events.scalars():
            notes[e.alert_id].append(AlertNote(action=e.action, note=e.note, principal_id=e.principal_id, at=e.at))
    return [
        AlertRead(
            id=a.id,
            type=a.type,
            severity=a.severity,
            region_code=a.region_code,
            subject=Subject(kind=a.subject_kind, id=a.subject_id, responsible_org=a.responsible_org),
            raised_at=a.raised_at,
            status=a.status,
            facts=a.facts,
            notes=notes[a.id],
        )
        for a in alerts
    ]


def _filter(
    principal: Principal,
    *,
    type_: str | None,
    region: str | None,
    status: str | None,
    severity: str | None,
    since: datetime | None,
) -> list[ColumnElement[bool]]:
    """The conditions of a filter of the alerts list, inside the reader's jurisdiction."""
    conditions = within_reach(col(Alert.region_code), principal, region)
    for column, value in ((Alert.type, type_), (Alert.status, status), (Alert.severity, severity)):
        if value:
            conditions.append(col(column) == value)
    if since:
        conditions.append(col(Alert.raised_at) >= since)
    return conditions


async def summarise_alerts(
    session: AsyncSession,
    *,
    principal: Principal,
    type_: str | None,
    region: str | None,
    status: str | None,
    severity: str | None,
    since: datetime | None,
) -> AlertSummary:
    """How many alerts the list's filter selects, by type, status and severity: one grouped count."""
    conditions = _filter(principal, type_=type_, region=region, status=status, severity=severity, since=since)
    query = (
        select(col(Alert.type), col(Alert.status), col(Alert.severity), func.count())
        .where(*conditions)
        .group_by(col(Alert.type), col(Alert.status), col(Alert.severity))
    )
    summary = AlertSummary()
    for type_name, status_name, severity_name, count in (await session.execute(query)).all():
        summary.total += count
        for counts, key in ((summary.by_type, type_name), (summary.by_status, status_name),
                            (summary.by_severity, severity_name)):
            counts[key] = counts.get(key, 0) + count
    return summary


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
    """Newest first, inside the reader's jurisdiction (a region out of its reach lists nothing)."""
    query = select(Alert).where(
        *_filter(principal, type_=type_, region=region, status=status, severity=severity, since=since)
    )
    key = decode_cursor(cursor, 2)
    if key is not None:
        at, last_id = datetime.fromisoformat(str(key[0])), str(key[1])
        query = query.where(
            or_(col(Alert.raised_at) < at, and_(col(Alert.raised_at) == at, col(Alert.id) < last_id))
        )
    newest_first = query.order_by(col(Alert.raised_at).desc(), col(Alert.id).desc()).limit(limit + 1)
    rows = list((await session.execute(newest_first)).scalars())
    page = page_of(rows, limit, lambda a: [a.raised_at.isoformat(), a.id])
    return Page(items=await _read(session, page.items), next_cursor=page.next_cursor)


async def get_alert(session: AsyncSession, alert_id: str) -> AlertRead | None:
    """One alert by id, whatever its region (the internal API answers the services, which check jurisdiction)."""
    alert = (await session.execute(select(Alert).where(col(Alert.id) == alert_id))).scalar_one_or_none()
    return None if alert is None else (await _read(session, [alert]))[0]


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
    check_covers(principal, alert.region_code, subject=f"alert {alert_id}")
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


async def open_types(session: AsyncSession, *, subject_kind: str, subject_id: str, types: Sequence[str]) -> list[str]:
    """The types among `types` of the alerts not resolved (open or acknowledged) on a subject: what a rule that
    refuses while a finding stands reads (L8, issue #18: no compensation for a loan with an open misuse alert)."""
    query = select(col(Alert.type)).distinct().where(
        col(Alert.subject_kind) == subject_kind, col(Alert.subject_id) == subject_id, col(Alert.type).in_(types),
        col(Alert.status) != "resolved",
    )
    return sorted(str(t) for t in (await session.execute(query)).scalars().all())
