"""Every query of the oversight schema. Rows are only ever inserted (models.py): a move is a new event row, taken
under the case row's lock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Text, and_, cast, distinct, exists, func, insert, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import locks
from services.kernel.db import any_of
from services.kernel.models import Alert
from services.kernel.scope import within
from services.oversight.models import (
    case_accountability,
    case_alerts,
    case_events,
    cases,
    complaints,
    evidence_uploads,
)


async def lock_alerts(session: AsyncSession, refs: Sequence[tuple[str, str]]) -> None:
    """Serialise the opening of cases naming these (service, alert id) until the transaction ends, in one order
    (no deadlock), so that O2's check sees a case another request opened from one of them meanwhile."""
    for service, alert_id in sorted(set(refs)):
        key = f"oversight:alert:{service}:{alert_id}"
        await locks.hold(session, key)


async def lock_reversals(session: AsyncSession, reversal_ids: Sequence[str]) -> None:
    """Serialise the rectifications naming these reversals until the transaction ends, in one order (no deadlock),
    so that O10's one-case check sees a rectification another request made meanwhile."""
    for reversal_id in sorted(set(reversal_ids)):
        key = f"oversight:reversal:{reversal_id}"
        await locks.hold(session, key)


async def cases_naming_reversals(
    session: AsyncSession, reversal_ids: Sequence[str], *, other_than: str
) -> dict[str, str]:
    """O10: of these reversals, those a rectification of a case other than `other_than` named, with that case."""
    if not reversal_ids:
        return {}
    wanted = cast(list(reversal_ids), ARRAY(Text))
    rows = await session.execute(
        select(case_events.c.case_id, case_events.c.reversal_ids)
        .where(case_events.c.reversal_ids.overlap(wanted), case_events.c.case_id != other_than)
        .order_by(case_events.c.case_id, case_events.c.seq)
    )
    named: dict[str, str] = {}
    for row in rows:
        for reversal_id in row.reversal_ids:
            if reversal_id in reversal_ids:
                named.setdefault(reversal_id, row.case_id)
    return named


