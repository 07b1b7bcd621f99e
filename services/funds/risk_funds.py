"""Issue #18 (L7, L9): the money of a county's risk-compensation fund (风险补偿金), moved for the loans service over
the internal API. The loans service owns the fund's agreement, its claims and recoveries; every fen of it moves
here, in the ledger: the deposit from the county's fund and pool accounts into the fund's `risk_fund` account, a
compensation from there to the partner bank's `bank` account, a recovery's share from the bank back to the fund.
A move's id is the loans service's record id, so a call repeated (after the loans side failed) answers the move
already made, and two calls with one id move money once (A4: each transfer's record is the move)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import ledger, problems, settlements
from services.funds.ledger import AccountKey, Move
from services.funds.models import RiskFundMove
from services.funds.repository import risk_moves
from services.funds.schemas import RiskFundMoveCreate, RiskFundMoveRead
from services.kernel.identity import Principal

TRANSFER_KINDS = {"deposit": "risk_deposit", "compensation": "risk_claim_paid", "return": "risk_return"}


def accounts_of(body: RiskFundMoveCreate) -> tuple[tuple[AccountKey, ...], tuple[AccountKey, ...]]:
    """(sources, destinations) of a move: the county's fund account then its pool (each emptied before the next),
    the fund's `risk_fund` account, the partner bank's `bank` account (both keyed by the fund's id)."""
    county, source = body.county_code, body.fund_source
    fund = AccountKey(county, "risk_fund", source, body.fund_id)
    bank = AccountKey(county, "bank", source, body.fund_id)
    if body.kind == "deposit":
        return (AccountKey(county, "fund", source), AccountKey(county, "pool", source)), (fund, fund)
    if body.kind == "compensation":
        return (fund,), (bank,)
    return (bank,), (fund,)


def same_move(found: RiskFundMove, body: RiskFundMoveCreate) -> bool:
    """The id names the move: asked again (a decision whose record failed in loans, completed by asking again on
    another day), the same money is the same move, answered as made on its first date."""
    return (found.kind, found.fund_id, found.fund_source, found.amount_fen) == (
        body.kind, body.fund_id, body.fund_source, body.amount_fen)


async def move(session: AsyncSession, *, principal: Principal, body: RiskFundMoveCreate) -> RiskFundMoveRead:
    """Make the move (INSUFFICIENT_FUNDS when its source holds too little), or answer the one made under its id."""
    if principal.role != "service":
        raise problems.not_a_service()
    await risk_moves.lock_move(session, body.id)
    found = await risk_moves.move_of(session, body.county_code, body.id)
    if found is not None and not same_move(found, body):
        raise problems.risk_move_conflict(body.id)
    sources, destinations = accounts_of(body)
    fund = AccountKey(body.county_code, "risk_fund", body.fund_source, body.fund_id)
    if found is None:
        if body.kind == "compensation":  # a claim's payment: CLAIM_VOIDED when its rejection voided it first
            await settlements.settle(session, principal, county_code=body.county_code, kind="compensation",
                                     payment_key=body.id, outcome="paid")
        await ledger.move(session, [Move(sources, destinations, body.amount_fen, kind=TRANSFER_KINDS[body.kind],
                                         record_id=body.id, doc_no=body.doc_no, occurred_on=body.occurred_on)])
        await risk_moves.add(session, RiskFundMove(
            county_code=body.county_code, id=body.id, kind=body.kind, fund_id=body.fund_id,
            fund_source=body.fund_source, amount_fen=body.amount_fen, doc_no=body.doc_no,
            occurred_on=body.occurred_on, created_by=principal.id,
        ))
    book = await ledger.read(session, [fund])
    return RiskFundMoveRead(
        id=body.id, kind=body.kind, county_code=body.county_code, fund_id=body.fund_id,
        fund_source=body.fund_source, amount_fen=body.amount_fen,
        occurred_on=found.occurred_on if found is not None else body.occurred_on,
        transfer_ids=await risk_moves.transfer_ids(session, body.id), fund_balance_fen=book.balance(fund),
    )
