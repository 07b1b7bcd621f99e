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
from services.funds.repository.unique import as_duplicate


async def insert_disbursement(session: AsyncSession, **values: Any) -> None:
    """Duplicate for a voucher already posted in the county."""
    try:
        await session.execute(insert(Disbursement).values(**values))
    except IntegrityError as exc:
        raise as_duplicate(exc) from exc


# A live payment under the scan's region by the day: paid on or before it (in view), not reversed by then (F8, F10).
_IN_VIEW = "d.paid_on <= :as_of AND d.county_code LIKE :region"
_LIVE = f"""
    {_IN_VIEW}
    AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = d.id AND r.reversed_on <= :as_of)
"""
# Not reversed by the day, asked of uq_reversals_target payment by payment (by its key: at most one row): for the few
# payments of the groups a run following a mark pairs. As the anti-join above, the planner, estimating one payment
# from the groups' join, scanned every reversal for each payment (2,740 groups against 3,000 reversals: 13.9 s
# instead of 0.2 s).
_NOT_REVERSED_PROBED = ("coalesce((SELECT r.reversed_on FROM reversals r WHERE r.county_code = d.county_code "
                        "AND r.target_id = d.id) > :as_of, true)")
_PAYMENT = "d.id, d.county_code, d.project_id, d.payee_id, d.amount_fen, d.paid_on, d.voucher_no, d.responsible_org"
# Each live payment against the one before it of the same payee, project and amount (the nearest earlier one: if
# any earlier payment is within the window, that one is): one ordered pass over the payments, where pairing every
# payment with every earlier one was a self-join of millions. Follows a `live` of the payments to judge.
_PAIRED = """
    paired AS (
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
_DUPLICATES = text(f"WITH live AS (SELECT {_PAYMENT} FROM disbursements d WHERE {_LIVE}), {_PAIRED}")
# The same over the given groups only (a run following a mark, D1), each read by ix_disbursements_repeats.
_DUPLICATES_IN_GROUPS = text(
    f"""
    WITH g AS (
        SELECT * FROM unnest(CAST(:payees AS text[]), CAST(:projects AS text[]), CAST(:amounts AS bigint[]))
                      AS g(payee_id, project_id, amount_fen)
    ), live AS (
        SELECT {_PAYMENT} FROM g
        JOIN disbursements d ON d.payee_id = g.payee_id AND d.project_id = g.project_id AND d.amount_fen = g.amount_fen
        WHERE {_IN_VIEW} AND {_NOT_REVERSED_PROBED}
    ), {_PAIRED}
    """
)
# The groups (payee, project, amount) under the scan's region in which the pairing as of :as_of can differ from the
# pairing as of the mark's day (F8 incremental, D1): a payment recorded by a transaction at or after the mark's
# (ix_disbursements_xid) or paid after the mark's as_of (ix_disbursements_paid_on); a reversal recorded so
# (ix_reversals_xid) or dated after the mark's as_of (ix_reversals_reversed_on), by the group of the payment it
# reverses. Only what is in view as of :as_of: what is dated later is read by the run whose day reaches it.
_TOUCHED_GROUPS = text(
    """
    WITH touched AS (
        SELECT d.id FROM disbursements d WHERE d.xid >= CAST(CAST(:recorded_from AS text) AS xid8)
        UNION
        SELECT d.id FROM disbursements d WHERE d.paid_on > :last_as_of AND d.paid_on <= :as_of
        UNION
        SELECT r.target_id FROM reversals r
        WHERE r.xid >= CAST(CAST(:recorded_from AS text) AS xid8) AND r.reversed_on <= :as_of
        UNION
        SELECT r.target_id FROM reversals r WHERE r.reversed_on > :last_as_of AND r.reversed_on <= :as_of
    )
    SELECT DISTINCT d.payee_id, d.project_id, d.amount_fen
    FROM touched JOIN disbursements d ON d.id = touched.id
    WHERE d.paid_on <= :as_of AND d.county_code LIKE :region
    LIMIT :most
    """
)


@dataclass(frozen=True)
class Group:
    """The payments DUPLICATE_PAYMENT pairs with each other: one payee's of one amount for one project."""

    payee_id: str
    project_id: str
    amount_fen: int


async def touched_groups(session: AsyncSession, *, prefix: str, as_of: date, recorded_from: int, last_as_of: date,
                         most: int) -> list[Group]:
    """The groups under `prefix` touched since a mark (recorded by transaction `recorded_from` or a later one, or
    dated after `last_as_of`), as of `as_of`; at most `most` + 1 of them (more than `most`: too many to name)."""
    params = {"as_of": as_of, "region": prefix + "%", "recorded_from": str(recorded_from), "last_as_of": last_as_of,
              "most": most + 1}
    return [Group(*row) for row in await session.execute(_TOUCHED_GROUPS, params)]


async def repeated(session: AsyncSession, *, prefix: str, as_of: date, days: int,
                   groups: Sequence[Group] | None = None) -> list[Row[Any]]:
    """Payments under `prefix` repeating an earlier one (same payee, project, amount) within `days`, as of a date,
    each with the nearest earlier one; of the given `groups` only, when given."""
    params: dict[str, Any] = {"days": days, "as_of": as_of, "region": prefix + "%"}
    if groups is None:
        return list(await session.execute(_DUPLICATES, params))
    if not groups:
        return []
    params.update(payees=[g.payee_id for g in groups], projects=[g.project_id for g in groups],
                  amounts=[g.amount_fen for g in groups])
    return list(await session.execute(_DUPLICATES_IN_GROUPS, params))


# A live payment to a household under the scan's region, paid in the lookback window and by the day (F10).
_LIVE_TO_HOUSEHOLDS = f"d.payee_kind = 'household' AND d.paid_on > :since AND {_LIVE}"
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
