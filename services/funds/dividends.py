"""P12: an asset's dividend (资产收益, P6) paid through the ledger, as the projects service asks it: from the asset's
income account (an external `budget` account of the county, fund source ASSET_INCOME, ref the asset) into each
shareholding household's registered 一卡通 account (F6), each household on the county's roster (S9) and eligible on
the day paid (F10). The registry is asked first, before the first statement; a dividend asked again with the same
payouts is answered as it was paid (once), with other payouts refused 409."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import codes, ledger, problems, rules
from services.funds.clients import Eligibility, Registry
from services.funds.ledger import AccountKey, Move
from services.funds.models import DividendPayment
from services.funds.repository import dividends as repository
from services.funds.repository.unique import Duplicate
from services.funds.schemas_dividends import DividendPaid, DividendPayIn, PayoutPaid
from services.kernel.identity import Principal
from services.kernel.types import mask_account_no


def ineligible_payees(judged: Sequence[Eligibility]) -> dict[str, str]:
    """F10 on the day paid: household → why it could not receive poverty money then (none when all could)."""
    found = {}
    for eligibility in judged:
        reason = rules.ineligibility_on_date(eligibility)
        if reason is not None:
            found[eligibility["household_id"]] = reason
    return found


def check_payees_eligible(judged: Sequence[Eligibility]) -> None:
    """F10: a dividend is paid only if every shareholder may receive on the day paid (nothing is paid otherwise)."""
    bad = ineligible_payees(judged)
    if bad:
        raise problems.dividend_payee_ineligible(bad)


def same_payouts(kept: Sequence[DividendPayment], body: DividendPayIn) -> bool:
    asked = {(p.household_id, p.amount_fen) for p in body.payouts}
    return {(k.household_id, k.amount_fen) for k in kept} == asked and all(k.paid_on == body.paid_on for k in kept)


def _answer(rows: Sequence[DividendPayment], *, replayed: bool) -> DividendPaid:
    first = rows[0]
    return DividendPaid(
        dividend_id=first.dividend_id, county_code=first.county_code, asset_id=first.asset_id, paid_on=first.paid_on,
        replayed=replayed,
        payouts=[PayoutPaid(household_id=r.household_id, amount_fen=r.amount_fen,
                            account_no=mask_account_no(r.account_no))
                 for r in sorted(rows, key=lambda r: r.household_id)],
    )


async def pay(session: AsyncSession, *, principal: Principal, registry: Registry, body: DividendPayIn) -> DividendPaid:
    if principal.role != "service":  # only the projects service asks (its signed identity)
        raise problems.internal_only()
    ids = [p.household_id for p in body.payouts]
    households = await registry.households(ids)
    judged = await registry.household_eligibility([(h, body.paid_on) for h in ids])
    for household_id in ids:  # S9/F6: on the county's roster, and paid into its registered account
        rules.check_payee_household_of(households.get(household_id), county_code=body.county_code,
                                       household_id=household_id)
    check_payees_eligible(judged)
    kept = await repository.payments_of(session, body.county_code, body.dividend_id)
    if kept:
        if not same_payouts(kept, body):
            raise problems.dividend_conflict(body.dividend_id)
        return _answer(kept, replayed=True)
    rows = _rows(principal, body, {h: households[h]["card_account"] for h in ids})
    try:  # the key first: a dividend asked twice at once is paid once
        await repository.insert_payments(session, rows)
    except Duplicate as exc:
        raise problems.dividend_conflict(body.dividend_id) from exc
    source = AccountKey(body.county_code, ledger.BUDGET, codes.ASSET_INCOME, body.asset_id)
    await ledger.move(session, [
        Move((source,), (AccountKey(body.county_code, "payee", codes.ASSET_INCOME, r.household_id),), r.amount_fen,
             kind=codes.DIVIDEND_KIND, record_id=body.dividend_id, doc_no=body.dividend_id, occurred_on=body.paid_on)
        for r in rows
    ])
    return _answer(rows, replayed=False)


def _rows(principal: Principal, body: DividendPayIn, accounts: Mapping[str, str]) -> list[DividendPayment]:
    return [
        DividendPayment(county_code=body.county_code, dividend_id=body.dividend_id, household_id=p.household_id,
                        project_id=body.project_id, asset_id=body.asset_id, amount_fen=p.amount_fen,
                        account_no=accounts[p.household_id], paid_on=body.paid_on, created_by=principal.id)
        for p in body.payouts
    ]