async def cases_of_alerts(session: AsyncSession, refs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The case each of these (service, alert id) is in already, if any (O2)."""
    if not refs:
        return {}
    condition = or_(*(and_(case_alerts.c.service == s, case_alerts.c.alert_id == a) for s, a in refs))
    rows = await session.execute(select(case_alerts.c.service, case_alerts.c.alert_id, case_alerts.c.case_id)
                                 .where(condition))
    return {(r.service, r.alert_id): r.case_id for r in rows}


async def insert_case(
    session: AsyncSession, case: dict[str, Any], alerts: list[dict[str, Any]], opened: dict[str, Any]
) -> None:
    await session.execute(insert(cases).values(**case))
    if alerts:
        await session.execute(insert(case_alerts).values([{**a, "case_id": case["id"]} for a in alerts]))
    await append_event(session, opened)


async def append_event(session: AsyncSession, event: dict[str, Any]) -> None:
    await session.execute(insert(case_events).values(**event))


async def insert_accountability(session: AsyncSession, record: dict[str, Any]) -> None:
    await session.execute(insert(case_accountability).values(**record))


def _made_responsible(organisation_id: str) -> ColumnElement[bool]:
    """O6: the case was ever assigned to `organisation_id` (made responsible for it)."""
    return exists().where(case_events.c.case_id == cases.c.id, case_events.c.action == "assigned",
                          case_events.c.organisation_id == organisation_id)


def _seen_by(prefix: str | None, organisation_id: str | None) -> list[ColumnElement[bool]]:
    """The cases a caller sees (O6): under the region `prefix` (an inspector's), and/or those `organisation_id` was
    made responsible for."""
    seen = [] if prefix is None else [within(cases.c.region_code, prefix)]
    return seen if organisation_id is None else [*seen, _made_responsible(organisation_id)]


async def has_case(session: AsyncSession, organisation_id: str) -> bool:
    """Whether `organisation_id` was ever made responsible for a case (it may then upload its documents, E1)."""
    query = select(exists().where(case_events.c.action == "assigned", case_events.c.organisation_id == organisation_id))
    return bool((await session.execute(query)).scalar())


async def record_upload(session: AsyncSession, sha256: str, *, organisation_id: str, principal_id: str) -> None:
    """E1: who uploaded the document `sha256` (one row per upload, whether or not the store had the bytes)."""
    await session.execute(insert(evidence_uploads).values(
        sha256=sha256, organisation_id=organisation_id, principal_id=principal_id))


async def uploaded_by(session: AsyncSession, sha256: str, *, organisation_id: str, principal_id: str) -> bool:
    """E1: whether organisation `organisation_id` uploaded the document `sha256` (with no organisation: whether
    principal `principal_id` did itself)."""
    who = (evidence_uploads.c.organisation_id == organisation_id if organisation_id
           else and_(evidence_uploads.c.organisation_id == "", evidence_uploads.c.principal_id == principal_id))
    query = select(exists().where(evidence_uploads.c.sha256 == sha256, who))
    return bool((await session.execute(query)).scalar())


async def citing(
    session: AsyncSession, sha256: str, *, prefix: str | None, organisation_id: str | None, limit: int = 50
) -> list[tuple[str, dict[str, Any]]]:
    """The cases whose moves or accountability records cite the document `sha256`, each with the reference it
    keeps of it (E1), oldest first: of those under the region `prefix` (an inspector's), or those
    `organisation_id` was made responsible for (O6), so that citations by cases the caller does not see never
    crowd out its own."""
    cited = [{"sha256": sha256}]
    visible = select(cases.c.id).where(*_seen_by(prefix, organisation_id))
    rows = await session.execute(
        select(case_events.c.case_id, case_events.c.documents, case_events.c.at)
        .where(case_events.c.documents.contains(cited), case_events.c.case_id.in_(visible))
        .union_all(select(case_accountability.c.case_id, case_accountability.c.documents, case_accountability.c.at)
                   .where(case_accountability.c.documents.contains(cited),
                          case_accountability.c.case_id.in_(visible)))
        .order_by("at").limit(limit)
    )
    return [(r.case_id, d) for r in rows for d in r.documents if d.get("sha256") == sha256][:limit]


async def find_case(session: AsyncSession, case_id: str, *, lock: bool = False) -> Row[Any] | None:
    """The case row; locked for the rest of the transaction when a move is being decided (O4)."""
    query = select(cases).where(cases.c.id == case_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def events_of(session: AsyncSession, case_ids: Sequence[str]) -> dict[str, list[Row[Any]]]:
    found: dict[str, list[Row[Any]]] = {c: [] for c in case_ids}
    if case_ids:
        rows = await session.execute(
            select(case_events).where(any_of(case_events.c.case_id, case_ids)).order_by(case_events.c.case_id,
                                                                                      case_events.c.seq)
        )
        for row in rows:
            found[row.case_id].append(row)
    return found


async def alerts_of(session: AsyncSession, case_ids: Sequence[str]) -> dict[str, list[Row[Any]]]:
    found: dict[str, list[Row[Any]]] = {c: [] for c in case_ids}
    if case_ids:
        rows = await session.execute(
            select(case_alerts).where(any_of(case_alerts.c.case_id, case_ids))
            .order_by(case_alerts.c.service, case_alerts.c.alert_id)
        )
        for row in rows:
            found[row.case_id].append(row)
    return found


async def accountability_of(session: AsyncSession, case_ids: Sequence[str]) -> dict[str, list[Row[Any]]]:
    found: dict[str, list[Row[Any]]] = {c: [] for c in case_ids}
    if case_ids:
        rows = await session.execute(
            select(case_accountability).where(any_of(case_accountability.c.case_id, case_ids))
            .order_by(case_accountability.c.id)
        )
        for row in rows:
            found[row.case_id].append(row)
    return found


async def list_cases(
    session: AsyncSession, *, prefix: str | None, organisation_id: str | None, after: str | None, limit: int
) -> list[Row[Any]]:
    """Cases newest first: those under the region `prefix` (an inspector's), or those `organisation_id` was made
    responsible for (O6)."""
    query = select(cases).where(*_seen_by(prefix, organisation_id))
    if after is not None:
        query = query.where(cases.c.id < after)
    return list((await session.execute(query.order_by(cases.c.id.desc()).limit(limit + 1))).all())


async def past_deadline(session: AsyncSession, prefix: str, as_of: date) -> list[Row[Any]]:
    """Cases under `prefix` whose latest assignment's deadline is before `as_of`, with that deadline, the
    responsible organisation and the case's state now (the CASE_OVERDUE detector decides from them)."""
    assigned = _latest_assignment()
    latest = (
        select(case_events.c.case_id, case_events.c.state)
        .distinct(case_events.c.case_id)
        .order_by(case_events.c.case_id, case_events.c.seq.desc())
        .subquery()
    )
    query = (
        select(cases, assigned.c.deadline, assigned.c.organisation_id.label("responsible"), latest.c.state)
        .join(assigned, assigned.c.case_id == cases.c.id)
        .join(latest, latest.c.case_id == cases.c.id)
        .where(within(cases.c.region_code, prefix), assigned.c.deadline < as_of)
    )
    return list((await session.execute(query)).all())


def _latest_assignment() -> Any:
    """Each case's latest assignment: its responsible organisation and deadline."""
    return (
        select(case_events.c.case_id, case_events.c.deadline, case_events.c.organisation_id)
        .where(case_events.c.action == "assigned")
        .distinct(case_events.c.case_id)
        .order_by(case_events.c.case_id, case_events.c.seq.desc())
        .subquery()
    )


async def assigned_cases_opened(session: AsyncSession, since: datetime, until: datetime) -> list[Row[Any]]:
    """Cases opened at or after `since` and before `until`, anywhere, that were assigned: each with its responsible
    organisation (`responsible`, its latest assignment's) and the types of the alerts it was opened from
    (`alert_types`), for O9's REPEATED_MISUSE."""
    assigned = _latest_assignment()
    types = (
        select(func.coalesce(func.array_agg(distinct(case_alerts.c.alert_type)), literal([], ARRAY(Text))))
        .where(case_alerts.c.case_id == cases.c.id)
        .scalar_subquery()
    )
    columns = [cases.c.id, cases.c.region_code, cases.c.complaint_ref, cases.c.at,
               assigned.c.organisation_id.label("responsible"), types.label("alert_types")]
    query = (
        select(*columns)
        .join(assigned, assigned.c.case_id == cases.c.id)
        .where(cases.c.at >= since, cases.c.at < until)
    )
    return list((await session.execute(query)).all())


async def report_cases(
    session: AsyncSession, *, prefix: str, organisation_id: str | None, since: datetime, until: datetime
) -> list[Row[Any]]:
    """O11: the cases under `prefix` opened at or after `since` and before `until`; with `organisation_id`, only
    those it was ever made responsible for (whether it is at the period's end, the service decides)."""
    query = select(cases).where(*_seen_by(prefix, organisation_id), cases.c.at >= since, cases.c.at < until)
    return list((await session.execute(query.order_by(cases.c.id))).all())
async def insert_complaint(session: AsyncSession, complaint: dict[str, Any]) -> None:
    await session.execute(insert(complaints).values(**complaint))


async def find_complaint(session: AsyncSession, complaint_id: str) -> Row[Any] | None:
    return (await session.execute(select(complaints).where(complaints.c.id == complaint_id))).first()


async def complaint_alert(session: AsyncSession, complaint_id: str, alert_type: str) -> Row[str, str, str, str] | None:
    """The alert raised for a complaint (O12): its subject is the complaint."""
    query = select(col(Alert.id), col(Alert.type), col(Alert.severity), col(Alert.region_code)).where(
        col(Alert.type) == alert_type, col(Alert.subject_kind) == "complaint", col(Alert.subject_id) == complaint_id,
    ).order_by(col(Alert.id)).limit(1)
    return (await session.execute(query)).first()
