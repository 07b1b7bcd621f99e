"""Issue #18 (loans' L9, L13): a claim of the loans service is settled once, here, where its money is. The loans
service asks funds before it records a decision (it cannot hold its transaction while it asks): an approval asks for
the payment (`subsidy.pay`, `risk_funds.move`), a rejection asks to void the claim's payment key. Whichever comes
first settles the claim under the key's lock: a voided claim is never paid (CLAIM_VOIDED), a paid one is never
voided (CLAIM_ALREADY_PAID), and each asked again answers what it did, so a decision whose recording failed in loans
is completed by asking again. `claim_settlements` is append-only, one row per (county, key)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import problems
from services.funds.models import ClaimSettlement
from services.funds.repository import settlements
from services.funds.settlement_schemas import ClaimSettlementRead, ClaimVoidCreate
from services.kernel.identity import Principal


async def settle(session: AsyncSession, principal: Principal, *, county_code: str, kind: str, payment_key: str,
                 outcome: str) -> ClaimSettlement:
    """Settle the claim paid under `payment_key` as `outcome` (paid, voided), or answer how it is settled already;
    the other outcome recorded first is refused. Held until the transaction ends (the payment's transfers are in
    the same one: a payment refused later, INSUFFICIENT_FUNDS, settles nothing)."""
    await settlements.lock_key(session, county_code, payment_key)
    found = await settlements.settlement_of(session, county_code, payment_key)
    if found is None:
        found = ClaimSettlement(county_code=county_code, payment_key=payment_key, kind=kind, outcome=outcome,
                                created_by=principal.id)
        await settlements.add(session, found)
    elif found.outcome != outcome:
        raise problems.claim_voided(payment_key) if found.outcome == "voided" else problems.claim_already_paid(
            payment_key)
    return found


async def void(session: AsyncSession, *, principal: Principal, body: ClaimVoidCreate) -> ClaimSettlementRead:
    """Services only (the internal API knows no jurisdiction, S1): the claim will not be paid; CLAIM_ALREADY_PAID
    when its payment was made first."""
    if principal.role != "service":
        raise problems.not_a_service()
    found = await settle(session, principal, county_code=body.county_code, kind=body.kind,
                         payment_key=body.payment_key, outcome="voided")
    return ClaimSettlementRead.model_validate(found, from_attributes=True)
