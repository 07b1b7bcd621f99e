"""Asset income (资产收益扶贫, P6): the assets an accepted project built, the shares quantified to its beneficiary
households, and dividends split by those shares to the fen (largest remainder, the total kept exactly) and paid
through the funds ledger into the households' 一卡通 accounts (P12) before they are recorded here."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.uow import BriefReads
from services.projects import closeout_rules, problems, repository, rules
from services.projects.clients import Funds
from services.projects.models import Asset, AssetShare, Dividend, DividendPayout, Project
from services.projects.schemas import AssetCreate, AssetRead, DividendCreate, DividendRead, PayoutRead, ShareRead


def _check_accepted(project: Project) -> None:
    if project.status != "accepted":
        raise problems.assets_before_acceptance(project.status, rules.allowed_actions(project.status))


async def record_asset(session: AsyncSession, principal: Principal, project_id: str, body: AssetCreate) -> AssetRead:
    project = await repository.get_project(session, principal, project_id, for_update=True)
    _check_accepted(project)
    rules.check_shares(body.kind, [s.household_id for s in body.shares], project.beneficiary_household_ids)
    asset = Asset(
        id=new_id("ast"), project_id=project.id, county_code=project.county_code, kind=body.kind,
        value_fen=body.value_fen, description=body.description, principal_id=principal.id,
    )
    await repository.add(session, asset)
    await repository.add(
        session, *[AssetShare(asset_id=asset.id, county_code=asset.county_code, household_id=s.household_id,
                              shares=s.shares) for s in body.shares]
    )
    return (await read_assets(session, [asset]))[0]


async def _shares_of(session: AsyncSession, assets: list[Asset]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {a.id: {} for a in assets}
    counties = [a.county_code for a in assets]
    for asset_id, household, shares in await repository.shares_of(session, list(out), counties=counties):
        out[asset_id][household] = int(shares)
    return out


async def _dividends_of(
    session: AsyncSession, assets: list[Asset], shares: dict[str, dict[str, int]]
) -> dict[str, list[DividendRead]]:
    out: dict[str, list[DividendRead]] = {a.id: [] for a in assets}
    project_of = {a.id: a.project_id for a in assets}
    if not assets:
        return out
    dividends = await repository.dividends_of(session, list(out))
    payouts: dict[str, list[PayoutRead]] = {d.id: [] for d in dividends}
    asset_of = {d.id: d.asset_id for d in dividends}
    counties = [a.county_code for a in assets]
    for dividend_id, household, amount in await repository.payouts_of(session, list(payouts), counties=counties):
        held = shares[asset_of[dividend_id]].get(household, 0)
        payouts[dividend_id].append(PayoutRead(household_id=household, shares=held, amount_fen=int(amount)))
    for d in dividends:
        out[d.asset_id].append(
            DividendRead(
                id=d.id, asset_id=d.asset_id, project_id=project_of[d.asset_id], amount_fen=d.amount_fen,
                paid_on=d.paid_on, payouts=payouts[d.id],
            )
        )
    return out


async def read_assets(session: AsyncSession, assets: list[Asset]) -> list[AssetRead]:
    shares = await _shares_of(session, assets)
    dividends = await _dividends_of(session, assets, shares)
    return [
        AssetRead(
            id=a.id, project_id=a.project_id, kind=a.kind, value_fen=a.value_fen, description=a.description,
            total_shares=sum(shares[a.id].values()),
            shares=[ShareRead(household_id=h, shares=s) for h, s in shares[a.id].items()],
            dividends=dividends[a.id],
        )
        for a in assets
    ]


async def list_assets(session: AsyncSession, principal: Principal, project_id: str) -> list[AssetRead]:
    project = await repository.get_project(session, principal, project_id)
    return await read_assets(session, await repository.assets_of(session, project.id))


async def record_dividend(
    session: AsyncSession, principal: Principal, project_id: str, asset_id: str, body: DividendCreate, funds: Funds,
    brief: BriefReads,
) -> DividendRead:
    """P6: a distribution of an income-generating asset, split by shares to the fen (largest remainder); P12: paid
    through the funds ledger into each household's 一卡通 account before it is recorded here. Ask first, then write:
    the asset and its shares are read briefly, funds pays (once per dividend id: the asset and the number of its
    dividends recorded so far), then the asset is locked and the dividend recorded, unless another was meanwhile."""
    async with brief() as reading:
        project = await repository.get_project(reading, principal, project_id)
        asset = await repository.asset_of_project(reading, project.id, asset_id, for_update=False)
        if asset is None:
            raise problems.asset_not_found(project_id, asset_id)
        shares = (await _shares_of(reading, [asset]))[asset.id]
        if not shares:
            raise problems.no_shares(asset_id, asset.kind)
        recorded = len(await repository.dividends_of(reading, [asset.id]))
        county_code = project.county_code
    split = rules.split_by_shares(body.amount_fen, shares)
    dividend_id = closeout_rules.dividend_id(asset_id, recorded)
    await funds.pay_dividend({
        "dividend_id": dividend_id, "county_code": county_code, "project_id": project_id, "asset_id": asset_id,
        "paid_on": body.paid_on.isoformat(),
        "payouts": [{"household_id": h, "amount_fen": a} for h, a in sorted(split.items()) if a > 0],
    })
    locked = await repository.asset_of_project(session, project_id, asset_id, for_update=True)
    if locked is None or len(await repository.dividends_of(session, [asset_id])) != recorded:
        raise problems.dividend_recorded_meanwhile(asset_id)
    dividend = Dividend(
        id=dividend_id, asset_id=asset_id, county_code=locked.county_code, amount_fen=body.amount_fen,
        paid_on=body.paid_on, principal_id=principal.id,
    )
    await repository.add(session, dividend)
    await repository.add(session, *[
        DividendPayout(dividend_id=dividend.id, county_code=dividend.county_code, household_id=h, amount_fen=a)
        for h, a in split.items()
    ])
    return DividendRead(
        id=dividend.id, asset_id=asset_id, project_id=project_id, amount_fen=body.amount_fen, paid_on=body.paid_on,
        payouts=[PayoutRead(household_id=h, shares=shares[h], amount_fen=split[h]) for h in sorted(split)],
    )
