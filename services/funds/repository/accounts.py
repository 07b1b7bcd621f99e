"""Accounts and their balance rows: the ledger's hot statements (straight on asyncpg, kernel/rawsql.py), the
existing accounts of a region, and the balances a principal may read (jurisdiction applied in `readable`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import Account
from services.kernel import rawsql
from services.kernel.scope import in_region

BUDGET = "budget"

# The accounts of the keys given as four arrays (region, kind, fund source, ref), in id order: locked, or as last
# committed. Locking in ascending id order (as Formance does) keeps concurrent changes from deadlocking.
_BALANCES = """
    SELECT a.id, a.region_code, a.kind, a.fund_source, a.ref, a.balance_fen
    FROM accounts a
    JOIN unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[]) AS want(r, k, f, x)
      ON a.region_code = want.r AND a.kind = want.k AND a.fund_source = want.f AND a.ref = want.x
    ORDER BY a.id
"""
_LOCKED_BALANCES = _BALANCES + "FOR UPDATE OF a"
# Created in key order, so two transactions creating the same accounts wait for each other in one order.
_CREATE = """
    INSERT INTO accounts (region_code, kind, fund_source, ref)
    SELECT r, k, f, x FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[]) AS want(r, k, f, x)
    ORDER BY r, k, f, x
    ON CONFLICT ON CONSTRAINT uq_accounts_key DO NOTHING
"""
# Both legs of each transfer ($1–$12, one array per column of a transfer: id, source and destination account, amount,
# kind, fund source, record, document, date, reversed transfer, the source's and the destination's region): the
# 'out' leg on the source's region, the 'in' leg on the destination's (models.TransferLeg), in one statement with the
# balances. `{where}` gates the insert.
_LEGS = """
        INSERT INTO transfer_legs (region_code, transfer_id, leg, account_id, counter_account_id, amount_fen, kind,
                                   fund_source, record_id, doc_no, occurred_on, reverses_id)
        SELECT CASE s.leg WHEN 'out' THEN m.src_region ELSE m.dst_region END, m.id, s.leg,
               CASE s.leg WHEN 'out' THEN m.src ELSE m.dst END, CASE s.leg WHEN 'out' THEN m.dst ELSE m.src END,
               m.amount, m.kind, m.fund, m.record, m.doc, m.day, m.reverses
        FROM unnest($1::varchar[], $2::bigint[], $3::bigint[], $4::bigint[], $5::varchar[], $6::varchar[],
                    $7::varchar[], $8::varchar[], $9::date[], $10::varchar[], $11::varchar[], $12::varchar[])
             AS m(id, src, dst, amount, kind, fund, record, doc, day, reverses, src_region, dst_region)
        CROSS JOIN (VALUES ('out'), ('in')) AS s(leg)
        {where}
        RETURNING 1
"""
# Each account's latest outflow and inflow of the transfers.
_DAYS = """
    outs AS (
        SELECT o.id, max(o.day) AS day FROM unnest($2::bigint[], $9::date[]) AS o(id, day) GROUP BY o.id
    ), ins AS (
        SELECT i.id, max(i.day) AS day FROM unnest($3::bigint[], $9::date[]) AS i(id, day) GROUP BY i.id
    )
"""
# The legs and the balance changes ($13 account ids, $14 deltas; every account money leaves or enters is among them,
# its `last_out_on` and `last_in_on` moved to its latest outflow and inflow), in one round trip: the balance rows are
# locked, so the less time passes between the lock and the commit, the more transactions one hot account (a
# province's treasury) serves per second.
_WRITE = f"""
    WITH moved AS ({_LEGS.format(where="")}), {_DAYS}, balanced AS (
        UPDATE accounts AS a SET balance_fen = a.balance_fen + d.delta, last_out_on = GREATEST(a.last_out_on, outs.day),
                                 last_in_on = GREATEST(a.last_in_on, ins.day)
        FROM unnest($13::bigint[], $14::bigint[]) AS d(id, delta) LEFT JOIN outs ON outs.id = d.id
             LEFT JOIN ins ON ins.id = d.id
        WHERE a.id = d.id
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM moved) AS legs, (SELECT count(*) FROM balanced) AS balances
"""
# The same write in one statement that first locks the rows (in id order) and writes only if their balances still
# cover what was planned on unlocked balances ($15 account ids, $16 `need`: the most each goes down at any point).
# The aggregate reads every locked row, so all are locked before the writes, which run only if `ok`.
_WRITE_IF_COVERED = f"""
    WITH locked AS (
        SELECT a.id, a.balance_fen FROM accounts a WHERE a.id = ANY($13::bigint[]) ORDER BY a.id FOR UPDATE
    ), covered AS (
        SELECT count(*) = cardinality($13::bigint[]) AND coalesce(bool_and(l.balance_fen >= n.need), true)
               AS ok
        FROM locked l
        LEFT JOIN unnest($15::bigint[], $16::bigint[]) AS n(id, need) ON n.id = l.id
    ), moved AS ({_LEGS.format(where="WHERE (SELECT ok FROM covered)")}), {_DAYS}, balanced AS (
        UPDATE accounts AS a SET balance_fen = a.balance_fen + d.delta, last_out_on = GREATEST(a.last_out_on, outs.day),
                                 last_in_on = GREATEST(a.last_in_on, ins.day)
        FROM unnest($13::bigint[], $14::bigint[]) AS d(id, delta) LEFT JOIN outs ON outs.id = d.id
             LEFT JOIN ins ON ins.id = d.id
        WHERE a.id = d.id AND (SELECT ok FROM covered)
        RETURNING 1
    )
    SELECT (SELECT ok FROM covered) AS ok, (SELECT count(*) FROM moved) AS legs,
           (SELECT count(*) FROM balanced) AS balances
