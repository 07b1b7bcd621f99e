"""Reads over the transfers, through their legs (models.TransferLeg: a transfer out of an account is its 'out' leg
there, into it its 'in' leg): the hops of a trace (A4), and the figures of the reports and detectors (F3, F9, county
progress), each within a region prefix."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import rawsql


# A hop: a transfer with both its accounts and the reversal of it, if any, read off one of its legs (`{leg}`: 'out',
# whose account is the source, or 'in', whose account is the destination; the other is its `counter_account_id`). The
# reversal is found by the leg of it on the same region: a reversal's 'out' leg is on the reversed transfer's
# destination account, its 'in' leg on the source (models.TransferLeg).
def _hop(leg: str) -> str:
    source, destination = ("t.account_id", "t.counter_account_id") if leg == "out" else (
        "t.counter_account_id", "t.account_id")
    return f"""
    SELECT t.transfer_id, t.kind, t.record_id, t.doc_no, t.occurred_on, t.amount_fen, t.fund_source,
           {source} AS source_account_id, {destination} AS destination_account_id, rv.transfer_id AS reversed_by,
           s.region_code AS s_region, s.kind AS s_kind, s.ref AS s_ref,
           d.region_code AS d_region, d.kind AS d_kind, d.ref AS d_ref
    FROM transfer_legs t JOIN accounts s ON s.id = {source} JOIN accounts d ON d.id = {destination}
    LEFT JOIN transfer_legs rv ON rv.reverses_id = t.transfer_id AND rv.region_code = t.region_code
                                  AND rv.leg <> t.leg
    WHERE t.leg = '{leg}' AND t.kind <> 'reversal'
    """


_HOPS_OF_RECORD = text(_hop("out") + """    AND t.record_id = :id ORDER BY t.occurred_on, t.transfer_id
""")


async def hops_of_record(session: AsyncSession, record_id: str) -> list[Row[Any]]:
    """The (unreversed-kind) transfers of a record, with both accounts and the reversal of each if any."""
    return list(await session.execute(_HOPS_OF_RECORD, {"id": record_id}))


# A page of the hops out of (or into) a set of accounts, in (account, date, transfer id) order after a key: each
# account's transfers out (or in) are its 'out' (or 'in') legs, a range of ix_transfer_legs_account, so a page reads
# about its own rows.
_HOPS_PAGE = """    AND t.account_id = ANY(CAST(:ids AS bigint[])) AND t.account_id >= :account
      AND (t.account_id, t.occurred_on, t.transfer_id) > (:account, :on, :after)
    ORDER BY t.account_id, t.occurred_on, t.transfer_id
    LIMIT :limit
"""
_HOPS_INTO_PAGE = text(_hop("in") + _HOPS_PAGE)
_HOPS_OUT_OF_PAGE = text(_hop("out") + _HOPS_PAGE)
# The accounts one hop further: where the money of these accounts went (their 'out' legs' other accounts), or
# (upstream) where it came from (their 'in' legs'), but a budget (where appropriated money comes from: the walk stops
# there). Downstream, a payee (where a disbursement goes) ends the walk too: no money leaves a payee's account but a
# reversal, which the walk does not follow, and a province's payees are too many to look up for nothing.
_NEXT_DOWN = text(
    """
    SELECT DISTINCT t.counter_account_id AS id FROM transfer_legs t
    WHERE t.leg = 'out' AND t.kind NOT IN ('reversal', 'disbursement') AND t.account_id = ANY(CAST(:ids AS bigint[]))
    """
)
_NEXT_UP = text(
    """
    SELECT DISTINCT t.counter_account_id AS id FROM transfer_legs t JOIN accounts s ON s.id = t.counter_account_id
    WHERE t.leg = 'in' AND t.kind <> 'reversal' AND t.account_id = ANY(CAST(:ids AS bigint[])) AND s.kind <> 'budget'
    """
)


async def hops_page(session: AsyncSession, account_ids: Sequence[int], *, into: bool, after: tuple[int, date, str],
                    limit: int) -> list[Row[Any]]:
    """Up to `limit` transfers into (or out of) these accounts, as `hops_of_record` gives them, in (account, date,
    transfer id) order after the key `after`."""
    account, on, after_id = after
    params = {"ids": list(account_ids), "account": account, "on": on, "after": after_id, "limit": limit}
    return list(await session.execute(_HOPS_INTO_PAGE if into else _HOPS_OUT_OF_PAGE, params))


async def next_accounts(session: AsyncSession, account_ids: Sequence[int], *, upstream: bool) -> list[int]:
    """The accounts the (unreversed-kind) transfers of these accounts came from (upstream, but a budget) or went to."""
    rows = await session.execute(_NEXT_UP if upstream else _NEXT_DOWN, {"ids": list(account_ids)})
    return [int(r.id) for r in rows]


_ACCOUNTS_OF_RECORD = text(
    """
    SELECT t.account_id AS source_account_id, t.counter_account_id AS destination_account_id FROM transfer_legs t
    WHERE t.record_id = :id AND t.leg = 'out'
    """
)


async def accounts_of_record(session: AsyncSession, record_id: str) -> list[Row[Any]]:
    """(source_account_id, destination_account_id) of every transfer of a record (its 'out' legs)."""
    return list(await session.execute(_ACCOUNTS_OF_RECORD, {"id": record_id}))


# An account's balance on `:as_of`: today's less what moved after that day (the ledger keeps the balance row equal
# to the sum of the account's transfers, ledger.py). The row also keeps the dates of its latest inflow and outflow
# (`last_in_on`, `last_out_on`), so the account's legs are probed (ix_transfer_legs_account, by account, side and
# date) only where something moved after the day: at a province's size, probing
# each of 30,000 accounts read 28,000 index pages to find nothing after today (bench/RESULTS.md, the console's
# reports page).
def _balance_on(as_of: str) -> str:
    """The balance of the account `a` on the day the placeholder `as_of` holds."""
    return f"""
    a.balance_fen
      - CASE WHEN a.last_in_on > {as_of}
             THEN COALESCE((SELECT SUM(t.amount_fen) FROM transfer_legs t
                            WHERE t.account_id = a.id AND t.leg = 'in' AND t.occurred_on > {as_of}), 0)
             ELSE 0 END
      + CASE WHEN a.last_out_on > {as_of}
             THEN COALESCE((SELECT SUM(t.amount_fen) FROM transfer_legs t
                            WHERE t.account_id = a.id AND t.leg = 'out' AND t.occurred_on > {as_of}), 0)
             ELSE 0 END
    """


def _recent_in(account: str, *, recent_after: str, as_of: str) -> str:
    """F3's recent inflows of the account `account` (a CTE's row carrying its `last_in_on` as `last_in`): what came
    in after the day `recent_after` holds up to `as_of`'s, probed only when something came in after the first."""
    return f"""
    CASE WHEN {account}.last_in > {recent_after}
         THEN (SELECT COALESCE(SUM(t.amount_fen), 0) FROM transfer_legs t
               WHERE t.account_id = {account}.id AND t.leg = 'in' AND t.occurred_on > {recent_after}
                 AND t.occurred_on <= {as_of})
         ELSE 0 END
    """


