"""Thin handlers of the projects API (API.md "Projects"), the public announcements and the internal API for funds."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from services.kernel.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from services.kernel.routers import internal_api_router, service_router
from services.kernel.types import RegionCode
from services.kernel.uow import BriefReadsDep, PrincipalDep, SessionDep, unaudited
from services.projects import announcements, assets, closeout, objections, repository, service
from services.projects.clients import FundsDep, GatewayDep, RegistryDep
from services.projects.rules import Category
from services.projects.schemas import (
    AcceptIn,
    AnnounceIn,
    AssetCreate,
    AssetRead,
    DividendCreate,
    DividendRead,
    NoteIn,
    ObjectionIn,
    ObjectionRead,
    ProjectCreate,
    ProjectEdit,
    ProjectInternal,
    ProjectLookup,
    ProjectLookupResult,
    ProjectRead,
    PublicAnnouncement,
    PublicObjectionRead,
    PublicProject,
    ReasonIn,
    ResolveIn,
    ReviewIn,
    RevisionRead,
)

Status = Literal[
    "draft", "submitted", "reviewed", "announced", "approved", "in_progress", "completed", "accepted", "rejected",
    "withdrawn",
]
RegionQuery = Annotated[RegionCode | None, Query(description="a region code: county, city or province")]
YearQuery = Annotated[
    int | None, Query(ge=2000, le=2100, description="the projects planned to start that year (by `start_on`)")
]

router = service_router("/projects", tags=["projects"])
public_router = service_router("/public/announcements", tags=["public announcements"])
public_projects_router = service_router("/public/projects", tags=["public money"])
internal_router = internal_api_router("/internal/projects")


@router.post("", status_code=201, response_model=ProjectRead)
async def create_project(
    body: ProjectCreate, session: SessionDep, principal: PrincipalDep, gateway: GatewayDep
) -> ProjectRead:
    return await service.create_project(session, principal, body, gateway)


@router.get("", response_model=Page[ProjectRead])
async def list_projects(
    session: SessionDep,
    principal: PrincipalDep,
    county: RegionQuery = None,
    status: Status | None = None,
    category: Category | None = None,
    year: YearQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[ProjectRead]:
    return await service.list_projects(
        session, principal, county=county, status=status, category=category, year=year, cursor=cursor, limit=limit
    )


@router.get("/{project_id}", response_model=ProjectRead)
async def get_project(project_id: str, session: SessionDep, principal: PrincipalDep) -> ProjectRead:
    project = await repository.get_project(session, principal, project_id)
    return (await service.read_projects(session, [project]))[0]


@router.post("/{project_id}/revisions", response_model=ProjectRead)
async def edit_draft(project_id: str, body: ProjectEdit, session: SessionDep, principal: PrincipalDep) -> ProjectRead:
    """P14: a draft's editable fields, whole (not its county); the version before is kept as a revision. A POST, so
    its Idempotency-Key is honoured like every other write's (an edit sent twice keeps one revision)."""
    return await service.edit_draft(session, principal, project_id, body)


@router.get("/{project_id}/revisions", response_model=list[RevisionRead])
async def list_revisions(project_id: str, session: SessionDep, principal: PrincipalDep) -> list[RevisionRead]:
    """P14: the versions of a draft before each of its edits, oldest first."""
    return await service.list_revisions(session, principal, project_id)


@router.post("/{project_id}/submit", response_model=ProjectRead)
async def submit(
    project_id: str, session: SessionDep, principal: PrincipalDep, registry: RegistryDep, brief: BriefReadsDep
) -> ProjectRead:
    return await service.submit(session, principal, project_id, registry, brief)


@router.post("/{project_id}/review", response_model=ProjectRead)
async def review(project_id: str, body: ReviewIn, session: SessionDep, principal: PrincipalDep) -> ProjectRead:
    return await service.review(session, principal, project_id, passed=body.passed, opinion=body.opinion)


@router.post("/{project_id}/announce", response_model=ProjectRead)
async def announce(project_id: str, body: AnnounceIn, session: SessionDep, principal: PrincipalDep) -> ProjectRead:
    return await service.announce(session, principal, project_id, body)


@router.post("/{project_id}/approve", response_model=ProjectRead)
async def approve(
    project_id: str, session: SessionDep, principal: PrincipalDep, body: NoteIn | None = None
) -> ProjectRead:
    return await service.approve(session, principal, project_id, note=body.note if body else "")


@router.post("/{project_id}/start", response_model=ProjectRead)
async def start(
    project_id: str, session: SessionDep, principal: PrincipalDep, body: NoteIn | None = None
) -> ProjectRead:
    return await service.simple_move(session, principal, project_id, "start", note=body.note if body else "")


@router.post("/{project_id}/complete", response_model=ProjectRead)
async def complete(
    project_id: str, session: SessionDep, principal: PrincipalDep, body: NoteIn | None = None
) -> ProjectRead:
    return await service.simple_move(session, principal, project_id, "complete", note=body.note if body else "")


