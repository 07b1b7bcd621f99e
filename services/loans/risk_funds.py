"""Issue #18 point 1 (L7): a county's risk-compensation fund (风险补偿金) with a partner bank. Setting one up moves
its deposit in the funds ledger (the county's fund, then pool account → the fund's `risk_fund` account) and records
the agreement here; origination then keeps the bank's outstanding poverty loans in the county within deposit ×
leverage, under the fund's lock. A county without a fund with a loan's bank has no L7 limit (docs/rules.md)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.identity import Principal
from services.kernel.scope import check_covers
from services.kernel.uow import BriefReads
from services.loans import problems, repository, risk_rules
from services.loans.clients import Funds
from services.loans.models import RiskFund
from services.loans.risk_schemas import RiskFundCreate, RiskFundRead


async def check_capacity(session: AsyncSession, *, county_code: str, lender_name: str, amount_fen: int) -> None:
    """L7 at origination: one indexed read finds the county's fund with the bank; where there is one, its lock makes
    concurrent loans of the bank in the county take turns, so two cannot both pass the capacity."""
    fund = await repository.fund_for(session, county_code, lender_name)
    if fund is None:
        return
    await repository.lock_named(session, f"risk_fund:{fund.id}")
    used = await repository.bank_outstanding(session, county_code, lender_name)
    risk_rules.check_capacity(used_fen=used, amount_fen=amount_fen, deposit_fen=fund.deposit_fen,
                              leverage=fund.leverage, fund_id=fund.id)


async def establish(session: AsyncSession, brief: BriefReads, funds: Funds, principal: Principal,
                    body: RiskFundCreate) -> RiskFundRead:
    """Read (no connection held), move the deposit in the funds ledger, then record: a fund set up twice is 409
    (RISK_FUND_EXISTS); its id is that of its county and bank, so a repeated setting-up moves the deposit once."""
    check_covers(principal, body.county_code, field="county_code")
    fund_id = risk_rules.fund_id_of(body.county_code, body.bank_name)
    async with brief() as reads:
        if await repository.fund_for(reads, body.county_code, body.bank_name) is not None:
            raise problems.risk_fund_exists(body.county_code, body.bank_name, fund_id)
    moved = await funds.move_risk_money({
        "id": fund_id, "kind": "deposit", "county_code": body.county_code, "fund_id": fund_id,
        "fund_source": body.fund_source, "amount_fen": body.deposit_fen, "doc_no": body.agreement_no,
        "occurred_on": body.established_on.isoformat(),
    })
    await repository.lock_named(session, f"risk_fund:{fund_id}")
    if await repository.fund_for(session, body.county_code, body.bank_name) is not None:
        raise problems.risk_fund_exists(body.county_code, body.bank_name, fund_id)
    fund = RiskFund(
        county_code=body.county_code, id=fund_id, bank_name=body.bank_name, fund_source=body.fund_source,
        deposit_fen=body.deposit_fen, leverage=body.leverage, fund_share_bp=body.fund_share_bp,
        claim_after_days=body.claim_after_days, depleted_share_bp=body.depleted_share_bp,
        agreement_no=body.agreement_no, established_on=body.established_on,
        deposit_transfer_ids=",".join(moved["transfer_ids"]), created_by=principal.id,
        recorded_by_org=principal.organisation,
    )
    await repository.add(session, fund)
    return await read_fund(session, principal, fund.id)


async def read_fund(session: AsyncSession, principal: Principal, fund_id: str) -> RiskFundRead:
    """GET /loans/risk-funds/{id}: deposit, capacity, used (the bank's loans outstanding now), claims paid."""
    fund = await repository.fund_by_id(session, fund_id)
    if fund is None:
        raise problems.risk_fund_not_found(fund_id)
    check_covers(principal, fund.county_code, subject=f"risk fund {fund.id}")
    used = await repository.bank_outstanding(session, fund.county_code, fund.bank_name)
    paid, returned, pending = await repository.fund_figures(session, fund)
    capacity = risk_rules.capacity_of(fund.deposit_fen, fund.leverage)
    return RiskFundRead(
        id=fund.id, county_code=fund.county_code, bank_name=fund.bank_name, fund_source=fund.fund_source,
        deposit_fen=fund.deposit_fen, leverage=fund.leverage, capacity_fen=capacity, used_fen=used,
        available_fen=max(capacity - used, 0), fund_share_bp=fund.fund_share_bp,
        claim_after_days=fund.claim_after_days, depleted_share_bp=fund.depleted_share_bp, claims_paid_fen=paid,
        recoveries_returned_fen=returned, claims_pending=pending,
        depleted=risk_rules.depleted(paid_fen=paid, returned_fen=returned, deposit_fen=fund.deposit_fen,
                                     depleted_share_bp=fund.depleted_share_bp),
        agreement_no=fund.agreement_no, established_on=fund.established_on,
        deposit_transfer_ids=[t for t in fund.deposit_transfer_ids.split(",") if t],
        recorded_by_org=fund.recorded_by_org,
    )
