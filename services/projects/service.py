"""The project lifecycle: create, read, and every transition of the state machine in rules.TRANSITIONS.

Each transition locks the project row, checks the move against the table, applies the rules of that step,
then updates the status and inserts the immutable event in the same transaction (flush only; the kernel commits).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock
from services.kernel.errors import NotFound
from services.kernel.http import ServiceClient
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.pagination import Page, decode_cursor, page_of
from services.kernel.regions import jurisdiction_prefix
from services.projects import rules
from services.projects.clients import household_counties, household_ineligibility
from services.projects.models import Announcement, Project, ProjectEvent, table
from services.projects.objections import objections_of, open_objection_ids
from services.projects.schemas import AnnounceIn, AnnouncementRead, EventRead, ProjectCreate, ProjectRead

PROJECTS = table(Project)
EVENTS = table(ProjectEvent)
ANNOUNCEMENTS = table(Announcement)


async def load_project(session: AsyncSession, project_id: str, *, for_update: bool = False) -> Project:
    query = select(Project).where(PROJECTS.c.id == project_id)
    if for_update:
        query = query.with_for_update()
    project = (await session.execute(query)).scalar_one_or_none()
    if project is None:
        raise NotFound(f"没有这个项目 / no project {project_id}")
    return project


async def project_for(
    session: AsyncSession, principal: Principal, project_id: str, *, for_update: bool = False
) -> Project:
    """The project, if it lies in the caller's jurisdiction (403 NOT_IN_JURISDICTION otherwise)."""
    project = await load_project(session, project_id, for_update=for_update)
    rules.check_may_act_on(principal, project.county_code)
    return project


async def announcement_of(session: AsyncSession, project_id: str) -> Announcement | None:
    query = select(Announcement).where(ANNOUNCEMENTS.c.project_id == project_id)
    return (await session.execute(query)).scalar_one_or_none()


def _announcement_read(row: Announcement | None) -> AnnouncementRead | None:
    if row is None:
        return None
    ends_on = rules.announcement_ends_on(row.start_on, row.days)
    return AnnouncementRead(start_on=row.start_on, days=row.days, ends_on=ends_on, scope=row.scope)


async def read_projects(session: AsyncSession, projects: list[Project]) -> list[ProjectRead]:
    """Projects with their history, announcement and objections, in three queries whatever the page size."""
    ids = [p.id for p in projects]
    history: dict[str, list[EventRead]] = {i: [] for i in ids}
    announcements: dict[str, Announcement] = {}
    if ids:
        events = await session.execute(select(ProjectEvent).where(EVENTS.c.project_id.in_(ids)).order_by(EVENTS.c.id))
        for e in events.scalars():
            history[e.project_id].append(EventRead.model_validate(e, from_attributes=True))
        rows = await session.execute(select(Announcement).where(ANNOUNCEMENTS.c.project_id.in_(ids)))
        announcements = {a.project_id: a for a in rows.scalars()}
    objections = await objections_of(session, ids)
    return [
        ProjectRead(
            **_columns(p),
            allowed_actions=rules.allowed_actions(p.status),
            announcement=_announcement_read(announcements.get(p.id)),
            history=history[p.id],
            objections=objections.get(p.id, []),
        )
        for p in projects
    ]


def _columns(project: Project) -> dict[str, Any]:
    return {c.name: getattr(project, c.name) for c in PROJECTS.columns}


async def create_project(session: AsyncSession, principal: Principal, body: ProjectCreate) -> ProjectRead:
    rules.check_may_act_on(principal, body.county_code)
    project = Project(
        id=new_id("prj"),
        **body.model_dump(exclude={"performance_targets", "fund_sources", "responsible_unit"}),
        performance_targets=[t.model_dump() for t in body.performance_targets],
        fund_sources=[s.model_dump() for s in body.fund_sources],
        # the owner unit as the manager records it, or none: never the name of the key that posted it (A5)
        responsible_unit=body.responsible_unit or "",
        status="draft",
        created_by=principal.id,
    )
    session.add(project)
    session.add(
        ProjectEvent(
            project_id=project.id, action="create", from_status=None, to_status="draft",
            principal_id=principal.id, role=principal.role, note="",
        )
    )
    await session.flush()
    await session.refresh(project)
    return (await read_projects(session, [project]))[0]


