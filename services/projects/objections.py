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

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.projects import codes, problems, repository
from services.projects.models import Objection, ObjectionResolution, Project
from services.projects.schemas import ObjectionRead


async def objections_of(session: AsyncSession, project_ids: Sequence[str]) -> dict[str, list[ObjectionRead]]:
    """Every objection of these projects with its resolution, oldest first."""
    out: dict[str, list[ObjectionRead]] = {}
    if not project_ids:
        return out
    for row in await repository.objection_rows(session, project_ids):
        out.setdefault(row[1], []).append(
            ObjectionRead(
                id=row[0], project_id=row[1], text=row[2], channel=row[3], raised_at=row[4],
                status="open" if row[5] is None else "resolved",
                resolution=row[5], resolved_at=row[6], resolved_by=row[7], blocks_approval=row[8],
            )
        )
    return out


async def _announced_project(
    session: AsyncSession, principal: Principal, project_id: str, *, public: bool
) -> Project:
    """The project, locked, if it is being announced: objections are accepted then, also after the period ran.

    Neither the public page nor a key holder of another county learns that a never announced project exists (A5):
    for them, that is a 404; an announced project's status is public (the announcement shows it).
    """
    project = await repository.find_project(session, project_id, for_update=True)
    outsider = public or project is None or not principal.covers(project.county_code)
    if project is None or (
        outsider and await repository.announcement_of(session, project.county_code, project_id) is None
    ):
        raise problems.project_not_found(project_id)
    if project.status != "announced":
        raise problems.not_announced(project.status)
    return project


async def _check_principal_limit(session: AsyncSession, principal: Principal, project_id: str) -> None:
    """S8: a key holder's open objections to one project stay few; one key cannot flood a project's approval."""
    mine = await repository.open_objections_of_principal(session, project_id, principal.id)
    if mine >= codes.OPEN_OBJECTIONS_PER_PRINCIPAL:
        raise problems.objection_limit(mine)


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
        id=new_id("obj"), project_id=project.id, county_code=project.county_code, text=text_,
        channel="public" if keyless else "principal",
        principal_id=principal.id, role=principal.role,
    )
    await repository.add(session, objection)
    return await _read_one(session, project.county_code, objection.id)


async def _read_one(session: AsyncSession, county_code: str, objection_id: str) -> ObjectionRead:
    objection = await repository.find_objection(session, county_code, objection_id)
    if objection is None:
        raise problems.objection_not_found(objection_id)
    for item in (await objections_of(session, [objection.project_id]))[objection.project_id]:
        if item.id == objection_id:
            return item
    raise problems.objection_not_found(objection_id)


async def resolve_objection(
    session: AsyncSession, principal: Principal, project_id: str, objection_id: str, resolution: str
) -> ObjectionRead:
    """P1: an objection is closed by a written resolution, once; the resolution is a new row, never an edit."""
    await repository.get_project(session, principal, project_id)
    objection = await repository.objection_of_project(session, project_id, objection_id, for_update=True)
    if objection is None:
        raise problems.objection_not_found(objection_id, project_id)
    if await repository.resolution_of(session, objection.county_code, objection_id) is not None:
        raise problems.objection_resolved(objection_id)
    resolved = ObjectionResolution(objection_id=objection_id, county_code=objection.county_code,
                                   resolution=resolution, principal_id=principal.id)
    await repository.add(session, resolved)
    return await _read_one(session, objection.county_code, objection_id)
