"""The project lifecycle: create, read, and every transition of the state machine in rules.TRANSITIONS.

Each transition locks the project row, checks the move against the table, applies the rules of that step,
then updates the status and inserts the immutable event in the same transaction (flush only; the kernel commits).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.pagination import Page, decode_cursor, page_of
from services.kernel.regions import jurisdiction_prefix
from services.kernel.scope import check_covers, scope_prefix
from services.kernel.uow import BriefReads
from services.projects import problems, repository, rules
from services.projects.clients import Gateway, Registry
from services.projects.models import Announcement, Project, ProjectEvent, ProjectRevision
from services.projects.objections import objections_of
from services.projects.schemas import (
    AnnounceIn,
    AnnouncementRead,
    EventRead,
    EvidenceRead,
    ProjectCreate,
    ProjectEdit,
    ProjectInternal,
    ProjectLookupResult,
    ProjectRead,
    RevisionRead,
)


def _announcement_read(row: Announcement | None) -> AnnouncementRead | None:
    if row is None:
        return None
    ends_on = rules.announcement_ends_on(row.start_on, row.days)
    evidence = None
    if row.evidence_posted_by is not None and row.evidence_photo_sha256 is not None:
        evidence = EvidenceRead(posted_by=row.evidence_posted_by, photo_sha256=row.evidence_photo_sha256)
    recorded_on = row.at.astimezone(clock.CHINA).date() if row.at is not None else None
    return AnnouncementRead(start_on=row.start_on, days=row.days, ends_on=ends_on, scope=row.scope,
                            recorded_on=recorded_on, evidence=evidence)


async def read_projects(session: AsyncSession, projects: list[Project]) -> list[ProjectRead]:
    """Projects with their history, announcement and objections, in three queries whatever the page size."""
    ids = [p.id for p in projects]
    history: dict[str, list[EventRead]] = {i: [] for i in ids}
    announcements: dict[str, Announcement] = {}
    if ids:
        for e in await repository.events_of(session, ids):
            history[e.project_id].append(EventRead.model_validate(e, from_attributes=True))
        announcements = {a.project_id: a for a in await repository.announcements_of(
            session, ids, counties=[p.county_code for p in projects])}
    objections = await objections_of(session, ids)
    return [
        ProjectRead(
            **p.model_dump(),
            allowed_actions=rules.allowed_actions(p.status),
            announcement=_announcement_read(announcements.get(p.id)),
            history=history[p.id],
            objections=objections.get(p.id, []),
        )
        for p in projects
    ]


async def create_project(
    session: AsyncSession, principal: Principal, body: ProjectCreate, gateway: Gateway
) -> ProjectRead:
    """A draft project. The owner unit it names (`owner_org`) is asked of the gateway before the first statement
    (kernel: ask first, then write) and answers for it (O13); a refusal writes nothing."""
    check_covers(principal, body.county_code, subject="project")
    owner_org = None
    if body.owner_org is not None:
        found = await gateway.organisation(body.owner_org)
        owner_org = rules.check_owner_org(body.owner_org, found, body.county_code)
    recorded_by_org = principal.organisation
    project = Project(
        id=new_id("prj"),
        **body.model_dump(exclude={"performance_targets", "fund_sources", "responsible_unit", "owner_org"}),
        performance_targets=[t.model_dump() for t in body.performance_targets],
        fund_sources=[s.model_dump() for s in body.fund_sources],
        # the owner unit as the manager records it, or none: never the name of the key that posted it (A5)
        responsible_unit=body.responsible_unit or "",
        status="draft",
        created_by=principal.id,
        recorded_by_org=recorded_by_org,
        responsible_org=rules.responsible_org(recorded_by_org=recorded_by_org, owner_org=owner_org),
    )
    event = ProjectEvent(
        project_id=project.id, county_code=project.county_code, action="create", from_status=None, to_status="draft",
        principal_id=principal.id, role=principal.role, note="",
    )
    await repository.add_project(session, project, event)
    return (await read_projects(session, [project]))[0]


async def edit_draft(session: AsyncSession, principal: Principal, project_id: str, body: ProjectEdit) -> ProjectRead:
    """P14: a draft's editable fields replaced, by whoever may submit it (the county's project manager); the version
    before is kept as the next revision, in the same transaction. Any other status: 409 NOT_A_DRAFT. The row is
    locked first, so a submit racing the edit is serialised with it: one of them sees the other's outcome."""
    project = await repository.get_project(session, principal, project_id, for_update=True)
    rules.check_is_draft(project.status)
    if not body.village_code.startswith(project.county_code):
        raise problems.village_not_in_county(project.county_code)
    values = body.stored()
    previous = project.model_dump(mode="json", include=set(values))
    revision = ProjectRevision(
        county_code=project.county_code, project_id=project.id,
        revision=await repository.last_revision(session, project.id) + 1,
        previous=previous, principal_id=principal.id,
    )
    if not await repository.edit_draft(session, project, values, revision):
        raise problems.not_a_draft(project.status)  # cannot happen under the lock; refuse rather than half-write
    return (await read_projects(session, [project]))[0]


