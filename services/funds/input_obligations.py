"""Input obligations (issue #17 point 4, F17–F18): a region's declared revenue and recoveries of idle money, and each
obligation declared for it judged against them and the ledger (`GET /funds/reports/input`, the detector
INPUT_OBLIGATION_FAILED). The projects service is asked the category of each project money was arranged to, for
the industry share."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import input_rules, problems
from services.funds.clients import Project, Projects
from services.funds.input_schemas import (
    InputReport,
    ObligationResult,
    RecoveryCreate,
    RecoveryRead,
    RevenueCreate,
    RevenueRead,
)
from services.funds.models import Obligation
from services.funds.repository import inputs as repository
from services.kernel import clock
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.regions import jurisdiction_prefix, region_level
from services.kernel.scope import check_covers
from services.kernel.uow import BriefReads

RULES = {"revenue_increment": "F17", "recovered_idle": "F17", "year_on_year_growth": "F18", "industry_share": "F18"}
INDUSTRY = "industry"
INDUSTRY_SHARE = "industry_share"
COUNTRY = "000000"
Industry = dict[str, tuple[int, int]]  # per fund source: (arranged, of it to industry projects), in fen


async def declare_revenue(session: AsyncSession, *, principal: Principal, body: RevenueCreate) -> RevenueRead:
    check_covers(principal, body.region_code, field="region_code")
    record_id = new_id("rev")
    await repository.insert_revenue(session, id=record_id, created_by=principal.id,
                                    recorded_by_org=principal.organisation, **body.model_dump())
    return RevenueRead(id=record_id, **body.model_dump())


async def record_recovery(session: AsyncSession, *, principal: Principal, body: RecoveryCreate) -> RecoveryRead:
    check_covers(principal, body.region_code, field="region_code")
    if body.to_poverty_fen > body.amount_fen:
        raise problems.recovered_to_poverty_exceeds()
    record_id, on = new_id("rcv"), body.recovered_on or clock.today()
    values = {**body.model_dump(), "recovered_on": on}
    await repository.insert_recovery(session, id=record_id, created_by=principal.id,
                                     recorded_by_org=principal.organisation, **values)
    return RecoveryRead(id=record_id, **values)


def _above(region_code: str) -> list[str]:
    """The region and those above it, whose obligations bind it."""
    return list(dict.fromkeys([region_code, region_code[:4] + "00", region_code[:2] + "0000", "000000"]))


def _result(o: Obligation, judgement: input_rules.Judgement, key: str = "") -> ObligationResult:
    return ObligationResult(code=o.code, kind=o.kind, rule=RULES[o.kind], doc_no=o.doc_no, share_bp=o.share_bp,
                            key=key, status=judgement.status, required_fen=judgement.required_fen,
                            actual_fen=judgement.actual_fen, facts=judgement.facts)


async def _in_force(session: AsyncSession, *, region_code: str, fiscal_year: int) -> list[Obligation]:
    """Every obligation in force for the region and year (declared for it or a region above it, for its level)."""
    level = region_level(region_code)
    return [o for o in await repository.obligations(session, regions=_above(region_code), fiscal_year=fiscal_year)
            if o.level is None or o.level == level]


async def arranged_if_bound(session: AsyncSession, *, region_code: str, fiscal_year: int) -> list[Row[Any]] | None:
    """F18's industry share: the year's arrangements into the region's projects, by fund and project; None when no
    industry obligation binds the region (nothing to ask the projects service then)."""
    found = await _in_force(session, region_code=region_code, fiscal_year=fiscal_year)
    if not any(o.kind == INDUSTRY_SHARE for o in found):
        return None
    return await repository.arranged(session, prefix=jurisdiction_prefix(region_code), fiscal_year=fiscal_year)


def _totals(arranged: Sequence[Row[Any]], found: Mapping[str, Project]) -> Industry:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in arranged:
        project = found.get(str(r.project_id))
        totals[r.fund_source][0] += int(r.amount_fen)
        if project is not None and project["category"] == INDUSTRY:
            totals[r.fund_source][1] += int(r.amount_fen)
    return {source: (t[0], t[1]) for source, t in sorted(totals.items())}


async def industry_of(projects: Projects, *, region_code: str, arranged: list[Row[Any]] | None) -> Industry | None:
    """Per fund source: (arranged, of it to industry projects). The projects' categories are asked of the projects
    service one page of a thousand at a time, not one call per project (issue #20); a project it does not place in
    the region counts as no industry."""
    if arranged is None:
        return None
    return _totals(arranged, await projects.projects_in(region_code, sorted({str(r.project_id) for r in arranged})))


async def industry_by_region(session: AsyncSession, *, projects: Projects, regions: Sequence[str],
                             fiscal_year: int) -> dict[str, Industry]:
    """`industry_of` each region an industry obligation binds, for the detector (which may ask while it reads): the
    arrangements under all of them read once and their projects asked a page at a time, so the calls grow with
    neither the regions nor the projects."""
    bound = [r for r in regions
             if any(o.kind == INDUSTRY_SHARE for o in await _in_force(session, region_code=r, fiscal_year=fiscal_year))]
    if not bound:
        return {}
    prefixes = {r: jurisdiction_prefix(r) for r in bound}
    arranged = await repository.arranged(session, prefix=os.path.commonprefix(list(prefixes.values())),
                                         fiscal_year=fiscal_year)
    # the rows are already the regions' own: the projects service is asked about them wherever they lie
    found = await projects.projects_in(COUNTRY, sorted({str(r.project_id) for r in arranged}))
    by_county: dict[str, list[Row[Any]]] = defaultdict(list)
    for r in arranged:
        by_county[str(r.county_code)].append(r)
    return {region: _totals([r for county, rows in by_county.items() if county.startswith(prefix) for r in rows],
                            found)
            for region, prefix in prefixes.items()}


async def judge(session: AsyncSession, *, industry: Industry | None, region_code: str,
                fiscal_year: int) -> list[ObligationResult]:
    """Every obligation in force for the region and year, judged; `industry` what `industry_of` found (asked
    before: the projects service is asked before the request's transaction, kernel/uow.py)."""
    found = await _in_force(session, region_code=region_code, fiscal_year=fiscal_year)
    years = [fiscal_year - 1, fiscal_year]
    revenue = await repository.revenues(session, region_code=region_code, years=years)
    budget = await repository.appropriated(session, region_code=region_code, years=years)
    results: list[ObligationResult] = []
    for o in found:
        share = int(o.share_bp or 0)
        if o.kind == "revenue_increment":
            results.append(_result(o, input_rules.revenue_increment(
                share_bp=share, revenue_prev=revenue.get(years[0]), revenue_curr=revenue.get(years[1]),
                appropriated_fen=budget.get(fiscal_year, 0))))
        elif o.kind == "recovered_idle":
            amount, to_poverty = await repository.recovered(session, region_code=region_code, fiscal_year=fiscal_year)
            results.append(_result(o, input_rules.recovered_idle(share_bp=share, recovered_fen=amount,
                                                                 to_poverty_fen=to_poverty)))
        elif o.kind == "year_on_year_growth":
            results.append(_result(o, input_rules.year_on_year_growth(
                appropriated_prev=budget.get(years[0], 0), appropriated_curr=budget.get(fiscal_year, 0))))
        else:
            results.extend(_result(o, input_rules.industry_share(share_bp=share, arranged_fen=total,
                                                                 industry_fen=part), key=source)
                           for source, (total, part) in (industry or {}).items())
    return results


async def input_report(session: AsyncSession, *, principal: Principal, projects: Projects, brief: BriefReads,
                       region_code: str, fiscal_year: int) -> InputReport:
    """Read the arrangements briefly, ask the projects service, then judge in the request's transaction."""
    check_covers(principal, region_code, field="region")
    async with brief() as reading:
        arranged = await arranged_if_bound(reading, region_code=region_code, fiscal_year=fiscal_year)
    industry = await industry_of(projects, region_code=region_code, arranged=arranged)
    items = await judge(session, industry=industry, region_code=region_code, fiscal_year=fiscal_year)
    return InputReport(region_code=region_code, fiscal_year=fiscal_year, items=items)
