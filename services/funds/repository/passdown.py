"""F9 (extended) end to end: central money of a province's chain not yet at its counties, first in, first out, in one
statement over the records (issue #17 point 6)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

# Per (province, fund source): the money entering the chain above its counties, oldest first (central allocations
# to the province or one of its cities: the central documents; the province's and cities' own appropriations), and
# what reached its counties from the province or a city. What reached the counties is taken from the oldest money
# entering first; a central inflow older than the window keeps the part not so taken (`late_fen`). Reversed records
# (by `as_of`) count for nothing. Every read is a range of an index on the allocations' regions or the
# appropriations' key, and the province's few thousand inflows are summed once in a window.
_LATE_CENTRAL = text(
    """
    WITH inflow AS (
        SELECT substr(a.to_region, 1, 2) || '0000' AS province, a.fund_source, a.issued_on AS on_day, a.id,
               a.amount_fen, true AS central, a.doc_no
        FROM allocations a
        WHERE a.from_region = '000000' AND a.to_region LIKE :prefix AND a.to_region LIKE '%00'
          AND a.issued_on <= :as_of
          AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = a.id AND r.reversed_on <= :as_of)
        UNION ALL
        SELECT substr(p.region_code, 1, 2) || '0000', p.fund_source, p.appropriated_on, p.id, p.amount_fen, false,
               p.doc_no
        FROM appropriations p
        WHERE p.region_code LIKE :prefix AND p.region_code LIKE '%00' AND p.region_code <> '000000'
          AND p.appropriated_on <= :as_of
          AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = p.id AND r.reversed_on <= :as_of)
    ), queue AS (
        SELECT i.*, SUM(i.amount_fen) OVER (PARTITION BY i.province, i.fund_source ORDER BY i.on_day, i.id)
                    - i.amount_fen AS before_fen
        FROM inflow i
    ), arrived AS (
        SELECT substr(a.to_region, 1, 2) || '0000' AS province, a.fund_source, SUM(a.amount_fen) AS fen
        FROM allocations a
        WHERE a.to_region LIKE :prefix AND a.to_region NOT LIKE '%00' AND a.from_region <> '000000'
          AND a.issued_on <= :as_of
          AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = a.id AND r.reversed_on <= :as_of)
        GROUP BY 1, 2
    )
    SELECT q.province, q.fund_source,
           SUM(LEAST(q.amount_fen, q.before_fen + q.amount_fen - COALESCE(ar.fen, 0))) AS late_fen,
           MIN(q.on_day) AS since, (array_agg(q.doc_no ORDER BY q.on_day, q.id))[1] AS doc_no
    FROM queue q LEFT JOIN arrived ar USING (province, fund_source)
    WHERE q.central AND q.on_day < :due_before AND q.before_fen + q.amount_fen > COALESCE(ar.fen, 0)
    GROUP BY q.province, q.fund_source
    ORDER BY q.province, q.fund_source
    """
)


async def late_central(session: AsyncSession, *, prefix: str, as_of: date, window_days: int) -> list[Row[Any]]:
    """(province, fund_source, late_fen, since, doc_no) of the provinces under `prefix`: central money issued more
    than `window_days` days before `as_of` that had not reached a county by then; `since` and `doc_no` name the
    oldest such central document."""
    due_before = date.fromordinal(as_of.toordinal() - window_days)
    params = {"prefix": prefix[:2] + "%", "as_of": as_of, "due_before": due_before}
    return list(await session.execute(_LATE_CENTRAL, params))