async def list_revisions(session: AsyncSession, principal: Principal, project_id: str) -> list[RevisionRead]:
    project = await repository.get_project(session, principal, project_id)
    rows = await repository.revisions_of(session, project)
    return [RevisionRead.model_validate(r, from_attributes=True) for r in rows]


async def list_projects(
    session: AsyncSession,
    principal: Principal,
    *,
    county: str | None,
    status: str | None,
    category: str | None,
    cursor: str | None,
    limit: int,
    year: int | None = None,
) -> Page[ProjectRead]:
    key = decode_cursor(cursor, 1)
    rows = await repository.project_page(
        session, prefix=scope_prefix(principal, county or None, field="county"), status=status, category=category,
        year=year, after=str(key[0]) if key is not None else None, limit=limit,
    )
    page = page_of(rows, limit, lambda p: [p.id])
    return Page(items=await read_projects(session, page.items), next_cursor=page.next_cursor)


async def _move(
    session: AsyncSession, project: Project, action: str, principal: Principal, *, note: str = "", to: str = ""
) -> ProjectRead:
    """Record one transition: the status column and the immutable event, in the caller's transaction."""
    target = to or rules.next_status(project.status, action)
    event = ProjectEvent(
        project_id=project.id, county_code=project.county_code, action=action, from_status=project.status,
        to_status=target, principal_id=principal.id, role=principal.role, note=note,
    )
    await repository.set_status(session, project, target)
    await repository.add(session, event)
    project.status = target
    return (await read_projects(session, [project]))[0]


async def submit(
    session: AsyncSession, principal: Principal, project_id: str, registry: Registry, brief: BriefReads
) -> ProjectRead:
    """draft → submitted, if P4, P7 and P3 hold (P3 asks the registry; the registry down → 503, nothing changes).

    Ask first, then write (issue #14): the draft is read in a brief session of its own, whose connection is given
    back before the registry is asked; then the project is locked and checked again (another request may have moved
    it meanwhile; its beneficiaries are never changed, so the registry's answer still holds for them)."""
    async with brief() as reading:
        draft = await repository.get_project(reading, principal, project_id)
        _check_submittable(draft)
        beneficiaries, county_code = list(draft.beneficiary_household_ids), draft.county_code
    reasons: dict[str, list[str]] = {}
    if beneficiaries:
        judged = await registry.ineligibility(beneficiaries)
        counties = await registry.counties(beneficiaries)
        reasons = rules.reasons_in_county(judged, counties, county_code)
    project = await repository.get_project(session, principal, project_id, for_update=True)
    _check_submittable(project)
    rules.check_poor_beneficiaries(list(project.beneficiary_household_ids), reasons)
    return await _move(session, project, "submit", principal)


