"""Disbursements (project → payee) and the payments the detectors look at (F8, F10), within a scan's region."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.funds.models import Disbursement
from services.funds.repository.unique import Duplicate


async def insert_disbursement(session: AsyncSession, **values: Any) -> None:
    """Duplicate for a voucher already posted in the county."""
    try:
        await session.execute(insert(Disbursement).values(**values))
    except IntegrityError as exc:
        raise Duplicate(str(exc.orig)) from exc


# Each live payment against the one before it of the same payee, project and amount (the nearest earlier one: if
# any earlier payment is within the window, that one is): one ordered pass over the payments (a window over
# ix_disbursements_repeats), where pairing every payment with every earlier one was a self-join of millions.
_DUPLICATES = text(
    """
    WITH live AS (
        SELECT d.id, d.county_code, d.project_id, d.payee_id, d.amount_fen, d.paid_on, d.voucher_no, d.responsible_org
        FROM disbursements d
        WHERE d.paid_on <= :as_of AND d.county_code LIKE :region
          AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = d.id AND r.reversed_on <= :as_of)
    ), paired AS (
        SELECT live.*, lag(id) OVER w AS first_id, lag(paid_on) OVER w AS first_paid_on,
               lag(voucher_no) OVER w AS first_voucher_no
        FROM live
        WINDOW w AS (PARTITION BY payee_id, project_id, amount_fen ORDER BY paid_on, id)
    )
    SELECT id, county_code, project_id, payee_id, amount_fen, paid_on, voucher_no, responsible_org, first_id,
           first_paid_on, first_voucher_no
    FROM paired WHERE first_id IS NOT NULL AND paid_on - first_paid_on <= :days
    ORDER BY id
    """
)


async def repeated(session: AsyncSession, *, prefix: str, as_of: date, days: int) -> list[Row[Any]]:
    """Payments under `prefix` repeating an earlier one (same payee, project, amount) within `days`, as of a date,
    each with the nearest earlier one."""
    params = {"days": days, "as_of": as_of, "region": prefix + "%"}
    return list(await session.execute(_DUPLICATES, params))


# A live payment to a household under the scan's region, paid in the lookback window and by the day (F10).
_LIVE_TO_HOUSEHOLDS = """
    d.payee_kind = 'household' AND d.paid_on <= :as_of AND d.paid_on > :since AND d.county_code LIKE :region
    AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = d.id AND r.reversed_on <= :as_of)
"""
_HOUSEHOLD_PAYMENTS = text(
    f"""
    SELECT d.id, d.county_code, d.project_id, d.payee_id, d.amount_fen, d.paid_on, d.responsible_org
    FROM disbursements d
    WHERE {_LIVE_TO_HOUSEHOLDS}
    """
)
# The same, of those only that a run following a mark must judge (issue #20): recorded by a transaction at or after
# the mark's (kernel/marks: ix_disbursements_xid), paid after its as_of (ix_disbursements_paid_on), or to a household
# whose standing changed since (ix_disbursements_payee_id). Each picked by its own index, then the common conditions.
_HOUSEHOLD_PAYMENTS_SINCE = text(
    f"""
    WITH picked AS (
        SELECT p.id FROM disbursements p WHERE p.xid >= CAST(CAST(:recorded_from AS text) AS xid8)
        UNION
        SELECT p.id FROM disbursements p WHERE p.paid_on > :last_as_of
        UNION
        SELECT p.id FROM disbursements p WHERE p.payee_id = ANY(CAST(:payees AS text[]))
    )
    SELECT d.id, d.county_code, d.project_id, d.payee_id, d.amount_fen, d.paid_on, d.responsible_org
    FROM picked JOIN disbursements d ON d.id = picked.id
    WHERE {_LIVE_TO_HOUSEHOLDS}
    """
)


@dataclass(frozen=True)
class Since:
    """What changed since a run's mark: payments recorded by transaction `recorded_from` or a later one, or paid
    after `last_as_of`, or to one of `payees` (households whose standing changed)."""

    recorded_from: int
    last_as_of: date
    payees: Sequence[str]


async def to_households(session: AsyncSession, *, prefix: str, as_of: date, since: date, part: int,
                        changed: Since | None = None) -> AsyncGenerator[list[Row[Any]], None]:
    """Live payments to households under `prefix`, made after `since` and on or before `as_of` (and, given what
    `changed`, only those), `part` at a time (read through a server-side cursor: never all in memory)."""
    params: dict[str, Any] = {"as_of": as_of, "since": since, "region": prefix + "%"}
    query = _HOUSEHOLD_PAYMENTS
    if changed is not None:
        query = _HOUSEHOLD_PAYMENTS_SINCE
        params.update(recorded_from=str(changed.recorded_from), last_as_of=changed.last_as_of,
                      payees=list(changed.payees))
    result = await session.stream(query, params)
    try:
        async for rows in result.partitions(part):
            yield list(rows)
    finally:  # also when the caller stops early (closed by `aclosing`): the server's cursor with it
        await result.close()
