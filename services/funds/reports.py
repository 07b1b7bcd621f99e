"""Figures over the ledger: growth parity (F2), county progress, idle money (F3) and money held up high (F9).

Every figure is net of reversals and, where an `as_of` date is given, counts only what is dated on or before it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import rules
from services.funds.repository import allocations, transfers
from services.kernel.regions import region_level


@dataclass(frozen=True)
class GrowthRow:
    province: str
    fund_source: str
    fiscal_year: int
    poor_prev_fen: int
    poor_curr_fen: int
    all_prev_fen: int
    all_curr_fen: int
    growth: rules.Growth

    def as_item(self) -> dict[str, Any]:
        return {
            "fund_source": self.fund_source,
            "fiscal_year": self.fiscal_year,
            "poor_prev_fen": self.poor_prev_fen,
            "poor_curr_fen": self.poor_curr_fen,
            "all_prev_fen": self.all_prev_fen,
            "all_curr_fen": self.all_curr_fen,
            "poor_growth": self.growth.poor_growth,
            "average_growth": self.growth.average_growth,
            "ok": self.growth.ok,
        }


async def growth(
    session: AsyncSession, *, prefix: str, fiscal_year: int | None, as_of: date | None = None
) -> list[GrowthRow]:
    """F2 per (province, integrable fund, year) of the counties under `prefix` ('' all), against the year before;
    both years as recorded by `as_of`."""
    rows = await allocations.county_receipts(session, prefix=prefix, as_of=as_of or date.max)
    totals: dict[tuple[str, str, int], tuple[int, int]] = {}
    for r in rows:
        totals[(r.province, r.fund_source, r.fiscal_year)] = (int(r.poor_fen or 0), int(r.all_fen or 0))
    keys = {(p, s, y) for (p, s, y) in totals} | {(p, s, y + 1) for (p, s, y) in totals}
    if fiscal_year is not None:
        keys = {k for k in keys if k[2] == fiscal_year}
    result = []
    for p, s, y in sorted(keys):
        poor_prev, all_prev = totals.get((p, s, y - 1), (0, 0))
        poor_curr, all_curr = totals.get((p, s, y), (0, 0))
        figures = rules.growth_parity(poor_prev=poor_prev, poor_curr=poor_curr, all_prev=all_prev, all_curr=all_curr)
        result.append(GrowthRow(p, s, y, poor_prev, poor_curr, all_prev, all_curr, figures))
    return result


IDLE_KINDS = ["pool", "fund", "project"]  # F3 (extended): a county's accounts, a non-pilot county's fund included


@dataclass(frozen=True)
class Holding:
    account_id: int
    region_code: str
    kind: str
    fund_source: str
    ref: str
    balance_fen: int
    since: date  # the first inflow after the last outflow, or the last outflow if nothing came in since
    recent_in_fen: int  # inflows in the window (as_of − window, as_of]
    last_old_in: date | None  # the latest inflow older than the window: late money has been held at least since
    oldest_held: date | None = None  # first in, first out: the oldest inflow still (partly) held

    def days(self, as_of: date) -> int:
        return (as_of - self.since).days


async def holdings(
    session: AsyncSession, *, kinds: list[str], as_of: date, window_days: int, prefix: str = ""
) -> list[Holding]:
    """Accounts of these kinds holding money on `as_of`, with how long it has sat without an outflow."""
    rows = await transfers.holdings(session, kinds=kinds, as_of=as_of, recent_after=_recent_after(as_of, window_days),
                                    prefix=prefix)
    return [_holding(r) for r in rows]


def _recent_after(as_of: date, window_days: int) -> date:
    """Money received `window_days` days before `as_of` or less is recent; older than that it is held too long."""
    return date.fromordinal(as_of.toordinal() - window_days - 1)


async def idle_holdings(
    session: AsyncSession, *, kinds: list[str], as_of: date, days: int, prefix: str = ""
) -> list[Holding]:
    """F3 (extended, first in, first out): the accounts of these kinds holding, on `as_of`, money received more
    than `days` days before (`idle_fen`), whatever was paid out since: an outflow spends the oldest money first, so
    paying part of an account does not make the rest fresh. `oldest_held` is the day the oldest of it came in."""
    return [h for h in await holdings(session, kinds=kinds, as_of=as_of, window_days=days, prefix=prefix)
            if idle_fen(h) > 0]


def _holding(r: Any) -> Holding:
    return Holding(r.id, r.region_code, r.kind, r.fund_source, r.ref, int(r.balance), r.first_in_after or r.last_out,
                   int(r.recent_in), r.last_old_in, r.oldest_held)


def idle_fen(holding: Holding) -> int:
    return idle_of(holding.balance_fen, holding.recent_in_fen)


def idle_of(balance_fen: int, recent_in_fen: int) -> int:
    """F3 (extended): of what a county pool, fund or project account holds, the part received more than the window
    ago (first in, first out: the balance is the newest inflows; what came in within the window is fresh)."""
    return max(0, balance_fen - recent_in_fen)


async def progress(session: AsyncSession, *, prefix: str, as_of: date, idle_days: int) -> list[dict[str, Any]]:
    """Per county: received, arranged, disbursed, what is still held, what is idle (F3) and the spending rate."""
    rows = {r.region_code: r for r in await transfers.county_progress(session, prefix=prefix)}
    idle: dict[str, int] = defaultdict(int)  # F3's amount only: not the dates an alert's facts give
    for r in await transfers.idle_inputs(session, kinds=IDLE_KINDS, as_of=as_of,
                                         recent_after=_recent_after(as_of, idle_days), prefix=prefix):
        if region_level(r["region_code"]) == "county":
            idle[r["region_code"]] += idle_of(int(r["balance"]), int(r["recent_in"]))
    items = []
    for code in sorted(rows):
        row = rows[code]
        received = int(row.received_fen)
        items.append({
            "county_code": code,
            "received_fen": received,
            "arranged_fen": int(row.arranged_fen),
            "disbursed_fen": int(row.disbursed_fen),
            "unarranged_fen": int(row.unarranged_fen),
            "unpaid_fen": int(row.unpaid_fen),
            "idle_fen": idle[code],
            "spending_rate": round(int(row.disbursed_fen) / received, 6) if received else None,
        })
    return items