async def list_projects(
    session: AsyncSession,
    principal: Principal,
    *,
    county: str | None,
    status: str | None,
    category: str | None,
    cursor: str | None,
    limit: int,
) -> Page[ProjectRead]:
    c = PROJECTS.c
    query = select(Project).where(c.county_code.startswith(principal.region_prefix))
    if county:
        rules.check_may_act_on(principal, county)
        query = query.where(c.county_code.startswith(jurisdiction_prefix(county)))
    if status:
        query = query.where(c.status == status)
    if category:
        query = query.where(c.category == category)
    key = decode_cursor(cursor, 1)
    if key is not None:
        query = query.where(c.id < str(key[0]))
    rows = list((await session.execute(query.order_by(c.id.desc()).limit(limit + 1))).scalars())
    page = page_of(rows, limit, lambda p: [p.id])
    return Page(items=await read_projects(session, page.items), next_cursor=page.next_cursor)


async def _move(
    session: AsyncSession, project: Project, action: str, principal: Principal, *, note: str = "", to: str = ""
) -> ProjectRead:
    """Record one transition: the status column and the immutable event, in the caller's transaction."""
    target = to or rules.next_status(project.status, action)
    # The row is locked (FOR UPDATE) since it was loaded, so the status it had is the status it has.
    await session.execute(
        update(PROJECTS)
        .where(and_(PROJECTS.c.id == project.id, PROJECTS.c.status == project.status))
        .values(status=target)
    )
    session.add(
        ProjectEvent(
            project_id=project.id, action=action, from_status=project.status, to_status=target,
            principal_id=principal.id, role=principal.role, note=note,
        )
    )
    await session.flush()
    project.status = target
    return (await read_projects(session, [project]))[0]


async def submit(session: AsyncSession, principal: Principal, project_id: str, registry: ServiceClient) -> ProjectRead:
    """draft → submitted, if P4, P7 and P3 hold (P3 asks the registry; the registry down → 503, nothing changes)."""
    project = await project_for(session, principal, project_id, for_update=True)
    rules.next_status(project.status, "submit")
    rules.check_category_not_on_negative_list(project.category)
    rules.check_has_performance_targets(project.performance_targets)
    beneficiaries = list(project.beneficiary_household_ids)
    reasons: dict[str, list[str]] = {}
    if beneficiaries:
        judged = await household_ineligibility(registry, beneficiaries)
        counties = await household_counties(registry, beneficiaries)
        reasons = rules.reasons_in_county(judged, counties, project.county_code)
    rules.check_poor_beneficiaries(beneficiaries, reasons)
    return await _move(session, project, "submit", principal)


async def review(
    session: AsyncSession, principal: Principal, project_id: str, *, passed: bool, opinion: str
) -> ProjectRead:
    project = await project_for(session, principal, project_id, for_update=True)
    target = rules.next_status(project.status, "review")
    if not passed:
        target = rules.REVIEW_FAILED_STATUS
    return await _move(session, project, "review", principal, note=opinion, to=target)


async def announce(session: AsyncSession, principal: Principal, project_id: str, body: AnnounceIn) -> ProjectRead:
    """reviewed → announced (P1: at least 10 days); the announcement becomes public at once."""
    project = await project_for(session, principal, project_id, for_update=True)
    rules.next_status(project.status, "announce")
    rules.check_announcement_days(body.days)
    session.add(
        Announcement(
            project_id=project.id, start_on=body.start_on, days=body.days, scope=body.scope, principal_id=principal.id
        )
    )
    note = f"start_on={body.start_on.isoformat()} days={body.days} scope={body.scope}"
    return await _move(session, project, "announce", principal, note=note)


async def approve(session: AsyncSession, principal: Principal, project_id: str, *, note: str = "") -> ProjectRead:
    """announced → approved (入库): P2 the county's own manager, P1 the period has run and no objection is open."""
    project = await load_project(session, project_id, for_update=True)
    rules.check_may_approve(principal, project.county_code)
    rules.next_status(project.status, "approve")
    announcement = await announcement_of(session, project.id)
    if announcement is None:  # cannot happen through the state machine; refuse rather than approve unannounced
        rules.check_announcement_days(0)
    else:
        rules.check_announcement_ended(announcement.start_on, announcement.days, clock.today())
    rules.check_no_open_objections(await open_objection_ids(session, project.id))
    return await _move(session, project, "approve", principal, note=note)


async def simple_move(
    session: AsyncSession, principal: Principal, project_id: str, action: str, *, note: str = ""
) -> ProjectRead:
    """start, complete, accept, reject, withdraw: moves with no rule beyond the table and the jurisdiction."""
    project = await project_for(session, principal, project_id, for_update=True)
    return await _move(session, project, action, principal, note=note)