def _check_submittable(project: Project) -> None:
    rules.next_status(project.status, "submit")
    rules.check_category_not_on_negative_list(project.category)
    rules.check_has_performance_targets(project.performance_targets)


async def review(
    session: AsyncSession, principal: Principal, project_id: str, *, passed: bool, opinion: str
) -> ProjectRead:
    project = await repository.get_project(session, principal, project_id, for_update=True)
    target = rules.next_status(project.status, "review")
    if not passed:
        target = rules.REVIEW_FAILED_STATUS
    return await _move(session, project, "review", principal, note=opinion, to=target)


async def announce(session: AsyncSession, principal: Principal, project_id: str, body: AnnounceIn) -> ProjectRead:
    """reviewed → announced (P1: at least 10 days); the announcement becomes public at once. P13: recorded more
    than 3 days after its start, it names the evidence of its posting."""
    project = await repository.get_project(session, principal, project_id, for_update=True)
    rules.next_status(project.status, "announce")
    rules.check_announcement_days(body.days)
    rules.check_backdated_evidence(body.start_on, clock.today(), has_evidence=body.evidence is not None)
    evidence = body.evidence
    announcement = Announcement(
        project_id=project.id, county_code=project.county_code, start_on=body.start_on, days=body.days,
        scope=body.scope, principal_id=principal.id,
        evidence_posted_by=evidence.posted_by if evidence else None,
        evidence_photo_sha256=evidence.photo_sha256 if evidence else None,
    )
    await repository.add(session, announcement)
    note = f"start_on={body.start_on.isoformat()} days={body.days} scope={body.scope}"
    return await _move(session, project, "announce", principal, note=note)


async def approve(session: AsyncSession, principal: Principal, project_id: str, *, note: str = "") -> ProjectRead:
    """announced → approved (入库): P2 the county's own manager, P1 the period has run and no objection is open."""
    project = await repository.load_project(session, project_id, for_update=True)
    rules.check_may_approve(principal, project.county_code)
    rules.next_status(project.status, "approve")
    announcement = await repository.announcement_of(session, project.county_code, project.id)
    if announcement is None:  # cannot happen through the state machine; refuse rather than approve unannounced
        rules.check_announcement_days(0)
    else:
        rules.check_announcement_ended(announcement.start_on, announcement.days, clock.today())
    rules.check_no_open_objections(await repository.open_objection_ids(session, project.id))
    return await _move(session, project, "approve", principal, note=note)


async def simple_move(
    session: AsyncSession, principal: Principal, project_id: str, action: str, *, note: str = ""
) -> ProjectRead:
    """start, complete, accept, reject, withdraw: moves with no rule beyond the table and the jurisdiction."""
    project = await repository.get_project(session, principal, project_id, for_update=True)
    return await _move(session, project, action, principal, note=note)


def internal_of(project: Project | Row[Any]) -> ProjectInternal:
    """What funds needs of a project (GET /internal/projects/{id} and the batch lookup)."""
    return ProjectInternal(
        id=project.id, county_code=project.county_code, village_code=project.village_code, name=project.name,
        category=project.category, status=project.status, budget_fen=project.budget_fen,
        negative_list=rules.on_negative_list(project.category),
    )


async def lookup(session: AsyncSession, *, region_code: str, project_ids: list[str]) -> ProjectLookupResult:
    """Funds' batch question: the projects among `project_ids` in `region_code`, in the order asked; the others
    `missing`. The internal API answers services only (S1, kernel/app.py `internal_api_router`)."""
    wanted = list(dict.fromkeys(project_ids))
    found = {str(p.id): p for p in await repository.projects_by_ids(session, wanted,
                                                                    prefix=jurisdiction_prefix(region_code))}
    return ProjectLookupResult(items=[internal_of(found[i]) for i in wanted if i in found],
                               missing=[i for i in wanted if i not in found])
