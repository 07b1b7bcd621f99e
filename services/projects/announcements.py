"""The public announcements (公示, P1): readable without a key, and showing only what a 公示 must show.

Beneficiaries appear as a count; household ids, names and identity numbers never leave through this module.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock
from services.kernel.errors import NotFound, ValidationProblem
from services.kernel.pagination import Page, decode_cursor, page_of
from services.kernel.regions import jurisdiction_prefix
from services.projects import rules
from services.projects.models import Announcement, Objection, ObjectionResolution, Project, table
from services.projects.schemas import PublicAnnouncement, PublicPeriod

PROJECTS = table(Project)
ANNOUNCEMENTS = table(Announcement)
OBJECTIONS = table(Objection)
RESOLUTIONS = table(ObjectionResolution)


def how_to_object(project_id: str, ends_on: str) -> str:
    return (
        f"对公示内容有异议的，可在公示期内（至 {ends_on} 前）通过 POST /public/announcements/{project_id}/objections "
        f'提交书面异议 {{"text": "…"}}，无需账号 / to object, POST {{"text": "…"}} to '
        f"/public/announcements/{project_id}/objections (no key needed) during the announcement (before {ends_on})"
    )


def _query() -> Any:
    p, a, o, r = PROJECTS.c, ANNOUNCEMENTS.c, OBJECTIONS.c, RESOLUTIONS.c
    open_count = (
        select(func.count())
        .select_from(OBJECTIONS.outerjoin(RESOLUTIONS, r.objection_id == o.id))
        .where(o.project_id == p.id, r.objection_id.is_(None))
        .scalar_subquery()
    )
    return select(
        p.id, p.name, p.county_code, p.village_code, p.description, p.category, p.budget_fen, p.fund_sources,
        p.start_on, p.end_on, p.responsible_unit, func.cardinality(p.beneficiary_household_ids),
        p.benefit_mechanism, p.performance_targets, p.status,
        a.seq, a.start_on, a.days, a.scope, open_count,
    ).select_from(PROJECTS.join(ANNOUNCEMENTS, a.project_id == p.id))


def _public(row: Row[Any]) -> PublicAnnouncement:
    (pid, name, county, village, content, category, budget, sources, p_start, p_end, unit, beneficiaries,
     mechanism, targets, status, _seq, a_start, days, scope, open_objections) = tuple(row)
    ends_on = rules.announcement_ends_on(a_start, days)
    return PublicAnnouncement(
        project_id=pid, name=name, county_code=county, village_code=village, content=content, category=category,
        budget_fen=budget, fund_sources=sources, project_start_on=p_start, project_end_on=p_end,
        announcement=PublicPeriod(
            start_on=a_start, days=days, ends_on=ends_on, scope=scope, current=a_start <= clock.today() < ends_on
        ),
        responsible_unit=unit or None, beneficiary_households=int(beneficiaries or 0), benefit_mechanism=mechanism,
        performance_targets=[{"indicator": t["indicator"], "target": t["target"]} for t in targets],
        status=status, objections_open=int(open_objections or 0),
        how_to_object=how_to_object(pid, ends_on.isoformat()),
    )


async def list_announcements(
    session: AsyncSession, *, county: str | None, cursor: str | None, limit: int
) -> Page[PublicAnnouncement]:
    """Current and past announcements, newest first (keyset on the announcement's sequence)."""
    query = _query()
    seq = ANNOUNCEMENTS.c.seq
    if county:
        query = query.where(PROJECTS.c.county_code.startswith(jurisdiction_prefix(county)))
    key = decode_cursor(cursor, 1)
    if key is not None:
        if not isinstance(key[0], int):
            raise ValidationProblem("cursor 无效 / the cursor is not one this API gave out", field="cursor")
        query = query.where(seq < key[0])
    rows = list((await session.execute(query.order_by(seq.desc()).limit(limit + 1))).all())
    page = page_of(rows, limit, lambda row: [int(row[15])])
    return Page(items=[_public(row) for row in page.items], next_cursor=page.next_cursor)


async def get_announcement(session: AsyncSession, project_id: str) -> PublicAnnouncement:
    row = (await session.execute(_query().where(PROJECTS.c.id == project_id))).first()
    if row is None:
        raise NotFound(f"没有这个项目的公示 / no announcement of project {project_id}")
    return _public(row)
