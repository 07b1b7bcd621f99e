"""Close-out (issue #17 point 3): acceptance with each target's result (P10), the handover of an asset (资产移交/
确权) reconciled with what funds paid to the project (P11), and the asset register (资产登记造册, seeds 000, 004)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.identity import Principal
from services.kernel.pagination import Page, decode_cursor, page_of
from services.kernel.scope import check_covers, scope_prefix
from services.kernel.uow import BriefReads
from services.projects import closeout_rules, problems, repository, rules, service
from services.projects.clients import Funds
from services.projects.models import AcceptanceResult, Asset, AssetHandover, Project
from services.projects.schemas import AcceptIn, AssetRegisterItem, HandoverIn, HandoverRead, ProjectRead


async def accept(session: AsyncSession, principal: Principal, project_id: str, body: AcceptIn) -> ProjectRead:
    """completed → accepted, recording the actual value of every performance target (P10): a target without its
    result refuses the acceptance; one not met is recorded as such (the TARGETS_UNMET detector raises it)."""
    project = await repository.get_project(session, principal, project_id, for_update=True)
    rules.next_status(project.status, "accept")
    actuals = {r.indicator: (r.actual, r.met) for r in body.results}
    results = closeout_rules.target_results(project.performance_targets, actuals)
    await repository.add(session, *[
        AcceptanceResult(county_code=project.county_code, project_id=project.id, position=r.position,
                         indicator=r.indicator, target=r.target, actual=r.actual, met=r.met,
                         principal_id=principal.id)
        for r in results
    ])
    return await service.simple_move(session, principal, project_id, "accept", note=body.report)


def _accepted_asset(project: Project, asset: Asset | None, asset_id: str) -> Asset:
    if asset is None:
        raise problems.asset_not_found(project.id, asset_id)
    if project.status != "accepted":
        raise problems.assets_before_acceptance(project.status, rules.allowed_actions(project.status))
    return asset


async def hand_over(
    session: AsyncSession, principal: Principal, project_id: str, asset_id: str, body: HandoverIn, funds: Funds,
    brief: BriefReads,
) -> HandoverRead:
    """P11: the asset's owner and manager, its value reconciled with what funds paid to the project. Funds is asked
    after a brief read (ask first, then write); the project is then locked, so two handovers of its assets are
    reconciled one after the other."""
    async with brief() as reading:
        found = await repository.get_project(reading, principal, project_id)
        asset = _accepted_asset(found, await repository.asset_of_project(reading, found.id, asset_id,
                                                                         for_update=False), asset_id)
        closeout_rules.check_owner(asset.kind, body.owner_kind)
    _, paid_fen = await funds.project_money(project_id)
    project = await repository.get_project(session, principal, project_id, for_update=True)
    asset = _accepted_asset(project, await repository.asset_of_project(session, project.id, asset_id,
                                                                       for_update=False), asset_id)
    done = await repository.project_handovers(session, project.county_code, project.id)
    if any(h.asset_id == asset.id for h in done):
        raise problems.already_handed_over(asset.id)
    recorded = await repository.assets_of(session, project.id)
    handed = closeout_rules.check_handover_value(
        value_fen=body.value_fen, handed_before_fen=sum(h.value_fen for h in done), paid_fen=paid_fen,
        last=len(done) + 1 == len(recorded),
    )
    handover = AssetHandover(
        county_code=project.county_code, asset_id=asset.id, project_id=project.id, owner_kind=body.owner_kind,
        owner_name=body.owner_name, manager=body.manager, value_fen=body.value_fen, paid_fen=paid_fen,
        handed_over_fen=handed, handed_over_on=body.handed_over_on, principal_id=principal.id,
    )
    await repository.add(session, handover)
    return handover_read(handover)


def handover_read(h: AssetHandover) -> HandoverRead:
    return HandoverRead(
        asset_id=h.asset_id, project_id=h.project_id, county_code=h.county_code, owner_kind=h.owner_kind,
        owner_name=h.owner_name, manager=h.manager, value_fen=h.value_fen, handed_over_on=h.handed_over_on,
        paid_fen=h.paid_fen, handed_over_fen=h.handed_over_fen,
        tolerance_fen=closeout_rules.handover_tolerance(h.paid_fen),
    )


async def asset_register(
    session: AsyncSession, principal: Principal, *, county: str | None, village: str | None, cursor: str | None,
    limit: int,
) -> Page[AssetRegisterItem]:
    """The assets of the projects in the caller's jurisdiction (or the county, the village asked for), newest
    first, each with its shares and its handover; three queries whatever the page size."""
    prefix = scope_prefix(principal, county, field="county")
    if village is not None:
        check_covers(principal, village, field="village")
    key = decode_cursor(cursor, 1)
    rows = await repository.register_page(session, prefix=prefix, village=village,
                                          after=str(key[0]) if key is not None else None, limit=limit)
    page = page_of(rows, limit, lambda row: [row[0].id])
    ids = [row[0].id for row in page.items]
    shares = await repository.share_totals(session, ids, counties=[row[2] for row in page.items])
    handovers = {h.asset_id: handover_read(h) for h in await repository.handovers_of(session, ids)}
    items = [
        AssetRegisterItem(
            id=a.id, project_id=a.project_id, project_name=name, county_code=county_code, village_code=village_code,
            kind=a.kind, value_fen=a.value_fen, description=a.description,
            total_shares=shares.get(a.id, (0, 0))[0], shareholder_households=shares.get(a.id, (0, 0))[1],
            handover=handovers.get(a.id),
        )
        for a, name, county_code, village_code in page.items
    ]
    return Page(items=items, next_cursor=page.next_cursor)
