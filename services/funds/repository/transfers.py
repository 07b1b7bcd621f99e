"""Reads over the transfers: the hops of a trace (A4), and the figures of the reports and detectors (F3, F9,
county progress), each within a region prefix."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import Transfer

_HOPS = """
    SELECT t.id AS transfer_id, t.kind, t.record_id, t.doc_no, t.occurred_on, t.amount_fen, t.fund_source,
           t.source_account_id, t.destination_account_id, rv.id AS reversed_by,
           s.region_code AS s_region, s.kind AS s_kind, s.ref AS s_ref,
           d.region_code AS d_region, d.kind AS d_kind, d.ref AS d_ref
    FROM transfers t JOIN accounts s ON s.id = t.source_account_id JOIN accounts d ON d.id = t.destination_account_id
    LEFT JOIN transfers rv ON rv.reverses_id = t.id
    WHERE t.kind <> 'reversal' AND {where} ORDER BY t.occurred_on, t.id
"""
_HOPS_OF_RECORD = text(_HOPS.format(where="t.record_id = :id"))
_HOPS_INTO = text(_HOPS.format(where="t.destination_account_id = ANY(CAST(:ids AS bigint[]))"))
_HOPS_OUT_OF = text(_HOPS.format(where="t.source_account_id = ANY(CAST(:ids AS bigint[]))"))


async def hops_of_record(session: AsyncSession, record_id: str) -> list[Row[Any]]:
    """The (unreversed-kind) transfers of a record, with both accounts and the reversal of each if any."""
    return list(await session.execute(_HOPS_OF_RECORD, {"id": record_id}))


async def hops_touching(session: AsyncSession, account_ids: Sequence[int], *, into: bool) -> list[Row[Any]]:
    """The transfers into (or out of) these accounts, as `hops_of_record` gives them."""
    return list(await session.execute(_HOPS_INTO if into else _HOPS_OUT_OF, {"ids": list(account_ids)}))


async def accounts_of_record(session: AsyncSession, record_id: str) -> list[Row[Any]]:
    """(source_account_id, destination_account_id) of every transfer of a record."""
    statement = select(col(Transfer.source_account_id), col(Transfer.destination_account_id)).where(
        col(Transfer.record_id) == record_id
    )
    return list(await session.execute(statement))


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


async def holdings(
    session: AsyncSession, *, kinds: Sequence[str], as_of: date, recent_after: date, prefix: str
) -> list[Row[Any]]:
    """Accounts of these kinds under `prefix` holding money on `as_of`: balance, last outflow, first inflow after
    it, inflows after `recent_after` and the last inflow on or before it."""
    params = {"kinds": list(kinds), "as_of": as_of, "prefix": prefix + "%", "recent_after": recent_after}
    return list(await session.execute(_HOLDINGS, params))


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


async def county_flows(session: AsyncSession, *, prefix: str) -> list[Row[Any]]:
    """Per county under `prefix`: received, arranged and disbursed, net of reversals."""
    return list(await session.execute(_PROGRESS, {"prefix": prefix + "%"}))


async def county_held(session: AsyncSession, *, prefix: str) -> list[Row[Any]]:
    """Per county under `prefix`: what its pool and fund accounts, and its projects, hold now."""
    return list(await session.execute(_HELD, {"prefix": prefix + "%"}))