# Per account of the given kinds under a prefix: its last outflow on or before `as_of`, its balance on that day, the
# first inflow after that outflow and, when `windowed`, the inflows after `recent_after` and the last inflow on or
# before it. Each figure is read off the account's row where its dates of latest inflow and outflow answer it, else a
# probe of its legs on ix_transfer_legs_account (account, side, date), never a read of every
# move: the balance on a date is `_balance_on`, the last outflow is the row's `last_out_on` unless that lies after
# `as_of`, no inflow came after the last outflow if the row's `last_in_on` is not later. The accounts come from
# ix_accounts_kind_region. `oldest_held`
# (F3, first in, first out: an outflow spends the oldest money) is the day of the oldest inflow part of which is
# still held: the inflows read newest first, on ix_transfer_legs_account, until they add up to the balance.
_HOLDINGS = text(
    f"""
    WITH acc AS MATERIALIZED (
        SELECT a.id, a.region_code, a.kind, a.fund_source, a.ref, {_balance_on(":as_of")} AS balance,
               a.last_in_on AS last_in,
               CASE WHEN a.last_out_on IS NULL OR a.last_out_on <= :as_of THEN a.last_out_on
                    ELSE (SELECT MAX(t.occurred_on) FROM transfer_legs t
                          WHERE t.account_id = a.id AND t.leg = 'out' AND t.occurred_on <= :as_of) END AS last_out
        FROM accounts a
        WHERE a.kind = ANY(CAST(:kinds AS varchar[])) AND a.region_code LIKE :prefix
    ), quiet AS MATERIALIZED (
        SELECT acc.id, acc.region_code, acc.kind, acc.fund_source, acc.ref, acc.last_out, acc.balance, acc.last_in
        FROM acc WHERE acc.balance > 0
    )
    SELECT quiet.id, quiet.region_code, quiet.kind, quiet.fund_source, quiet.ref, quiet.last_out, quiet.balance,
           CASE WHEN quiet.last_out IS NULL OR quiet.last_in > quiet.last_out THEN
               (SELECT MIN(t.occurred_on) FROM transfer_legs t
                WHERE t.account_id = quiet.id AND t.leg = 'in' AND t.occurred_on <= :as_of
                  AND (quiet.last_out IS NULL OR t.occurred_on > quiet.last_out)) END AS first_in_after,
           CASE WHEN :windowed THEN {_recent_in("quiet", recent_after=":recent_after", as_of=":as_of")}
                ELSE 0 END AS recent_in,
           CASE WHEN :windowed THEN
               CASE WHEN quiet.last_in <= :recent_after THEN quiet.last_in
                    ELSE (SELECT MAX(t.occurred_on) FROM transfer_legs t
                          WHERE t.account_id = quiet.id AND t.leg = 'in' AND t.occurred_on <= :recent_after) END
               END AS last_old_in,
           CASE WHEN :windowed THEN
               (SELECT fifo.occurred_on FROM (
                    SELECT t.occurred_on,
                           SUM(t.amount_fen) OVER (ORDER BY t.occurred_on DESC, t.transfer_id DESC) AS newer
                    FROM transfer_legs t WHERE t.account_id = quiet.id AND t.leg = 'in' AND t.occurred_on <= :as_of
                    ORDER BY t.occurred_on DESC, t.transfer_id DESC) fifo
                WHERE fifo.newer >= quiet.balance LIMIT 1) END AS oldest_held
    FROM quiet
    ORDER BY quiet.id
    """
)

