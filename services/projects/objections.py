"""Objections (异议) to an announced project (P1): raised by a key holder or by the public page, resolved in writing.

S8: P1 is public supervision, so no one source may lock the public out of objecting, nor keep a project from approval
for ever by flooding it. A key holder has at most codes.OPEN_OBJECTIONS_PER_PRINCIPAL open objections to a project
(429 OBJECTION_LIMIT beyond, until they are answered). The public is never refused here (the gateway limits what each
address may post; the service sees no address, so a per-project cap would be one that a single flood fills for
everyone): every public objection is recorded and published, and the first codes.PUBLIC_BLOCKING public objections of
the project, by the order they were raised, block its approval until answered in writing; the later ones do not.
The project's row lock orders the objections to one project, so each check holds across processes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Subquery, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.errors import Conflict, NotFound, Problem
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.projects import codes, rules
from services.projects.models import Announcement, Objection, ObjectionResolution, Project, table
from services.projects.schemas import ObjectionRead

OBJECTIONS = table(Objection)
RESOLUTIONS = table(ObjectionResolution)
PROJECTS = table(Project)


class ObjectionLimit(Problem):
    status = 429
    code = codes.OBJECTION_LIMIT
    title = "Too many open objections"


def _ranked(project_ids: Sequence[str]) -> Subquery:
    """The objections of these projects, each with whether it blocks approval (S8): every key holder's, and the first
    codes.PUBLIC_BLOCKING of the public's."""
    o = OBJECTIONS.c
    rank = func.row_number().over(partition_by=(o.project_id, o.channel), order_by=(o.raised_at, o.id))
    return (
        select(o.id, o.project_id, o.text, o.channel, o.raised_at, o.principal_id,
               ((o.channel != "public") | (rank <= codes.PUBLIC_BLOCKING)).label("blocks"))
        .where(o.project_id.in_(list(project_ids)))
        .subquery()
    )


async def objections_of(session: AsyncSession, project_ids: Sequence[str]) -> dict[str, list[ObjectionRead]]:
    """Every objection of these projects with its resolution, oldest first."""
    out: dict[str, list[ObjectionRead]] = {}
    if not project_ids:
        return out
    ranked = _ranked(project_ids)
    o, r = ranked.c, RESOLUTIONS.c
    query = (
        select(o.id, o.project_id, o.text, o.channel, o.raised_at, r.resolution, r.at, r.principal_id, o.blocks)
        .select_from(ranked.outerjoin(RESOLUTIONS, r.objection_id == o.id))
        .order_by(o.raised_at, o.id)
    )
    for row in await session.execute(query):
        out.setdefault(row[1], []).append(
            ObjectionRead(
                id=row[0], project_id=row[1], text=row[2], channel=row[3], raised_at=row[4],
                status="open" if row[5] is None else "resolved",
                resolution=row[5], resolved_at=row[6], resolved_by=row[7], blocks_approval=row[8],
            )
        )
    return out


async def open_objection_ids(session: AsyncSession, project_id: str) -> list[str]:
    """The open objections that block approval (P1, S8)."""
    ranked = _ranked([project_id])
    o, r = ranked.c, RESOLUTIONS.c
    query = (
        select(o.id)
        .select_from(ranked.outerjoin(RESOLUTIONS, r.objection_id == o.id))
        .where(r.objection_id.is_(None), o.blocks)
        .order_by(o.id)
    )
    return [str(i) for i in (await session.execute(query)).scalars()]


async def _was_announced(session: AsyncSession, project_id: str) -> bool:
    return await session.get(Announcement, project_id) is not None


async def _announced_project(
    session: AsyncSession, principal: Principal, project_id: str, *, public: bool
) -> Project:
    """The project, locked, if it is being announced: objections are accepted then, also after the period ran.

    Neither the public page nor a key holder of another county learns that a never announced project exists (A5):
    for them, that is a 404; an announced project's status is public (the announcement shows it).
    """
    query = select(Project).where(PROJECTS.c.id == project_id).with_for_update()
    project = (await session.execute(query)).scalar_one_or_none()
    outsider = public or project is None or not principal.covers(project.county_code)
    if project is None or (outsider and not await _was_announced(session, project_id)):
        raise NotFound(f"没有这个项目 / no project {project_id}")
    if project.status != "announced":
        raise Conflict(
            f"项目状态为 {project.status}，不在公示中，不能提出异议 (P1) / the project is {project.status}, not "
            "announced: objections are accepted while it is announced (P1)",
            code=codes.NOT_ANNOUNCED,
            status_now=project.status,
        )
    return project


async def _check_principal_limit(session: AsyncSession, principal: Principal, project_id: str) -> None:
    """S8: a key holder's open objections to one project stay few; one key cannot flood a project's approval."""
    o, r = OBJECTIONS.c, RESOLUTIONS.c
    mine = await session.scalar(
        select(func.count())
        .select_from(OBJECTIONS.outerjoin(RESOLUTIONS, r.objection_id == o.id))
        .where(o.project_id == project_id, o.principal_id == principal.id, o.channel == "principal",
               r.objection_id.is_(None))
    )
    if (mine or 0) >= codes.OPEN_OBJECTIONS_PER_PRINCIPAL:
        raise ObjectionLimit(
            f"您对该项目已有 {mine} 条异议尚未答复，答复前不能再提出 (S8) / you have {mine} open objections to this "
            f"project (at most {codes.OPEN_OBJECTIONS_PER_PRINCIPAL}): wait until they are answered (S8)",
            rule=codes.S8, open_objections=int(mine or 0),
        )


async def raise_objection(
    session: AsyncSession, principal: Principal, project_id: str, text_: str, *, public: bool
) -> ObjectionRead:
    project = await _announced_project(session, principal, project_id, public=public)
    # S8: the channel is who objects, not the route: a key sent to the public page objects as its principal, under
    # the per-principal limit, and takes none of the public's blocking places.
    keyless = principal.role == "public"
    if not keyless:
        await _check_principal_limit(session, principal, project.id)
    objection = Objection(
        id=new_id("obj"), project_id=project.id, text=text_, channel="public" if keyless else "principal",
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
