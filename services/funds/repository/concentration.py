"""The sums the concentration detectors judge (F19, F20): one statement each, over a scan's region, as of a day."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

# F19: what each household received per county and calendar year (its live payments, and its assets' dividends, P12),
# against the county's median of it; only the households above `multiple` × the median of a county-year with at least
# `min_households` households paid.
_HOUSEHOLDS_ABOVE_MEDIAN = text(
    """
    WITH received AS (
        SELECT d.county_code, d.paid_on, d.payee_id, d.amount_fen
        FROM disbursements d
        WHERE d.payee_kind = 'household' AND d.paid_on <= :as_of AND d.paid_on >= :since
          AND d.county_code LIKE :region
          AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = d.id AND r.reversed_on <= :as_of)
        UNION ALL
        SELECT v.county_code, v.paid_on, v.household_id, v.amount_fen
        FROM dividend_payments v
        WHERE v.paid_on <= :as_of AND v.paid_on >= :since AND v.county_code LIKE :region
    ), paid AS (
        SELECT county_code, extract(year FROM paid_on)::int AS year, payee_id,
               sum(amount_fen)::bigint AS total_fen, count(*) AS payments
        FROM received
        GROUP BY 1, 2, 3
    ), county AS (
        SELECT county_code, year, percentile_cont(0.5) WITHIN GROUP (ORDER BY total_fen) AS median_fen,
               count(*) AS households
        FROM paid GROUP BY 1, 2
    )
    SELECT p.county_code, p.year, p.payee_id, p.total_fen, p.payments, c.median_fen, c.households
    FROM paid p JOIN county c USING (county_code, year)
    WHERE c.households >= :min_households AND p.total_fen > :multiple * c.median_fen
    ORDER BY p.county_code, p.year, p.payee_id
    """
)

# F20: the live money arranged to each project per county and calendar year (the village is the project's, asked
# of the projects service).
_ARRANGED_BY_PROJECT = text(
    """
    SELECT a.county_code, extract(year FROM a.arranged_on)::int AS year, a.project_id,
           sum(a.amount_fen)::bigint AS arranged_fen
    FROM arrangements a
    WHERE a.arranged_on <= :as_of AND a.arranged_on >= :since AND a.county_code LIKE :region
      AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = a.id AND r.reversed_on <= :as_of)
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    """
)


async def households_above_median(
    session: AsyncSession, *, prefix: str, as_of: date, since: date, multiple: float, min_households: int
) -> list[Row[Any]]:
    params = {"region": prefix + "%", "as_of": as_of, "since": since, "multiple": multiple,
              "min_households": min_households}
    return list(await session.execute(_HOUSEHOLDS_ABOVE_MEDIAN, params))


async def arranged_by_project(session: AsyncSession, *, prefix: str, as_of: date, since: date) -> list[Row[Any]]:
    return list(await session.execute(_ARRANGED_BY_PROJECT, {"region": prefix + "%", "as_of": as_of, "since": since}))
