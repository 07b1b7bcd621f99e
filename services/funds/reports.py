"""Figures over the ledger: growth parity (F2), county progress, idle money (F3) and money held up high (F9).

Every figure is net of reversals and, where an `as_of` date is given, counts only what is dated on or before it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import rules
from services.kernel.regions import region_level

# F2, what a province gives its counties: allocations received by a county from an issuer of its own province, at
# province or city level, by province, fund, year. Money passed down through a city (province → city → county) is
# counted once, when the county receives it (the city's allocation); the province → city hop is not a county's
# receipt. Central money sent straight to a county is left out: the rule binds the province's departments that cut
# the money into blocks for their counties (seed 002: 由省级主管部门一律切块下达 … 分配给贫困县的资金增幅), and is
# evaluated per issuing province (DOMAIN.md F2); the centre's own split is not the province's to answer for.
_GROWTH = text(
    """
    SELECT substr(a.to_region, 1, 2) AS province, a.fund_source, a.fiscal_year,
           SUM(a.amount_fen) FILTER (WHERE c.poor) AS poor_fen, SUM(a.amount_fen) AS all_fen
    FROM allocations a
    JOIN fund_sources s ON s.code = a.fund_source AND s.integrable
    LEFT JOIN counties c ON c.code = a.to_region
    WHERE a.to_region LIKE :prefix AND a.to_region NOT LIKE '%00' AND a.from_region <> '000000'
      AND substr(a.from_region, 1, 2) = substr(a.to_region, 1, 2) AND a.issued_on <= :as_of
      AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = a.id AND r.reversed_on <= :as_of)
    GROUP BY 1, 2, 3
    """
)


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
    session: AsyncSession, *, province: str | None, fiscal_year: int | None, as_of: date | None = None
) -> list[GrowthRow]:
    """F2 per (province, integrable fund, year) against the year before; both years as recorded by `as_of`."""
    prefix = (province[:2] if province else "") + "%"
    rows = await session.execute(_GROWTH, {"prefix": prefix, "as_of": as_of or date.max})
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
        result.append(GrowthRow(p + "0000", s, y, poor_prev, poor_curr, all_prev, all_curr, figures))
    return result


# Balance as of a date, the last outflow and the first inflow after it, per account of the given kinds.
_HOLDINGS = text(
    """
    WITH acc AS (
        SELECT id, region_code, kind, fund_source, ref FROM accounts
        WHERE kind = ANY(CAST(:kinds AS varchar[])) AND region_code LIKE :prefix
    ), moves AS (
        SELECT t.destination_account_id AS account_id, t.amount_fen AS delta, t.occurred_on, true AS inflow
        FROM transfers t JOIN acc ON acc.id = t.destination_account_id WHERE t.occurred_on <= :as_of
        UNION ALL
        SELECT t.source_account_id, -t.amount_fen, t.occurred_on, false
        FROM transfers t JOIN acc ON acc.id = t.source_account_id WHERE t.occurred_on <= :as_of
    ), flows AS (
        SELECT account_id, SUM(delta) AS balance, MAX(occurred_on) FILTER (WHERE NOT inflow) AS last_out
        FROM moves GROUP BY account_id
    )
    SELECT acc.*, f.balance, f.last_out,
           (SELECT MIN(m.occurred_on) FROM moves m WHERE m.account_id = f.account_id AND m.inflow
              AND (f.last_out IS NULL OR m.occurred_on > f.last_out)) AS first_in_after,
           (SELECT COALESCE(SUM(m.delta), 0) FROM moves m WHERE m.account_id = f.account_id AND m.inflow
              AND m.occurred_on > :recent_after) AS recent_in,
           (SELECT MAX(m.occurred_on) FROM moves m WHERE m.account_id = f.account_id AND m.inflow
              AND m.occurred_on <= :recent_after) AS last_old_in
    FROM flows f JOIN acc ON acc.id = f.account_id
    WHERE f.balance > 0
    ORDER BY acc.id
    """
)


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

    def held_days(self, as_of: date) -> int:
        return (as_of - (self.last_old_in or self.since)).days

    def days(self, as_of: date) -> int:
        return (as_of - self.since).days


async def holdings(
    session: AsyncSession, *, kinds: list[str], as_of: date, window_days: int, prefix: str = ""
) -> list[Holding]:
    """Accounts of these kinds holding money on `as_of`, with how long it has sat without an outflow."""
    # Money received `window_days` days ago or less is recent; older than that it is held too long.
    recent_after = date.fromordinal(as_of.toordinal() - window_days - 1)
    rows = await session.execute(
        _HOLDINGS, {"kinds": kinds, "as_of": as_of, "prefix": prefix + "%", "recent_after": recent_after}
    )
    return [
        Holding(r.id, r.region_code, r.kind, r.fund_source, r.ref, int(r.balance), r.first_in_after or r.last_out,
                int(r.recent_in), r.last_old_in)
        for r in rows
    ]


def is_idle(holding: Holding, *, as_of: date, days: int) -> bool:
    """F3: money in a county pool or project account with no outflow for more than `days` days."""
    return holding.days(as_of) > days


def held_too_long_fen(holding: Holding) -> int:
    """F9: of what a province or city holds, the part received more than the window ago (first in, first out)."""
    return max(0, holding.balance_fen - holding.recent_in_fen)


_PROGRESS = text(
    """
    WITH acc AS (
        SELECT id, region_code, kind, balance_fen FROM accounts
        WHERE region_code LIKE :prefix AND region_code NOT LIKE '%00' AND kind IN ('pool', 'fund', 'project')
    ), live AS (
        SELECT t.* FROM transfers t WHERE t.kind IN ('allocation', 'arrangement', 'disbursement')
          AND NOT EXISTS (SELECT 1 FROM transfers r WHERE r.reverses_id = t.id)
    )
    SELECT acc.region_code,
           COALESCE(SUM(l.amount_fen) FILTER (WHERE l.kind = 'allocation' AND l.destination_account_id = acc.id), 0)
               AS received_fen,
           COALESCE(SUM(l.amount_fen) FILTER (WHERE l.kind = 'arrangement' AND l.destination_account_id = acc.id), 0)
               AS arranged_fen,
           COALESCE(SUM(l.amount_fen) FILTER (WHERE l.kind = 'disbursement' AND l.source_account_id = acc.id), 0)
               AS disbursed_fen
    FROM acc LEFT JOIN live l ON l.destination_account_id = acc.id OR l.source_account_id = acc.id
    GROUP BY acc.region_code ORDER BY acc.region_code
    """
)
_HELD = text(
    """
    SELECT region_code, COALESCE(SUM(balance_fen) FILTER (WHERE kind IN ('pool', 'fund')), 0) AS unarranged_fen,
           COALESCE(SUM(balance_fen) FILTER (WHERE kind = 'project'), 0) AS unpaid_fen
    FROM accounts WHERE region_code LIKE :prefix AND region_code NOT LIKE '%00' GROUP BY region_code
    """
)


async def progress(session: AsyncSession, *, prefix: str, as_of: date, idle_days: int) -> list[dict[str, Any]]:
    """Per county: received, arranged, disbursed, what is still held, what is idle (F3) and the spending rate."""
    rows = {r.region_code: dict(r._mapping) for r in await session.execute(_PROGRESS, {"prefix": prefix + "%"})}
    for r in await session.execute(_HELD, {"prefix": prefix + "%"}):
        rows.setdefault(r.region_code, {"region_code": r.region_code, "received_fen": 0, "arranged_fen": 0,
                                        "disbursed_fen": 0}).update(dict(r._mapping))
    idle: dict[str, int] = defaultdict(int)
    for h in await holdings(session, kinds=["pool", "project"], as_of=as_of, window_days=0, prefix=prefix):
        if region_level(h.region_code) == "county" and is_idle(h, as_of=as_of, days=idle_days):
            idle[h.region_code] += h.balance_fen
    items = []
    for code in sorted(rows):
        row = rows[code]
        received = int(row["received_fen"])
        items.append({
            "county_code": code,
            "received_fen": received,
            "arranged_fen": int(row["arranged_fen"]),
            "disbursed_fen": int(row["disbursed_fen"]),
            "unarranged_fen": int(row.get("unarranged_fen", 0)),
            "unpaid_fen": int(row.get("unpaid_fen", 0)),
            "idle_fen": idle[code],
            "spending_rate": round(int(row["disbursed_fen"]) / received, 6) if received else None,
        })
    return items
