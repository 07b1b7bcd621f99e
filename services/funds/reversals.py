"""Corrections (冲正): a reversal posts, for every transfer of a record, the compensating transfer back.

Nothing is edited or deleted. A record is reversed at most once (a unique index, safe under concurrency); a
compensating entry is not itself reversed (post the movement again instead); a reversal cannot overdraw: if the
money has already moved on, the later movements must be reversed first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import codes
from services.funds.ledger import AccountKey, open_book
from services.funds.schemas import ReversalCreate, ReversalRead
from services.kernel import clock
from services.kernel.errors import Conflict, NotFound, NotInJurisdiction, RuleViolation
from services.kernel.identity import Principal
from services.kernel.ids import new_id

# Where each kind of record lives and which region answers for it (jurisdiction of a correction).
_RECORDS = {
    "appropriation": ("appropriations", "region_code"),
    "allocation": ("allocations", "from_region"),
    "arrangement": ("arrangements", "county_code"),
    "disbursement": ("disbursements", "county_code"),
}
_TRANSFERS = text(
    """
    SELECT t.id, t.kind, t.record_id, t.amount_fen,
           s.region_code AS s_region, s.kind AS s_kind, s.fund_source AS s_fund, s.ref AS s_ref,
           d.region_code AS d_region, d.kind AS d_kind, d.fund_source AS d_fund, d.ref AS d_ref
    FROM transfers t JOIN accounts s ON s.id = t.source_account_id JOIN accounts d ON d.id = t.destination_account_id
    WHERE t.record_id = :record ORDER BY t.id
    """
)


async def _target(session: AsyncSession, target_id: str) -> tuple[str, str, list[Any]]:
    """(kind, answering region, transfers) of the record named by a record id or by one of its transfers' ids."""
    record_id = target_id
    if target_id.startswith("trf_"):
        row = (await session.execute(text("SELECT record_id FROM transfers WHERE id = :id"), {"id": target_id})).first()
        if row is None:
            raise NotFound(f"没有这笔转账 / no transfer {target_id}", field="target_id")
        record_id = row.record_id
    transfers = list(await session.execute(_TRANSFERS, {"record": record_id}))
    if not transfers:
        raise NotFound(f"没有可冲正的记录 / no record {target_id} to reverse", field="target_id")
    kind = transfers[0].kind
    if kind == "reversal":
        raise RuleViolation(
            f"冲正记录不能再冲正 / {target_id} is itself a reversal: post the movement again instead",
            code=codes.REVERSAL_NOT_REVERSIBLE,
            field="target_id",
        )
    table, region_column = _RECORDS[kind]
    region = (
        await session.execute(text(f"SELECT {region_column} FROM {table} WHERE id = :id"), {"id": record_id})
    ).scalar_one()
    return kind, str(region), transfers


def already_reversed(target_id: str) -> Conflict:
    return Conflict(f"该记录已冲正 / {target_id} has already been reversed", code=codes.ALREADY_REVERSED,
                    field="target_id")


async def reverse(session: AsyncSession, *, principal: Principal, body: ReversalCreate) -> ReversalRead:
    kind, region, transfers = await _target(session, body.target_id)
    if not principal.covers(region):
        raise NotInJurisdiction(f"{body.target_id} 不在管辖范围内 / the record is outside your jurisdiction",
                                field="target_id")
    record_id = transfers[0].record_id
    reversal_id, on = new_id("rev"), body.reversed_on or clock.today()
    try:
        await session.execute(
            text("INSERT INTO reversals (id, target_id, target_kind, reason, reversed_on, created_by) "
                 "VALUES (:id, :target, :kind, :reason, :on, :by)"),
            {"id": reversal_id, "target": record_id, "kind": kind, "reason": body.reason, "on": on, "by": principal.id},
        )
    except IntegrityError as exc:
        raise already_reversed(body.target_id) from exc
    if kind == "arrangement":
        await _unarrange(session, record_id)
    pairs = [(AccountKey(t.s_region, t.s_kind, t.s_fund, t.s_ref), AccountKey(t.d_region, t.d_kind, t.d_fund, t.d_ref))
             for t in transfers]
    book = await open_book(session, [k for pair in pairs for k in pair])  # all exist
    posted = [
        book.move(destination, source, t.amount_fen, kind="reversal", record_id=reversal_id, doc_no=record_id,
                  occurred_on=on, reverses_id=t.id)
        for (source, destination), t in zip(pairs, transfers, strict=True)
    ]
    await book.flush(session)
    return ReversalRead(id=reversal_id, target_id=record_id, target_kind=kind, reason=body.reason, reversed_on=on,
                        transfer_ids=[p.id for p in posted])


async def _unarrange(session: AsyncSession, arrangement_id: str) -> None:
    """An arrangement's reversal gives its amount back to the project's budget headroom (F4)."""
    await session.execute(
        text("UPDATE project_ledgers p SET arranged_fen = p.arranged_fen - a.amount_fen FROM arrangements a "
             "WHERE a.id = :id AND p.project_id = a.project_id"),
        {"id": arrangement_id},
    )
