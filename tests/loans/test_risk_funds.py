"""Issue #18 point 1 (L7) through the gateway: a county's risk-compensation fund with a bank, its deposit moved in
the funds ledger, and new loans of the bank in the county kept within deposit × leverage, concurrent ones too."""

from __future__ import annotations

import asyncio

from services.loans import codes
from tests.conftest import Api, MakePrincipal
from tests.loans.conftest import Seed
from tests.loans.risk_world import BANK, fund_id, funded_county, lend


async def test_setting_up_a_fund_moves_its_deposit_in_the_ledger_and_shows_its_figures(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, inspector: Api
) -> None:
    place = await funded_county(admin, make_principal, county, 5_000_000)
    fund = await place.set_up_fund(2_000_000, leverage=8)
    assert fund["id"] == fund_id(county)
    assert (fund["deposit_fen"], fund["capacity_fen"], fund["used_fen"], fund["claims_paid_fen"]) == (
        2_000_000, 16_000_000, 0, 0)
    assert len(fund["deposit_transfer_ids"]) == 1
    # A4: the deposit left the county's fund account for the fund's own account, a transfer of the ledger
    assert await place.account(inspector, "fund") == 3_000_000
    assert await place.account(inspector, "risk_fund", fund["id"]) == 2_000_000
    for reader in (lender, inspector, place.second):
        response = await reader.get(f"/loans/risk-funds/{fund['id']}")
        assert response.status_code == 200, response.text
        assert response.json()["capacity_fen"] == 16_000_000
    # the bank records loans; it does not set funds up (gateway policy)
    response = await lender.post("/loans/risk-funds", json=place.fund_body(1_000_000, bank_name="另一家银行"))
    assert response.status_code == 403, response.text


async def test_a_deposit_is_not_reversed_by_a_plain_reversal_and_nothing_moves(
    admin: Api, make_principal: MakePrincipal, county: str, inspector: Api
) -> None:
    """A risk fund's deposit is a transfer of the ledger, but its record is the fund's (loans keeps the deposit, L7's
    capacity): a reversal through POST /funds/reversals would take the money back behind the fund's figures. 422
    NOT_REVERSIBLE naming the target, nothing moved (it answered 500: the reversal knew four kinds of record only).
    The kinds it does reverse are tests/funds/test_corrections.py's."""
    place = await funded_county(admin, make_principal, county, 5_000_000)
    fund = await place.set_up_fund(2_000_000, leverage=8)
    response = await place.finance.post("/funds/reversals",
                                        json={"target_id": fund["deposit_transfer_ids"][0], "reason": "错"})
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json()["field"]) == ("NOT_REVERSIBLE", "target_id")
    assert "its own flow" in response.json()["detail"]
    assert await place.account(inspector, "fund") == 3_000_000
    assert await place.account(inspector, "risk_fund", fund["id"]) == 2_000_000


async def test_a_second_fund_with_the_bank_or_one_beyond_the_countys_money_is_refused_and_moves_nothing(
    admin: Api, make_principal: MakePrincipal, county: str, inspector: Api
) -> None:
    place = await funded_county(admin, make_principal, county, 3_000_000)
    response = await place.finance.post("/loans/risk-funds", json=place.fund_body(4_000_000))
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "INSUFFICIENT_FUNDS"
    assert (await place.finance.get(f"/loans/risk-funds/{fund_id(county)}")).status_code == 404
    assert await place.account(inspector, "fund") == 3_000_000
    await place.set_up_fund(1_000_000)
    response = await place.second.post("/loans/risk-funds", json=place.fund_body(1_000_000))
    assert response.status_code == 409, response.text
    assert response.json()["code"] == codes.RISK_FUND_EXISTS
    assert await place.account(inspector, "fund") == 2_000_000  # the deposit moved once
    # another county's finance bureau cannot set up this county's fund
    outsider = await make_principal("finance", county[:4] + ("01" if county[4:] != "01" else "02"))
    response = await outsider.post("/loans/risk-funds", json=place.fund_body(500_000, bank_name="另一家银行"))
    assert response.status_code == 403, response.text


async def test_a_loan_beyond_deposit_times_leverage_is_refused_and_fits_once_principal_is_repaid(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, seed: Seed
) -> None:
    place = await funded_county(admin, make_principal, county, 2_000_000)
    fund = await place.set_up_fund(1_000_000, leverage=5)  # backs 5,000,000 fen of the bank's loans
    first = await lend(lender, await seed(), amount_fen=3_000_000)
    assert first.status_code == 201, first.text
    second = await seed()
    refused = await lend(lender, second, amount_fen=2_500_000)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert (body["code"], body["rule"], body["field"]) == (codes.RISK_FUND_CAPACITY_EXCEEDED, "L7", "amount_fen")
    assert (body["used_fen"], body["capacity_fen"]) == (3_000_000, 5_000_000)
    assert (await lend(lender, second, amount_fen=2_000_000)).status_code == 201  # exactly at capacity
    # another bank has no fund in the county: L7 does not limit it (docs/rules.md)
    other = await lend(lender, await seed(), amount_fen=3_000_000, lender_name="县邮储银行")
    assert other.status_code == 201, other.text
    # repaid principal frees capacity
    repaid = await lender.post(f"/loans/{first.json()['id']}/repayments", json={
        "principal_fen": 1_000_000, "interest_fen": 0, "paid_on": "2018-06-01"})
    assert repaid.status_code == 201, repaid.text
    assert (await lend(lender, await seed(), amount_fen=1_000_000)).status_code == 201
    shown = (await lender.get(f"/loans/risk-funds/{fund['id']}")).json()
    assert (shown["used_fen"], shown["available_fen"]) == (5_000_000, 0)


async def test_two_concurrent_loans_cannot_both_pass_the_capacity(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, seed: Seed
) -> None:
    place = await funded_county(admin, make_principal, county, 1_000_000)
    await place.set_up_fund(1_000_000, leverage=5)
    households = [await seed() for _ in range(3)]
    answers = await asyncio.gather(*(lend(lender, h, amount_fen=2_000_000) for h in households))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 201, 422], [a.text for a in answers]
    [refused] = [a for a in answers if a.status_code == 422]
    assert refused.json()["code"] == codes.RISK_FUND_CAPACITY_EXCEEDED
    shown = (await lender.get(f"/loans/risk-funds/{fund_id(county)}")).json()
    assert shown["used_fen"] == 4_000_000 <= shown["capacity_fen"]
    assert BANK == shown["bank_name"]
