"""Corrections: the record a reversal targets (its transfers, the region that answers for it) and the reversal's
own record (at most one per record: a unique index). A record and a reversal are named by their ids alone (a
request names them so): `answering_region` and `reversal_of` read through the plain ix_<table>_id indexes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import Allocation, Appropriation, Arrangement, Disbursement, Reversal, TransferLeg
from services.funds.repository.unique import as_duplicate

# The region that answers for each kind of record (the jurisdiction of its correction).
_ANSWERING_REGION: dict[str, Any] = {
    "appropriation": (Appropriation, col(Appropriation.region_code)),
    "allocation": (Allocation, col(Allocation.from_region)),
    "arrangement": (Arrangement, col(Arrangement.county_code)),
    "disbursement": (Disbursement, col(Disbursement.county_code)),
}
# A record's transfers, each read off its 'out' leg (the source's) with the other account.
_TRANSFERS = text(
    """
    SELECT t.transfer_id AS id, t.kind, t.record_id, t.amount_fen,
           s.region_code AS s_region, s.kind AS s_kind, s.fund_source AS s_fund, s.ref AS s_ref,
           d.region_code AS d_region, d.kind AS d_kind, d.fund_source AS d_fund, d.ref AS d_ref
    FROM transfer_legs t JOIN accounts s ON s.id = t.account_id JOIN accounts d ON d.id = t.counter_account_id
    WHERE t.record_id = :record AND t.leg = 'out' ORDER BY t.transfer_id
    """
)


async def record_of_transfer(session: AsyncSession, transfer_id: str) -> str | None:
    """The record of a transfer named by its id alone (ix_transfer_legs_transfer; its 'out' leg)."""
    statement = select(col(TransferLeg.record_id)).where(col(TransferLeg.transfer_id) == transfer_id,
                                                          col(TransferLeg.leg) == "out")
    return (await session.execute(statement)).scalar_one_or_none()


async def transfers_of(session: AsyncSession, record_id: str) -> list[Row[Any]]:
    """The transfers of a record, with both accounts' keys (s_… and d_…), in id order."""
    return list(await session.execute(_TRANSFERS, {"record": record_id}))


def reversible(kind: str) -> bool:
    """The kinds of record a reversal corrects: those above. The others' transfers (a risk fund's moves, a subsidy
    claim's or a dividend's payments) belong to a record kept with its own figures elsewhere (loans' fund and
    claims, projects' dividends), which a reversal of the money alone would contradict: they have their own flows."""
    return kind in _ANSWERING_REGION


async def answering_region(session: AsyncSession, *, kind: str, record_id: str) -> tuple[str, str | None]:
    """The region answering for the record, and the organisation responsible for it (O13; null before issue #16)."""
    model, region = _ANSWERING_REGION[kind]
    found = (await session.execute(select(region, col(model.responsible_org)).where(col(model.id) == record_id))).one()
    return str(found[0]), found[1]


async def insert_reversal(session: AsyncSession, **values: Any) -> None:
    """Duplicate if the record was reversed already (uq_reversals_target: `county_code` is the region answering for
    the record, so one record's reversals have one county)."""
    try:
        await session.execute(insert(Reversal).values(**values))
    except IntegrityError as exc:
        raise as_duplicate(exc) from exc


async def reversal_of(session: AsyncSession, reversal_id: str) -> Row[Any] | None:
    """A reversal with the money its compensating transfers moved back (`amount_fen`, their sum: of their 'out'
    legs)."""
    moved = (select(func.coalesce(func.sum(col(TransferLeg.amount_fen)), 0))
             .where(col(TransferLeg.record_id) == col(Reversal.id), col(TransferLeg.leg) == "out").scalar_subquery())
    columns = [col(Reversal.id), col(Reversal.target_id), col(Reversal.target_kind), col(Reversal.reversed_on),
               moved.label("amount_fen")]
    return (await session.execute(select(*columns).where(col(Reversal.id) == reversal_id))).first()