"""

KeyColumns = tuple[list[str], list[str], list[str], list[str]]


async def balances(session: AsyncSession, keys: KeyColumns, *, lock: bool) -> list[asyncpg.Record]:
    """The accounts of `keys` that exist, in id order: locked FOR UPDATE, or as last committed (`lock=False`)."""
    return await rawsql.fetch(session, _LOCKED_BALANCES if lock else _BALANCES, *keys)


async def create(session: AsyncSession, keys: KeyColumns) -> None:
    """Create the accounts of `keys` that do not exist yet (with a 0 balance)."""
    await rawsql.execute(session, _CREATE, *keys)


async def write(session: AsyncSession, transfers: Sequence[list[Any]], deltas: dict[int, int]) -> None:
    """Insert both legs of each transfer (one array per column of a transfer) and add `deltas` to the balances: the
    rows are locked."""
    await rawsql.fetch(session, _WRITE, *transfers, list(deltas), list(deltas.values()))


async def write_if_covered(
    session: AsyncSession, transfers: Sequence[list[Any]], deltas: dict[int, int], needs: dict[int, int]
) -> bool:
    """Lock every account of `deltas`, and write only if each of `needs` still holds at least its need; False (and
    nothing written, the rows now locked) if one does not."""
    row = await rawsql.fetchrow(session, _WRITE_IF_COVERED, *transfers, list(deltas), list(deltas.values()),
                                list(needs), list(needs.values()))
    return row is not None and bool(row["ok"])


async def keys_of(
    session: AsyncSession, *, region_code: str, kinds: Sequence[str], ref: str = "", fund_source: str | None = None
) -> list[Account]:
    """The existing accounts of a region (and ref) of these kinds, in fund-source order (not locked)."""
    statement = select(Account).where(
        col(Account.region_code) == region_code, col(Account.kind).in_(kinds), col(Account.ref) == ref
    )
    if fund_source is not None:
        statement = statement.where(col(Account.fund_source) == fund_source)
    found = await session.execute(statement.order_by(col(Account.fund_source), col(Account.kind)))
    return list(found.scalars())


async def with_ref(session: AsyncSession, *, kind: str, ref: str) -> list[Account]:
    """The accounts of a project or a payee (every region and fund source)."""
    found = await session.execute(select(Account).where(col(Account.kind) == kind, col(Account.ref) == ref))
    return list(found.scalars())


def readable(prefix: str) -> Select[*tuple[Any, ...]]:
    """The accounts under a region prefix (the jurisdiction a list is scoped to), but the external budget ones: the
    columns a balance is shown with, as plain rows (a page is 500 accounts: building ORM objects of them took twice
    the CPU of the rest of the request, issue #20)."""
    return select(
        col(Account.id), col(Account.region_code), col(Account.kind), col(Account.fund_source), col(Account.ref),
        col(Account.balance_fen),
    ).where(in_region(col(Account.region_code), prefix), col(Account.kind) != BUDGET)


async def list_readable(session: AsyncSession, *, prefix: str, after: int, limit: int) -> list[Row[Any]]:
    """A page of `readable(prefix)`, by id from `after` on."""
    statement = readable(prefix).where(col(Account.id) > after).order_by(col(Account.id)).limit(limit)
    return list((await session.execute(statement)).all())
