"""Every query of the projects service, and the only module that names its tables.

A project is the entity everything else hangs on (its history, announcement, objections, assets), so jurisdiction
is applied in one place: `get_project` (404, then the principal must cover its county: kernel/scope.check_covers)
for one project, and `projects_within` (kernel/scope.within) for any list of them. Columns are named one way,
`col(Model.field)`. The repository reads and writes; the rules stay in rules.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Select, Subquery, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from services.kernel.db import any_of
from services.kernel.identity import Principal
from services.kernel.scope import check_covers, within
from services.projects import codes, problems
from services.projects.models import (
    AcceptanceResult,
    Announcement,
    Asset,
    AssetHandover,
    AssetShare,
    Contract,
    Dividend,
    DividendPayout,
    Objection,
    ObjectionResolution,
    Project,
    ProjectEvent,
    ProjectRevision,
    TenderThreshold,
)

Record = Row[*tuple[Any, ...]]  # a row of a statement of columns (read by name or position)
# Refused and withdrawn projects spend nothing: they cannot duplicate anything (P5).
DEAD_STATUSES = ("rejected", "withdrawn")


async def add(session: AsyncSession, *records: SQLModel) -> None:
    """Record new rows (nothing recorded is edited, but a project's status column: `set_status`)."""
    session.add_all(records)
    await session.flush()


# -------------------------------------------------------------------------------------------------------- projects


async def add_project(session: AsyncSession, project: Project, created: ProjectEvent) -> None:
    """A new project and the event of its creation; read back for the columns the database fills in."""
    await add(session, project, created)
    await session.refresh(project)


async def find_project(session: AsyncSession, project_id: str, *, for_update: bool = False) -> Project | None:
    """The project whoever asks (the internal API, P2's approval, the public objection page), or None."""
    query = select(Project).where(col(Project.id) == project_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def load_project(session: AsyncSession, project_id: str, *, for_update: bool = False) -> Project:
    project = await find_project(session, project_id, for_update=for_update)
    if project is None:
        raise problems.project_not_found(project_id)
    return project


async def get_project(
    session: AsyncSession, principal: Principal, project_id: str, *, for_update: bool = False
) -> Project:
    """The project, if it lies in the caller's jurisdiction: 404 when there is none, 403 NOT_IN_JURISDICTION when
    it lies outside (naming nothing of it, A5)."""
    project = await load_project(session, project_id, for_update=for_update)
    check_covers(principal, project.county_code, subject="project")
    return project


def projects_within(prefix: str) -> Select[Project]:
    """The projects whose county lies under a region prefix: every list of projects starts here."""
    return select(Project).where(within(col(Project.county_code), prefix))


async def project_page(
    session: AsyncSession, *, prefix: str, status: str | None, category: str | None, after: str | None, limit: int,
    year: int | None = None,
) -> list[Project]:
    """A keyset page (newest id first, limit + 1 rows) of the projects under `prefix` (planned to start in `year`)."""
    query = projects_within(prefix)
    if status:
        query = query.where(col(Project.status) == status)
    if category:
        query = query.where(col(Project.category) == category)
    if year is not None:
        query = query.where(col(Project.start_on) >= date(year, 1, 1), col(Project.start_on) < date(year + 1, 1, 1))
    if after is not None:
        query = query.where(col(Project.id) < after)
    return list((await session.execute(query.order_by(col(Project.id).desc()).limit(limit + 1))).scalars())


async def set_status(session: AsyncSession, project: Project, target: str) -> None:
    """Move the project's status column; the row is locked (FOR UPDATE) since it was loaded, so the status it had
    is the status it has. The transition itself is recorded as an immutable ProjectEvent beside it."""
    await session.execute(
        update(Project)
        .where(col(Project.id) == project.id, col(Project.status) == project.status)
        .values(status=target)
    )


async def edit_draft(
    session: AsyncSession, project: Project, values: dict[str, Any], revision: ProjectRevision
) -> bool:
    """P14: the draft's editable fields, and the revision keeping the version before, in the caller's transaction.
    The row is locked (FOR UPDATE) since it was loaded, and the UPDATE is guarded again in SQL (still a draft): when
    it matches no row nothing is written and the answer is False. The loaded `project` is read again after it."""
    result = await session.execute(
        update(Project)
        .where(col(Project.id) == project.id, col(Project.status) == "draft")
        .values(**values)
        .returning(col(Project.id))
    )
    if result.scalar_one_or_none() is None:
        return False
    await add(session, revision)
    await session.refresh(project)
    return True


async def last_revision(session: AsyncSession, project_id: str) -> int:
    """The number of the project's last revision, 0 before the first (read under the project's row lock)."""
    query = select(func.coalesce(func.max(col(ProjectRevision.revision)), 0)).where(
        col(ProjectRevision.project_id) == project_id
    )
    return int((await session.execute(query)).scalar_one())


async def revisions_of(session: AsyncSession, project: Project) -> Sequence[ProjectRevision]:
    query = (
        select(ProjectRevision)
        .where(col(ProjectRevision.county_code) == project.county_code, col(ProjectRevision.project_id) == project.id)
        .order_by(col(ProjectRevision.revision))
    )
    return (await session.execute(query)).scalars().all()


async def events_of(session: AsyncSession, project_ids: Sequence[str]) -> Sequence[ProjectEvent]:
    query = select(ProjectEvent).where(any_of(col(ProjectEvent.project_id), project_ids)).order_by(col(ProjectEvent.id))
    return (await session.execute(query)).scalars().all()


async def announcements_of(
    session: AsyncSession, project_ids: Sequence[str], *, counties: Sequence[str]
) -> Sequence[Announcement]:
    """The announcements of these projects (of these counties: the key's first column)."""
    query = select(Announcement).where(any_of(col(Announcement.county_code), sorted(set(counties))),
                                       any_of(col(Announcement.project_id), project_ids))
    return (await session.execute(query)).scalars().all()


async def announcement_of(session: AsyncSession, county_code: str, project_id: str) -> Announcement | None:
    """The project's announcement, by its key (the project's county, its id)."""
    return await session.get(Announcement, (county_code, project_id))


async def duplicate_candidates(session: AsyncSession, *, known_before: datetime, prefix: str) -> list[Project]:
    """P5: live projects that share a (village, category) with another live project, known before a moment, under
    the scan's region prefix (S2: both projects of a pair lie in one village)."""
    live = (
        col(Project.status).not_in(DEAD_STATUSES),
        col(Project.created_at) < known_before,
        within(col(Project.village_code), prefix),
    )
    village, category = col(Project.village_code), col(Project.category)
    groups = select(village, category).where(*live).group_by(village, category).having(func.count() > 1).subquery()
    query = (
        select(Project)
        .join(groups, (groups.c.village_code == village) & (groups.c.category == category))
        .where(*live)
        .order_by(village, category, col(Project.id))
    )
    return list((await session.execute(query)).scalars())


async def backdated_announcements(session: AsyncSession, *, recorded_before: datetime, prefix: str,
                                  grace_days: int) -> list[Record]:
    """P13: the announcements recorded before a moment, more than `grace_days` days (in China) after their stated
    start, of the projects under the scan's region prefix, with their project's county and responsible org."""
    recorded_on = func.date(func.timezone("Asia/Shanghai", col(Announcement.at)))
    query = (
        select(col(Announcement.project_id), col(Project.county_code), col(Project.responsible_org),
               col(Announcement.start_on), recorded_on.label("recorded_on"), col(Announcement.evidence_posted_by),
               col(Announcement.evidence_photo_sha256))
        .join(Project, (col(Project.county_code) == col(Announcement.county_code))
              & (col(Project.id) == col(Announcement.project_id)))
        .where(col(Announcement.at) < recorded_before, within(col(Project.county_code), prefix),
               recorded_on - col(Announcement.start_on) > grace_days)
        .order_by(col(Announcement.seq))
    )
    return list(await session.execute(query))


# ---------------------------------------------------------------------------------------------- public announcements


def _announcements() -> Select[Any]:
    """The public columns of announced projects (公示): beneficiaries only as a count, and the objections open."""
    open_count = (
        select(func.count())
        .select_from(Objection)
        .outerjoin(ObjectionResolution, _resolution_of(col(Objection.county_code), col(Objection.id)))
        .where(col(Objection.county_code) == col(Project.county_code), col(Objection.project_id) == col(Project.id),
               col(ObjectionResolution.objection_id).is_(None))
        .scalar_subquery()
    )
    return (
        select(
            col(Project.id), col(Project.name), col(Project.county_code), col(Project.village_code),
            col(Project.description), col(Project.category), col(Project.budget_fen), col(Project.fund_sources),
            col(Project.start_on), col(Project.end_on), col(Project.responsible_unit),
            func.cardinality(col(Project.beneficiary_household_ids)), col(Project.benefit_mechanism),
            col(Project.performance_targets), col(Project.status),
            col(Announcement.seq), col(Announcement.start_on), col(Announcement.days), col(Announcement.scope),
            open_count, col(Announcement.at),
        )
        .select_from(Project)
        .join(Announcement, (col(Announcement.county_code) == col(Project.county_code))
              & (col(Announcement.project_id) == col(Project.id)))
    )


async def announcement_page(
    session: AsyncSession, *, prefix: str, before_seq: int | None, limit: int
) -> list[Record]:
    """A keyset page (newest announcement first, limit + 1 rows) of the announcements under a region prefix."""
    query = _announcements().where(within(col(Project.county_code), prefix))
    if before_seq is not None:
        query = query.where(col(Announcement.seq) < before_seq)
    return list((await session.execute(query.order_by(col(Announcement.seq).desc()).limit(limit + 1))).all())


async def public_announcement(session: AsyncSession, project_id: str) -> Record | None:
    row: Record | None = (await session.execute(_announcements().where(col(Project.id) == project_id))).first()
    return row


# ------------------------------------------------------------------------------------------------------ objections


def _resolution_of(county_code: Any, objection_id: Any) -> Any:
    """The join of an objection to its resolution, through both columns of the key (one shard's join)."""
    resolution = ObjectionResolution
    return (col(resolution.county_code) == county_code) & (col(resolution.objection_id) == objection_id)


def _ranked(project_ids: Sequence[str]) -> Subquery:
    """The objections of these projects, each with whether it blocks approval (S8): every key holder's, and the first
    codes.PUBLIC_BLOCKING of the public's."""
    channel = col(Objection.channel)
    rank = func.row_number().over(
        partition_by=(col(Objection.project_id), channel), order_by=(col(Objection.raised_at), col(Objection.id))
    )
    return (
        select(
            col(Objection.id), col(Objection.county_code), col(Objection.project_id), col(Objection.text), channel,
            col(Objection.raised_at),
            col(Objection.principal_id), ((channel != "public") | (rank <= codes.PUBLIC_BLOCKING)).label("blocks"),
        )
        .where(any_of(col(Objection.project_id), project_ids))
        .subquery()
    )


async def objection_rows(session: AsyncSession, project_ids: Sequence[str]) -> list[Record]:
    """Every objection of these projects, oldest first: (id, project_id, text, channel, raised_at, resolution,
    resolved_at, resolved_by, blocks)."""
    ranked = _ranked(project_ids)
    o = ranked.c
    query = (
        select(o.id, o.project_id, o.text, o.channel, o.raised_at, col(ObjectionResolution.resolution),
               col(ObjectionResolution.at), col(ObjectionResolution.principal_id), o.blocks)
        .select_from(ranked.outerjoin(ObjectionResolution, _resolution_of(o.county_code, o.id)))
        .order_by(o.raised_at, o.id)
    )
    return list(await session.execute(query))


async def open_objection_ids(session: AsyncSession, project_id: str) -> list[str]:
    """The open objections that block approval (P1, S8)."""
    ranked = _ranked([project_id])
    o = ranked.c
    query = (
        select(o.id)
        .select_from(ranked.outerjoin(ObjectionResolution, _resolution_of(o.county_code, o.id)))
        .where(col(ObjectionResolution.objection_id).is_(None), o.blocks)
        .order_by(o.id)
    )
    return [str(i) for i in (await session.execute(query)).scalars()]


async def open_objections_of_principal(session: AsyncSession, project_id: str, principal_id: str) -> int:
    """S8: the key holder's objections to the project not answered yet."""
    mine = await session.scalar(
        select(func.count())
        .select_from(Objection)
        .outerjoin(ObjectionResolution, _resolution_of(col(Objection.county_code), col(Objection.id)))
        .where(col(Objection.project_id) == project_id, col(Objection.principal_id) == principal_id,
               col(Objection.channel) == "principal", col(ObjectionResolution.objection_id).is_(None))
    )
    return int(mine or 0)


async def find_objection(session: AsyncSession, county_code: str, objection_id: str) -> Objection | None:
    return await session.get(Objection, (county_code, objection_id))


async def objection_of_project(
    session: AsyncSession, project_id: str, objection_id: str, *, for_update: bool = False
) -> Objection | None:
    query = select(Objection).where(col(Objection.id) == objection_id, col(Objection.project_id) == project_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def resolution_of(session: AsyncSession, county_code: str, objection_id: str) -> ObjectionResolution | None:
    return await session.get(ObjectionResolution, (county_code, objection_id))


# ---------------------------------------------------------------------------------------------------------- assets


async def assets_of(session: AsyncSession, project_id: str) -> list[Asset]:
    query = select(Asset).where(col(Asset.project_id) == project_id).order_by(col(Asset.id))
    return list((await session.execute(query)).scalars())


async def asset_of_project(session: AsyncSession, project_id: str, asset_id: str, *, for_update: bool) -> Asset | None:
    query = select(Asset).where(col(Asset.id) == asset_id, col(Asset.project_id) == project_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def shares_of(session: AsyncSession, asset_ids: Sequence[str], *, counties: Sequence[str]) -> list[Record]:
    """(asset_id, household_id, shares) of these assets (of these counties: the key's first column), by household."""
    if not asset_ids:
        return []
    query = (
        select(col(AssetShare.asset_id), col(AssetShare.household_id), col(AssetShare.shares))
        .where(any_of(col(AssetShare.county_code), sorted(set(counties))),
               any_of(col(AssetShare.asset_id), asset_ids))
        .order_by(col(AssetShare.household_id))
    )
    return list(await session.execute(query))


async def dividends_of(session: AsyncSession, asset_ids: Sequence[str]) -> list[Dividend]:
    if not asset_ids:
        return []
    query = select(Dividend).where(any_of(col(Dividend.asset_id), asset_ids)).order_by(col(Dividend.id))
    return list((await session.execute(query)).scalars())


async def payouts_of(session: AsyncSession, dividend_ids: Sequence[str], *, counties: Sequence[str]) -> list[Record]:
    """(dividend_id, household_id, amount_fen) of these dividends (of these counties), by household."""
    if not dividend_ids:
        return []
    payout = DividendPayout
    query = (
        select(col(payout.dividend_id), col(payout.household_id), col(payout.amount_fen))
        .where(any_of(col(payout.county_code), sorted(set(counties))),
               any_of(col(payout.dividend_id), dividend_ids))
        .order_by(col(DividendPayout.household_id))
    )
    return list(await session.execute(query))


# ----------------------------------------------------------------------------- contracts and tender thresholds (P8, P9)


async def add_contract(session: AsyncSession, contract: Contract) -> None:
    """A new contract, read back for the columns the database fills in."""
    await add(session, contract)
    await session.refresh(contract)


async def contracted_fen(session: AsyncSession, *, county_code: str, project_id: str) -> int:
    """What the project's contracts add up to."""
    query = select(func.coalesce(func.sum(col(Contract.amount_fen)), 0)).where(
        col(Contract.county_code) == county_code, col(Contract.project_id) == project_id)
    return int((await session.execute(query)).scalar_one())


async def contracts_of(session: AsyncSession, *, county_code: str, project_id: str) -> list[Contract]:
    query = select(Contract).where(col(Contract.county_code) == county_code, col(Contract.project_id) == project_id)
    return list((await session.execute(query.order_by(col(Contract.signed_on), col(Contract.id)))).scalars())


async def find_contract(session: AsyncSession, *, project_id: str, contract_id: str) -> Contract | None:
    """A contract of a project (the internal API: by the two ids; the key's county comes from the project)."""
    query = (select(Contract).join(Project, col(Project.id) == col(Contract.project_id))
             .where(col(Contract.county_code) == col(Project.county_code), col(Project.id) == project_id,
                    col(Contract.id) == contract_id))
    return (await session.execute(query)).scalar_one_or_none()


async def thresholds_of(session: AsyncSession, county_codes: list[str]) -> list[TenderThreshold]:
    """Every published threshold of these counties, in the order published."""
    query = (select(TenderThreshold).where(any_of(col(TenderThreshold.county_code), county_codes))
             .order_by(col(TenderThreshold.created_at), col(TenderThreshold.id)))
    return list((await session.execute(query)).scalars())


async def direct_awards(session: AsyncSession, *, prefix: str, as_of: date) -> list[Row[Any]]:
    """P9: the direct awards signed by `as_of` under `prefix`, of every (project, contractor) that has two or more,
    with the project's owner unit (O13)."""
    repeated = (select(col(Contract.county_code), col(Contract.project_id), col(Contract.contractor_uscc))
                .where(col(Contract.tender_method) == "direct_award", col(Contract.signed_on) <= as_of,
                       within(col(Contract.county_code), prefix))
                .group_by(col(Contract.county_code), col(Contract.project_id), col(Contract.contractor_uscc))
                .having(func.count() >= 2).subquery())
    query = (select(col(Contract.county_code), col(Contract.project_id), col(Contract.contractor_uscc),
                    col(Contract.contractor_name), col(Contract.id), col(Contract.amount_fen),
                    col(Contract.signed_on), col(Project.responsible_org))
             .join(repeated, (repeated.c.county_code == col(Contract.county_code))
                   & (repeated.c.project_id == col(Contract.project_id))
                   & (repeated.c.contractor_uscc == col(Contract.contractor_uscc)))
             .join(Project, col(Project.id) == col(Contract.project_id))
             .where(col(Contract.tender_method) == "direct_award", col(Contract.signed_on) <= as_of)
             .order_by(col(Contract.county_code), col(Contract.project_id), col(Contract.contractor_uscc),
                       col(Contract.signed_on), col(Contract.id)))
    return list(await session.execute(query))
# ------------------------------------------------------------------------------------ close-out (P10, P11, register)


async def acceptance_results_of(session: AsyncSession, project_ids: Sequence[str]) -> list[AcceptanceResult]:
    if not project_ids:
        return []
    query = (
        select(AcceptanceResult).where(any_of(col(AcceptanceResult.project_id), project_ids))
        .order_by(col(AcceptanceResult.project_id), col(AcceptanceResult.position))
    )
    return list((await session.execute(query)).scalars())


async def unmet_results(session: AsyncSession, *, known_before: datetime, prefix: str) -> list[Record]:
    """P10: the targets found not met at acceptance, recorded before a moment under a region prefix, with their
    project: (result, project's village, name, responsible_org), by project and position. One query."""
    query = (
        select(AcceptanceResult, col(Project.village_code), col(Project.name), col(Project.responsible_org))
        .join(Project, col(Project.id) == col(AcceptanceResult.project_id))
        .where(~col(AcceptanceResult.met), col(AcceptanceResult.recorded_at) < known_before,
               within(col(AcceptanceResult.county_code), prefix))
        .order_by(col(AcceptanceResult.project_id), col(AcceptanceResult.position))
    )
    return list(await session.execute(query))


async def handovers_of(session: AsyncSession, asset_ids: Sequence[str]) -> list[AssetHandover]:
    if not asset_ids:
        return []
    query = select(AssetHandover).where(any_of(col(AssetHandover.asset_id), asset_ids))
    return list((await session.execute(query)).scalars())


async def project_handovers(session: AsyncSession, county_code: str, project_id: str) -> list[AssetHandover]:
    query = select(AssetHandover).where(
        col(AssetHandover.county_code) == county_code, col(AssetHandover.project_id) == project_id
    )
    return list((await session.execute(query)).scalars())


async def register_page(
    session: AsyncSession, *, prefix: str, village: str | None, after: str | None, limit: int
) -> list[Record]:
    """The asset register (资产登记造册): a keyset page (newest asset id first, limit + 1 rows) of the assets whose
    project lies under `prefix` (and in `village`): (asset, project name, county, village)."""
    query = (
        select(Asset, col(Project.name), col(Project.county_code), col(Project.village_code))
        .join(Project, (col(Project.county_code) == col(Asset.county_code))
              & (col(Project.id) == col(Asset.project_id)))
        .where(within(col(Project.county_code), prefix))
    )
    if village is not None:
        query = query.where(col(Project.village_code) == village)
    if after is not None:
        query = query.where(col(Asset.id) < after)
    return list((await session.execute(query.order_by(col(Asset.id).desc()).limit(limit + 1))).all())


async def share_totals(
    session: AsyncSession, asset_ids: Sequence[str], *, counties: Sequence[str]
) -> dict[str, tuple[int, int]]:
    """asset id → (total shares, shareholding households), of these assets (of these counties)."""
    if not asset_ids:
        return {}
    asset = col(AssetShare.asset_id)
    query = (
        select(asset, func.sum(col(AssetShare.shares)), func.count())
        .where(any_of(col(AssetShare.county_code), sorted(set(counties))), any_of(asset, asset_ids)).group_by(asset)
    )
    return {str(a): (int(total), int(n)) for a, total, n in (await session.execute(query)).all()}


async def villages_of(session: AsyncSession, project_ids: Sequence[str]) -> dict[str, str]:
    """project id → its village, for the projects that exist (funds' F20 asks it)."""
    if not project_ids:
        return {}
    query = select(col(Project.id), col(Project.village_code)).where(any_of(col(Project.id), project_ids))
    return {str(i): str(v) for i, v in (await session.execute(query)).all()}


async def projects_by_ids(session: AsyncSession, project_ids: Sequence[str], *, prefix: str) -> list[Row[Any]]:
    """What funds needs of each project among these whose county lies under `prefix` (its batch questions,
    F15-F18): one statement for a page of ids, only the columns answered (no ORM object per row); an unknown id, or
    a project of another region, is simply not among them."""
    if not project_ids:
        return []
    columns = (col(Project.id), col(Project.county_code), col(Project.village_code), col(Project.name),
               col(Project.category), col(Project.status), col(Project.budget_fen))
    query = select(*columns).where(any_of(col(Project.id), project_ids), within(col(Project.county_code), prefix))
    return list(await session.execute(query))