@router.post("/{project_id}/accept", response_model=ProjectRead)
async def accept(project_id: str, body: AcceptIn, session: SessionDep, principal: PrincipalDep) -> ProjectRead:
    """P10: the acceptance report and the actual value of every performance target."""
    return await closeout.accept(session, principal, project_id, body)


@router.post("/{project_id}/reject", response_model=ProjectRead)
async def reject(project_id: str, body: ReasonIn, session: SessionDep, principal: PrincipalDep) -> ProjectRead:
    return await service.simple_move(session, principal, project_id, "reject", note=body.reason)


@router.post("/{project_id}/withdraw", response_model=ProjectRead)
async def withdraw(project_id: str, body: ReasonIn, session: SessionDep, principal: PrincipalDep) -> ProjectRead:
    return await service.simple_move(session, principal, project_id, "withdraw", note=body.reason)


@router.post("/{project_id}/objections", status_code=201, response_model=ObjectionRead)
async def object_to(project_id: str, body: ObjectionIn, session: SessionDep, principal: PrincipalDep) -> ObjectionRead:
    return await objections.raise_objection(session, principal, project_id, body.text, public=False)


@router.get("/{project_id}/objections", response_model=list[ObjectionRead])
async def list_objections(project_id: str, session: SessionDep, principal: PrincipalDep) -> list[ObjectionRead]:
    project = await repository.get_project(session, principal, project_id)
    return (await objections.objections_of(session, [project.id])).get(project.id, [])


@router.post("/{project_id}/objections/{objection_id}/resolve", response_model=ObjectionRead)
async def resolve_objection(
    project_id: str, objection_id: str, body: ResolveIn, session: SessionDep, principal: PrincipalDep
) -> ObjectionRead:
    return await objections.resolve_objection(session, principal, project_id, objection_id, body.resolution)


@router.post("/{project_id}/assets", status_code=201, response_model=AssetRead)
async def record_asset(project_id: str, body: AssetCreate, session: SessionDep, principal: PrincipalDep) -> AssetRead:
    return await assets.record_asset(session, principal, project_id, body)


@router.get("/{project_id}/assets", response_model=list[AssetRead])
async def list_assets(project_id: str, session: SessionDep, principal: PrincipalDep) -> list[AssetRead]:
    return await assets.list_assets(session, principal, project_id)


@router.post("/{project_id}/assets/{asset_id}/dividends", status_code=201, response_model=DividendRead)
async def record_dividend(
    project_id: str, asset_id: str, body: DividendCreate, session: SessionDep, principal: PrincipalDep,
    funds: FundsDep, brief: BriefReadsDep,
) -> DividendRead:
    """P6, P12: the dividend is paid through the funds ledger, then recorded."""
    return await assets.record_dividend(session, principal, project_id, asset_id, body, funds, brief)


@public_router.get("", response_model=Page[PublicAnnouncement])
async def list_announcements(
    session: SessionDep, county: RegionQuery = None, cursor: CursorQuery = None, limit: LimitQuery = DEFAULT_LIMIT
) -> Page[PublicAnnouncement]:
    return await announcements.list_announcements(session, county=county, cursor=cursor, limit=limit)


@public_router.get("/{project_id}", response_model=PublicAnnouncement)
async def get_announcement(project_id: str, session: SessionDep) -> PublicAnnouncement:
    return await announcements.get_announcement(session, project_id)


@public_router.post("/{project_id}/objections", status_code=201, response_model=PublicObjectionRead)
async def public_objection(
    project_id: str, body: ObjectionIn, session: SessionDep, principal: PrincipalDep
) -> PublicObjectionRead:
    objection = await objections.raise_objection(session, principal, project_id, body.text, public=True)
    return PublicObjectionRead.model_validate(objection.model_dump())


@public_projects_router.get("/{project_id}", response_model=PublicProject)
async def get_public_project(project_id: str, session: SessionDep, funds: FundsDep) -> PublicProject:
    """U2: no key needed; funds is asked first (what was arranged and paid), then the project is read."""
    money = await funds.project_money(project_id)
    return await announcements.public_project(session, project_id, money)


@internal_router.get("/{project_id}", response_model=ProjectInternal)
async def internal_project(project_id: str, session: SessionDep) -> ProjectInternal:
    return service.internal_of(await repository.load_project(session, project_id))


@internal_router.post("/lookup", response_model=ProjectLookupResult, openapi_extra=unaudited(reads_only=True))
async def internal_lookup(body: ProjectLookup, session: SessionDep) -> ProjectLookupResult:
    """Up to 1,000 projects at once, those in `region_code` (funds' plan filing, input report and its detector:
    one call per page of ids, not one per project); services only."""
    return await service.lookup(session, region_code=body.region_code, project_ids=body.project_ids)
