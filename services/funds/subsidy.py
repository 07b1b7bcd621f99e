"""Subsidy payments (issue #18 point 3): the loans service, once finance approved a bank's subsidy claim (its L13),
asks funds to pay it. The county pays from its account of the fund the county declared (its pool when the fund is
pooled there, F1/F7, else its fund account) to the bank's account or to each household (a payee account), one
transfer each, so the ledger stays the one truth about money and A4 traces it down to the payee."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import ledger, problems, rules, settlements
from services.funds.ledger import AccountKey, Move
from services.funds.models import SubsidyPayment
from services.funds.reference import load_reference
from services.funds.repository import subsidies
from services.funds.schemas import SubsidyPaymentCreate, SubsidyPaymentRead
from services.kernel.identity import Principal
from services.kernel.ids import new_id

SUBSIDY_KIND = "subsidy"


async def _source(session: AsyncSession, body: SubsidyPaymentCreate) -> AccountKey:
    integrable, counties = await load_reference(session, sources=[body.fund_source], counties=[body.county_code])
    county = counties.get(body.county_code)
    if county is None:
        raise problems.unregistered_county(body.county_code, "county_code")
    if body.fund_source not in integrable:
        raise problems.unknown_source(body.fund_source)
    pooled = rules.is_block_grant(integrable=integrable[body.fund_source], county=county)
    return AccountKey(body.county_code, "pool" if pooled else "fund", body.fund_source)


def _read(payment: SubsidyPayment) -> SubsidyPaymentRead:
    return SubsidyPaymentRead.model_validate(payment, from_attributes=True)


async def pay(session: AsyncSession, *, principal: Principal, body: SubsidyPaymentCreate) -> SubsidyPaymentRead:
    """Services only (the internal API knows no jurisdiction, S1). Once per claim: asked again, the payment made is
    the answer and nothing moves. INSUFFICIENT_FUNDS (409) when the county's account cannot cover it all;
    CLAIM_VOIDED (409) when the loans service voided the claim first (its rejection, settlements.py)."""
    if principal.role != "service":
        raise problems.subsidy_payments_for_services()
    await subsidies.lock_claim(session, body.claim_id)
    made = await subsidies.payment_of(session, county_code=body.county_code, claim_id=body.claim_id)
    if made is not None:
        return _read(made)
    await settlements.settle(session, principal, county_code=body.county_code, kind=SUBSIDY_KIND,
                             payment_key=body.claim_id, outcome="paid")  # CLAIM_VOIDED when rejected first
    source = await _source(session, body)
    payment = SubsidyPayment(
        id=new_id("sbp"), county_code=body.county_code, claim_id=body.claim_id, fund_source=body.fund_source,
        payee_kind=body.payee_kind, payees=len(body.payees), amount_fen=sum(p.amount_fen for p in body.payees),
        paid_on=body.paid_on, created_by=principal.id,
    )
    await subsidies.add(session, payment)
    moves = [
        Move((source,), (AccountKey(body.county_code, "payee", body.fund_source, payee.id),), payee.amount_fen,
             kind=SUBSIDY_KIND, record_id=payment.id, doc_no=body.claim_id, occurred_on=body.paid_on, index=i)
        for i, payee in enumerate(body.payees)
    ]
    await ledger.move(session, moves)
    return _read(payment)
