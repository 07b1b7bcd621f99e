"""Corrections (冲正): a reversal posts, for every transfer of a record, the compensating transfer back.

Nothing is edited or deleted. A record is reversed at most once (a unique index, safe under concurrency); a
compensating entry is not itself reversed (post the movement again instead); a reversal cannot overdraw: if the
money has already moved on, the later movements must be reversed first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import ledger, problems, rules
from services.funds.ledger import AccountKey, Move
from services.funds.repository import arrangements, reversals
from services.funds.repository.unique import Duplicate
from services.funds.schemas import ReversalCreate, ReversalInternal, ReversalRead
from services.kernel import clock
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.scope import check_covers


async def _target(session: AsyncSession, target_id: str) -> tuple[str, tuple[str, str | None], list[Any]]:
    """(kind, (answering region, responsible organisation), transfers) of the record named by a record id or by one
    of its transfers' ids."""
    record_id = target_id
    if target_id.startswith("trf_"):
        found = await reversals.record_of_transfer(session, target_id)
        if found is None:
            raise problems.no_transfer(target_id)
        record_id = found
    transfers = await reversals.transfers_of(session, record_id)
    if not transfers:
        raise problems.nothing_to_reverse(target_id)
    kind = transfers[0].kind
    if kind == "reversal":
        raise problems.reversal_not_reversible(target_id)
    if not reversals.reversible(kind):
        raise problems.not_reversible(target_id)
    region = await reversals.answering_region(session, kind=kind, record_id=record_id)
    return kind, region, transfers


async def reverse(session: AsyncSession, *, principal: Principal, body: ReversalCreate) -> ReversalRead:
    """Post, for every transfer of the record, the compensating transfer back (its destination must still hold it)."""
    kind, (region, target_responsible), transfers = await _target(session, body.target_id)
    check_covers(principal, region, field="target_id", subject=body.target_id)
    recorded_by = principal.organisation
    responsible = rules.reversal_responsible_org(target_responsible_org=target_responsible,
                                                 recorded_by_org=recorded_by)
    record_id = transfers[0].record_id
    reversal_id, on = new_id("rev"), body.reversed_on or clock.today()
    try:
        # keyed with the region answering for the record (an arrangement's or a payment's county: its shard)
        await reversals.insert_reversal(session, county_code=region, id=reversal_id, target_id=record_id,
                                        target_kind=kind, reason=body.reason, reversed_on=on, created_by=principal.id,
                                        recorded_by_org=recorded_by, responsible_org=responsible)
    except Duplicate as exc:
        raise problems.already_reversed(body.target_id) from exc
    if kind == "arrangement":  # its amount goes back to the project's budget headroom (F4)
        arrangement = await arrangements.get(session, county_code=region, arrangement_id=record_id)
        await arrangements.add_arranged(session, county_code=arrangement.county_code,
                                        project_id=arrangement.project_id, amount_fen=-arrangement.amount_fen)
    moves = [
        Move((AccountKey(t.d_region, t.d_kind, t.d_fund, t.d_ref),),
             (AccountKey(t.s_region, t.s_kind, t.s_fund, t.s_ref),),
             t.amount_fen, kind="reversal", record_id=reversal_id, doc_no=record_id, occurred_on=on,
             reverses_id=t.id, field=None)
        for t in transfers
    ]
    posted = await ledger.move(session, moves)
    return ReversalRead(id=reversal_id, target_id=record_id, target_kind=kind, reason=body.reason, reversed_on=on,
                        transfer_ids=[p.id for p in posted], recorded_by_org=recorded_by,
                        responsible_org=responsible)


async def describe(session: AsyncSession, *, principal: Principal, reversal_id: str) -> ReversalInternal:
    """For another service (the oversight service checks the reversals a rectification names, O10): the reversal,
    the region that answers for the record it reversed, and the money it moved back. Services only: 404 to anyone
    else, as for an unknown one (the internal API knows no jurisdiction, S1)."""
    found = None if principal.role != "service" else await reversals.reversal_of(session, reversal_id)
    if found is None:
        raise problems.no_reversal(reversal_id)
    region, _responsible = await reversals.answering_region(session, kind=found.target_kind, record_id=found.target_id)
    return ReversalInternal(id=found.id, target_id=found.target_id, target_kind=found.target_kind,
                            region_code=region, amount_fen=int(found.amount_fen), reversed_on=found.reversed_on)
