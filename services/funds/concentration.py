"""垒大户 / 造盆景 (issue #17 point 12; DOMAIN P5 read for money): money concentrated on few households (F19) or
villages (F20), beside the duplicate project names P5 already flags. Each detector reads one statement over the
scan's region (incremental-friendly: no call per household); F20 then asks the projects service, in batches, which
village each project lies in. The multiple and the share are settings (codes.py)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.funds import codes, rules
from services.funds.clients import projects_of
from services.funds.detectors import _bureaus, registry
from services.funds.repository import concentration
from services.kernel.alerts import AlertDraft, DetectorContext
from services.kernel.errors import ServiceUnavailable

log = logging.getLogger("fundtrack.funds.concentration")


def since(as_of: date) -> date:
    """The calendar years judged: the scan's and the one before (a year is judged again until it is over)."""
    return date(as_of.year - 1, 1, 1)


@dataclass(frozen=True)
class VillageShare:
    county_code: str
    year: int
    village_code: str
    arranged_fen: int
    county_arranged_fen: int
    villages: int
    project_ids: tuple[str, ...]


def concentrated_villages(
    arranged: Iterable[tuple[str, int, str, int]], village_of: Mapping[str, str | None], *, share_percent: int,
    min_villages: int = codes.CONCENTRATION_MIN_VILLAGES,
) -> list[VillageShare]:
    """F20: the villages that received more than `share_percent` % of their county's money arranged in a year
    (`arranged`: county, year, project, fen), in a county-year whose money went to at least `min_villages`
    villages. A project the projects service does not place counts in the county's total, in no village's."""
    totals: dict[tuple[str, int], int] = defaultdict(int)
    by_village: dict[tuple[str, int, str], list[tuple[str, int]]] = defaultdict(list)
    for county_code, year, project_id, fen in arranged:
        totals[(county_code, year)] += fen
        village = village_of.get(project_id)
        if village is not None:
            by_village[(county_code, year, village)].append((project_id, fen))
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for county_code, year, _ in by_village:
        counts[(county_code, year)] += 1
    found = []
    for (county_code, year, village), projects in sorted(by_village.items()):
        village_fen, county_fen = sum(f for _, f in projects), totals[(county_code, year)]
        if counts[(county_code, year)] >= min_villages and village_fen * 100 > share_percent * county_fen:
            found.append(VillageShare(county_code, year, village, village_fen, county_fen,
                                      counts[(county_code, year)], tuple(sorted(p for p, _ in projects))))
    return found


@registry.register(codes.HOUSEHOLD_CONCENTRATION)
async def household_concentration(ctx: DetectorContext) -> list[AlertDraft]:
    """F19 (垒大户): a household paid more in a calendar year than the declared multiple of its county's median
    per-household payment that year (live payments; a county-year of fewer than 5 households paid is not judged)."""
    multiple = float(ctx.state.settings.concentration_multiple)
    rows = await concentration.households_above_median(
        ctx.session, prefix=ctx.region_prefix, as_of=ctx.as_of, since=since(ctx.as_of), multiple=multiple,
        min_households=codes.CONCENTRATION_MIN_HOUSEHOLDS)
    bureaus = await _bureaus(ctx, codes.HOUSEHOLD_CONCENTRATION, sorted({r.county_code for r in rows}))
    if bureaus is None:
        return []
    return [
        AlertDraft(
            type=codes.HOUSEHOLD_CONCENTRATION, severity="medium", region_code=r.county_code,
            subject_kind="household_year", subject_id=f"{r.payee_id}:{r.year}",
            facts={"rule": codes.F19, "household_id": r.payee_id, "year": r.year, "paid_fen": int(r.total_fen),
                   "payments": int(r.payments), "county_median_fen": round(r.median_fen),
                   "households_paid": int(r.households), "multiple": multiple},
            responsible_org=rules.holding_responsible_org(finance_bureau=bureaus[r.county_code]),  # O13
        )
        for r in rows
    ]


@registry.register(codes.VILLAGE_CONCENTRATION)
async def village_concentration(ctx: DetectorContext) -> list[AlertDraft]:
    """F20 (造盆景): one village arranged more than the declared share of its county's money in a calendar year."""
    share = int(ctx.state.settings.village_share_percent)
    rows = await concentration.arranged_by_project(ctx.session, prefix=ctx.region_prefix, as_of=ctx.as_of,
                                                   since=since(ctx.as_of))
    if not rows:
        return []
    try:
        villages = await projects_of(ctx.state).villages(sorted({r.project_id for r in rows}))
    except ServiceUnavailable:
        log.warning("projects unavailable: %s skipped for as_of %s", codes.VILLAGE_CONCENTRATION, ctx.as_of)
        return []
    found = concentrated_villages([(r.county_code, r.year, r.project_id, int(r.arranged_fen)) for r in rows],
                                  villages, share_percent=share)
    bureaus = await _bureaus(ctx, codes.VILLAGE_CONCENTRATION, sorted({v.county_code for v in found}))
    if bureaus is None:
        return []
    return [_village_alert(v, share, bureaus[v.county_code]) for v in found]


def _village_alert(v: VillageShare, share: int, bureau: str | None) -> AlertDraft:
    facts: dict[str, Any] = {
        "rule": codes.F20, "county_code": v.county_code, "village_code": v.village_code, "year": v.year,
        "arranged_fen": v.arranged_fen, "county_arranged_fen": v.county_arranged_fen, "villages": v.villages,
        "share_percent": round(100 * v.arranged_fen / v.county_arranged_fen, 2), "threshold_percent": share,
        "project_ids": list(v.project_ids),
    }
    return AlertDraft(
        type=codes.VILLAGE_CONCENTRATION, severity="medium", region_code=v.village_code, subject_kind="village_year",
        subject_id=f"{v.village_code}:{v.year}", facts=facts,
        responsible_org=rules.holding_responsible_org(finance_bureau=bureau),  # O13: the county's finance bureau
    )
