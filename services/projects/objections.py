"""Objections (异议) to an announced project (P1): raised by a key holder or by the public page, resolved in writing.

Public objections are limited per project and minute (codes.PUBLIC_OBJECTIONS_PER_MINUTE, counted in the database
under a per-project advisory lock, so it holds across processes): the gateway forwards no client address, so a
per-IP limit cannot be enforced here.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.errors import RATE_LIMITED, Conflict, NotFound, Problem
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.projects import codes, rules
from services.projects.models import Announcement, Objection, ObjectionResolution, Project, table
from services.projects.schemas import ObjectionRead

OBJECTIONS = table(Objection)
RESOLUTIONS = table(ObjectionResolution)
PROJECTS = table(Project)


class RateLimited(Problem):
    status = 429
    code = RATE_LIMITED
    title = "Too many requests"


async def objections_of(session: AsyncSession, project_ids: Sequence[str]) -> dict[str, list[ObjectionRead]]:
    """Every objection of these projects with its resolution, oldest first."""
    out: dict[str, list[ObjectionRead]] = {}
    if not project_ids:
        return out
    o, r = OBJECTIONS.c, RESOLUTIONS.c
    query = (
        select(o.id, o.project_id, o.text, o.channel, o.raised_at, r.resolution, r.at, r.principal_id)
        .select_from(OBJECTIONS.outerjoin(RESOLUTIONS, r.objection_id == o.id))
        .where(o.project_id.in_(list(project_ids)))
        .order_by(o.raised_at, o.id)
    )
    for row in await session.execute(query):
        out.setdefault(row[1], []).append(
            ObjectionRead(
                id=row[0], project_id=row[1], text=row[2], channel=row[3], raised_at=row[4],
                status="open" if row[5] is None else "resolved",
                resolution=row[5], resolved_at=row[6], resolved_by=row[7],
            )
        )
    return out


async def open_objection_ids(session: AsyncSession, project_id: str) -> list[str]:
    o, r = OBJECTIONS.c, RESOLUTIONS.c
    query = (
        select(o.id)
        .select_from(OBJECTIONS.outerjoin(RESOLUTIONS, r.objection_id == o.id))
        .where(o.project_id == project_id, r.objection_id.is_(None))
        .order_by(o.id)
    )
    return [str(i) for i in (await session.execute(query)).scalars()]


async def _was_announced(session: AsyncSession, project_id: str) -> bool:
    return await session.get(Announcement, project_id) is not None


async def _announced_project(session: AsyncSession, project_id: str, *, public: bool) -> Project:
    """The project, locked, if it is being announced: objections are accepted then, also after the period ran.

    The public page does not learn that an unannounced project exists: for it, that is a 404.
    """
    query = select(Project).where(PROJECTS.c.id == project_id).with_for_update()
    project = (await session.execute(query)).scalar_one_or_none()
    if project is None or (public and not await _was_announced(session, project_id)):
        raise NotFound(f"没有这个项目 / no project {project_id}")
    if project.status != "announced":
        raise Conflict(
            f"项目状态为 {project.status}，不在公示中，不能提出异议 (P1) / the project is {project.status}, not "
            "announced: objections are accepted while it is announced (P1)",
            code=codes.NOT_ANNOUNCED,
            status_now=project.status,
        )
    return project


async def _check_public_rate(session: AsyncSession, project_id: str) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('objections:' || :pid))"), {"pid": project_id})
    o = OBJECTIONS.c
    recent = await session.scalar(
        select(func.count())
        .select_from(OBJECTIONS)
        .where(o.project_id == project_id, o.channel == "public")
        .where(o.raised_at > func.now() - text("interval '1 minute'"))
    )
    if (recent or 0) >= codes.PUBLIC_OBJECTIONS_PER_MINUTE:
        raise RateLimited(
            f"本项目每分钟最多受理 {codes.PUBLIC_OBJECTIONS_PER_MINUTE} 条公众异议，请稍后再试 / at most "
            f"{codes.PUBLIC_OBJECTIONS_PER_MINUTE} public objections per project per minute: retry in a minute"
        )


async def raise_objection(
    session: AsyncSession, principal: Principal, project_id: str, text_: str, *, public: bool
) -> ObjectionRead:
    project = await _announced_project(session, project_id, public=public)
    if public:
        await _check_public_rate(session, project.id)
    objection = Objection(
        id=new_id("obj"), project_id=project.id, text=text_, channel="public" if public else "principal",
        principal_id=principal.id, role=principal.role,
    )
    session.add(objection)
    await session.flush()
    return await _read_one(session, objection.id)


async def _read_one(session: AsyncSession, objection_id: str) -> ObjectionRead:
    objection = await session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(f"没有这条异议 / no objection {objection_id}")
    for item in (await objections_of(session, [objection.project_id]))[objection.project_id]:
        if item.id == objection_id:
            return item
    raise NotFound(f"没有这条异议 / no objection {objection_id}")


async def resolve_objection(
    session: AsyncSession, principal: Principal, project_id: str, objection_id: str, resolution: str
) -> ObjectionRead:
    """P1: an objection is closed by a written resolution, once; the resolution is a new row, never an edit."""
    project = (await session.execute(select(Project).where(PROJECTS.c.id == project_id))).scalar_one_or_none()
    if project is None:
        raise NotFound(f"没有这个项目 / no project {project_id}")
    rules.check_may_act_on(principal, project.county_code)
    query = select(Objection).where(OBJECTIONS.c.id == objection_id, OBJECTIONS.c.project_id == project_id)
    objection = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if objection is None:
        raise NotFound(f"项目 {project_id} 没有这条异议 / project {project_id} has no objection {objection_id}")
    if await session.get(ObjectionResolution, objection_id) is not None:
        raise Conflict(f"异议已处理 / objection {objection_id} is already resolved", code=codes.OBJECTION_RESOLVED)
    session.add(ObjectionResolution(objection_id=objection_id, resolution=resolution, principal_id=principal.id))
    await session.flush()
    return await _read_one(session, objection_id)