# F3's two figures alone, for the progress report: per account of the kinds $1 under the prefix $3 holding money on
# the day $2, its balance then and its inflows after the day $4 (none of the dates the detector's facts need). Run
# on asyncpg (kernel/rawsql): a province's 30,000 rows cost SQLAlchemy ~70 ms to make, more than the query.
_IDLE_INPUTS = f"""
    WITH acc AS MATERIALIZED (
        SELECT a.id, a.region_code, {_balance_on("$2")} AS balance, a.last_in_on AS last_in
        FROM accounts a
        WHERE a.kind = ANY($1::varchar[]) AND a.region_code LIKE $3
    )
    SELECT acc.region_code, acc.balance, {_recent_in("acc", recent_after="$4", as_of="$2")} AS recent_in
    FROM acc WHERE acc.balance > 0
"""


async def holdings(
    session: AsyncSession, *, kinds: Sequence[str], as_of: date, recent_after: date | None, prefix: str,
) -> list[Row[Any]]:
    """Accounts of these kinds under `prefix` holding money on `as_of`: balance, last outflow, first inflow after
    it and, given `recent_after`, the inflows after it, the last inflow on or before it and the day of the oldest
    inflow still held (else 0 and nulls)."""
    params = {"kinds": list(kinds), "as_of": as_of, "prefix": prefix + "%", "windowed": recent_after is not None,
              "recent_after": recent_after or as_of}
    return list(await session.execute(_HOLDINGS, params))


async def idle_inputs(
    session: AsyncSession, *, kinds: Sequence[str], as_of: date, recent_after: date, prefix: str,
) -> list[asyncpg.Record]:
    """Accounts of these kinds under `prefix` holding money on `as_of`: region, balance then, and the inflows after
    `recent_after` (F3's figures, without the dates the detector's facts need)."""
    return await rawsql.fetch(session, _IDLE_INPUTS, list(kinds), as_of, prefix + "%", recent_after)


# Per county under a prefix, net of reversals, from the records rather than their transfers (a record's transfers
# sum to its amount, and a reversal undoes all of them): received = the allocations to it, arranged = its
# arrangements, unarranged/unpaid = what its pool and fund accounts and its projects hold now. Disbursed is
# arranged − unpaid: a project account receives only arrangements and pays only disbursements (and their
# reversals move the same amounts back), so its balance is its net arrangements less its net disbursements. The
# disbursements themselves (millions in a province) are never read: tests/funds/test_reports.py checks the figure
# against their sum.
_PROGRESS = text(
    """
    WITH held AS (
        SELECT region_code, COALESCE(SUM(balance_fen) FILTER (WHERE kind IN ('pool', 'fund')), 0) AS unarranged_fen,
               COALESCE(SUM(balance_fen) FILTER (WHERE kind = 'project'), 0) AS unpaid_fen
        FROM accounts
        WHERE kind IN ('pool', 'fund', 'project') AND region_code LIKE :prefix AND region_code NOT LIKE '%00'
        GROUP BY region_code
    ), received AS (
        SELECT a.to_region AS region_code, SUM(a.amount_fen) AS received_fen FROM allocations a
        WHERE a.to_region LIKE :prefix AND a.to_region NOT LIKE '%00'
          AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = a.id)
        GROUP BY a.to_region
    ), arranged AS (
        SELECT a.county_code AS region_code, SUM(a.amount_fen) AS arranged_fen FROM arrangements a
        WHERE a.county_code LIKE :prefix
          AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = a.id)
        GROUP BY a.county_code
    )
    SELECT held.region_code, COALESCE(received.received_fen, 0) AS received_fen,
           COALESCE(arranged.arranged_fen, 0) AS arranged_fen,
           COALESCE(arranged.arranged_fen, 0) - held.unpaid_fen AS disbursed_fen, held.unarranged_fen,
           held.unpaid_fen
    FROM held LEFT JOIN received USING (region_code) LEFT JOIN arranged USING (region_code)
    ORDER BY held.region_code
    """
)


async def county_progress(session: AsyncSession, *, prefix: str) -> list[Row[Any]]:
    """Per county under `prefix`: received, arranged and disbursed (net of reversals), and what its pool and fund
    accounts, and its projects, hold now."""
    return list(await session.execute(_PROGRESS, {"prefix": prefix + "%"}))
