"""Issue #18 point 2 (L8, L9, L10) through the gateway: a bank's claim on the risk fund for a loan overdue beyond the
fund's threshold, finance's decision by a second person, the compensation and recoveries' returns in the funds
ledger at the fund's share, and RISK_FUND_DEPLETED."""

from __future__ import annotations

from typing import Any

import httpx

from services.loans import codes
from tests.conftest import Api, MakePrincipal, scan_alerts
from tests.loans.conftest import Seed
from tests.loans.helpers import credit_code
from tests.loans.risk_world import County, funded_county, lend
from tests.oversight.conftest import member, organisation

# loans issued 2018-03-01 for 12 months mature on 2019-03-01; 2019-05-30 is day 90 past it, 2019-05-31 day 91
DAY_90, DAY_91 = "2019-05-30", "2019-05-31"


async def overdue_loan(lender: Api, seed: Seed, amount_fen: int = 3_000_000) -> dict[str, Any]:
    response = await lend(lender, await seed(), amount_fen=amount_fen, term_months=12)
    assert response.status_code == 201, response.text
    loan: dict[str, Any] = response.json()
    return loan


async def claim(api: Api, loan_id: str, lost: int, on: str = DAY_91) -> Any:
    return await api.post(f"/loans/{loan_id}/compensation-claims",
                          json={"principal_lost_fen": lost, "claimed_on": on, "reason": "借款人外出失联，催收无果"})


async def decide(api: Api, claim_id: str, verb: str, on: str = "2019-06-10") -> Any:
    return await api.post(f"/loans/compensation-claims/{claim_id}/{verb}", json={"decided_on": on, "note": "经审核"})


async def set_up(admin: Api, make_principal: MakePrincipal, county: str, deposit: int = 2_000_000) -> County:
    place = await funded_county(admin, make_principal, county, 5_000_000)
    await place.set_up_fund(deposit)
    return place


async def test_a_claim_needs_a_loan_overdue_beyond_the_threshold_and_within_what_is_outstanding(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, seed: Seed
) -> None:
    await set_up(admin, make_principal, county)
    loan = await overdue_loan(lender, seed)
    early = await claim(lender, loan["id"], 1_000_000, on=DAY_90)
    assert early.status_code == 422, early.text
    assert (early.json()["code"], early.json()["rule"]) == (codes.CLAIM_NOT_OVERDUE, "L8")
    paid = await lender.post(f"/loans/{loan['id']}/repayments",
                             json={"principal_fen": 500_000, "interest_fen": 0, "paid_on": "2018-09-01"})
    assert paid.status_code == 201, paid.text
    over = await claim(lender, loan["id"], 2_500_001)  # 2,500,000 outstanding
    assert over.status_code == 422, over.text
    assert (over.json()["code"], over.json()["claimable_fen"]) == (codes.CLAIM_OVER_OUTSTANDING, 2_500_000)
    made = await claim(lender, loan["id"], 2_000_000)
    assert made.status_code == 201, made.text
    assert (made.json()["status"], made.json()["days_overdue"], made.json()["outstanding_fen"]) == (
        "pending", 91, 2_500_000)
    # a loss is claimed once: a second claim reaches only what the first left
    assert (await claim(lender, loan["id"], 500_001)).json()["code"] == codes.CLAIM_OVER_OUTSTANDING
    assert (await claim(lender, loan["id"], 500_000)).status_code == 201


async def test_no_claim_without_a_fund_with_the_loans_bank(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, seed: Seed
) -> None:
    await set_up(admin, make_principal, county)
    response = await lend(lender, await seed(), term_months=12, lender_name="县邮储银行")
    assert response.status_code == 201, response.text
    refused = await claim(lender, response.json()["id"], 1_000_000)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == codes.NO_RISK_FUND


async def test_a_loan_with_an_open_misuse_alert_is_not_compensated_until_it_is_resolved(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, inspector: Api, seed: Seed
) -> None:
    await set_up(admin, make_principal, county)
    loan = await overdue_loan(lender, seed)
    used = await lender.post(f"/loans/{loan['id']}/usage-reports", json={
        "recipient": {"kind": "enterprise", "id": credit_code("1"), "name": "某公司"}, "amount_fen": 1_000_000,
        "purpose": "processing", "reported_on": "2018-05-01"})
    assert used.status_code == 201, used.text
    await scan_alerts(admin, "2018-05-02")
    listed = await inspector.get("/alerts", params={"type": codes.ALERT_LOAN_ENTERPRISE_USE, "region": county})
    [alert] = [a for a in listed.json()["items"] if a["subject"]["id"] == loan["id"]]
    refused = await claim(lender, loan["id"], 1_000_000)
    assert refused.status_code == 422, refused.text
    assert (refused.json()["code"], refused.json()["alert_types"]) == (
        codes.CLAIM_LOAN_MISUSED, [codes.ALERT_LOAN_ENTERPRISE_USE])
    resolved = await inspector.post(f"/alerts/{alert['id']}/resolve", json={"note": "核实为合作社代管，已整改"})
    assert resolved.status_code == 200, resolved.text
    assert (await claim(lender, loan["id"], 1_000_000)).status_code == 201


async def test_approval_by_a_second_person_pays_the_funds_share_to_the_bank_once(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, inspector: Api, seed: Seed
) -> None:
    place = await set_up(admin, make_principal, county)
    loan = await overdue_loan(lender, seed)
    made = await claim(place.finance, loan["id"], 1_000_001)  # recorded by finance (a paper claim of the bank)
    assert made.status_code == 201, made.text
    claim_id = made.json()["id"]
    own = await decide(place.finance, claim_id, "approve")
    assert own.status_code == 403, own.text
    assert (own.json()["code"], own.json()["rule"]) == (codes.CLAIM_SELF_APPROVAL, "L9")
    assert (await decide(lender, claim_id, "approve")).status_code == 403  # a bank does not decide
    approved = await decide(place.second, claim_id, "approve")
    assert approved.status_code == 201, approved.text
    decision = approved.json()["decision"]
    assert (approved.json()["status"], decision["paid_fen"]) == ("approved", 700_001)  # 70 %, half up
    assert len(decision["transfer_ids"]) == 1
    fund_id = made.json()["fund_id"]
    assert await place.account(inspector, "bank", fund_id) == 700_001
    assert await place.account(inspector, "risk_fund", fund_id) == 2_000_000 - 700_001
    again = await decide(place.second, claim_id, "reject")
    assert again.status_code == 409, again.text
    assert again.json()["code"] == codes.CLAIM_DECIDED
    shown = (await inspector.get(f"/loans/risk-funds/{fund_id}")).json()
    assert (shown["claims_paid_fen"], shown["claims_pending"]) == (700_001, 0)


async def test_a_rejected_claim_moves_nothing_and_frees_the_principal_for_another(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, inspector: Api, seed: Seed
) -> None:
    place = await set_up(admin, make_principal, county)
    loan = await overdue_loan(lender, seed)
    made = await claim(lender, loan["id"], 3_000_000)
    rejected = await decide(place.finance, made.json()["id"], "reject")
    assert rejected.status_code == 201, rejected.text
    assert (rejected.json()["status"], rejected.json()["decision"]["paid_fen"]) == ("rejected", 0)
    assert await place.account(inspector, "bank", made.json()["fund_id"]) == 0
    assert (await claim(lender, loan["id"], 3_000_000)).status_code == 201
    recovery = await lender.post(f"/loans/compensation-claims/{made.json()['id']}/recoveries",
                                 json={"amount_fen": 100, "recovered_on": "2019-07-01"})
    assert recovery.status_code == 409, recovery.text
    assert recovery.json()["code"] == codes.CLAIM_NOT_APPROVED


async def test_recoveries_return_the_funds_share_and_never_exceed_the_loss(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, inspector: Api, seed: Seed
) -> None:
    place = await set_up(admin, make_principal, county)
    loan = await overdue_loan(lender, seed)
    made = await claim(lender, loan["id"], 1_000_000)
    claim_id, fund_id = made.json()["id"], made.json()["fund_id"]
    assert (await decide(place.finance, claim_id, "approve")).status_code == 201  # pays 700,000

    async def recover(amount: int) -> Any:
        return await lender.post(f"/loans/compensation-claims/{claim_id}/recoveries",
                                 json={"amount_fen": amount, "recovered_on": "2019-08-01"})

    first = await recover(1)  # 0.7 fen rounds to 1
    second = await recover(1)  # the share of 2 fen is 1: nothing more to return
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert (first.json()["returned_fen"], second.json()["returned_fen"]) == (1, 0)
    third = await recover(400_000)
    # the share of all recovered less the share returned before: 70 % of 400,002 (280,001) less 1
    assert third.json()["returned_fen"] == 280_000
    over = await recover(600_000)  # 400,002 recovered already: at most 599,998 more
    assert over.status_code == 422, over.text
    assert over.json()["code"] == codes.RECOVERY_OVER_LOST
    assert await place.account(inspector, "bank", fund_id) == 700_000 - 280_001
    assert await place.account(inspector, "risk_fund", fund_id) == 2_000_000 - 700_000 + 280_001
    shown = (await lender.get(f"/loans/compensation-claims/{claim_id}")).json()
    assert [r["amount_fen"] for r in shown["recoveries"]] == [1, 1, 400_000]


async def test_risk_fund_depleted_is_raised_past_the_declared_share_of_the_deposit(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, inspector: Api, seed: Seed
) -> None:
    place = await set_up(admin, make_principal, county, deposit=1_000_000)  # depleted beyond 500,000 lost
    first = await claim(lender, (await overdue_loan(lender, seed))["id"], 700_000)  # pays 490,000
    assert (await decide(place.finance, first.json()["id"], "approve")).status_code == 201
    await scan_alerts(admin, "2019-06-30")

    async def depleted() -> list[dict[str, Any]]:
        listed = await inspector.get("/alerts", params={"type": codes.ALERT_RISK_FUND_DEPLETED, "region": county})
        assert listed.status_code == 200, listed.text
        items: list[dict[str, Any]] = listed.json()["items"]
        return items

    assert await depleted() == []
    smaller = await overdue_loan(lender, seed, 1_000_000)  # within the capacity left (L7)
    second = await claim(lender, smaller["id"], 20_000)  # pays 14,000: 504,000 lost
    assert (await decide(place.finance, second.json()["id"], "approve")).status_code == 201
    await scan_alerts(admin, "2019-06-30")
    [alert] = await depleted()
    assert (alert["facts"]["claims_paid_fen"], alert["facts"]["rule"]) == (504_000, "L10")
    assert (await inspector.get(f"/loans/risk-funds/{first.json()['fund_id']}")).json()["depleted"] is True


async def test_an_approval_checks_again_what_the_fund_covers(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, inspector: Api, seed: Seed
) -> None:
    """The review (L8 at L9): a misuse alert raised, or a repayment made, after the claim was filed and before it is
    approved changes what the fund covers: the approval is refused and nothing moves; once that is resolved, it
    pays."""
    place = await set_up(admin, make_principal, county)
    loan = await overdue_loan(lender, seed)
    filed = await claim(lender, loan["id"], 2_000_000)
    assert filed.status_code == 201, filed.text
    claim_id, fund_id = filed.json()["id"], filed.json()["fund_id"]
    used = await lender.post(f"/loans/{loan['id']}/usage-reports", json={
        "recipient": {"kind": "enterprise", "id": credit_code("1"), "name": "某公司"}, "amount_fen": 1_000_000,
        "purpose": "processing", "reported_on": "2019-06-01"})
    assert used.status_code == 201, used.text
    await scan_alerts(admin, "2019-06-02")
    misused = await decide(place.finance, claim_id, "approve")
    assert misused.status_code == 422, misused.text
    assert misused.json()["code"] == codes.CLAIM_LOAN_MISUSED
    listed = await inspector.get("/alerts", params={"type": codes.ALERT_LOAN_ENTERPRISE_USE, "region": county})
    [alert] = [a for a in listed.json()["items"] if a["subject"]["id"] == loan["id"]]
    assert (await inspector.post(f"/alerts/{alert['id']}/resolve", json={"note": "已整改"})).status_code == 200
    repaid = await lender.post(f"/loans/{loan['id']}/repayments",
                               json={"principal_fen": 1_500_000, "interest_fen": 0, "paid_on": "2019-06-05"})
    assert repaid.status_code == 201, repaid.text
    over = await decide(place.finance, claim_id, "approve")  # 1,500,000 outstanding now, 2,000,000 claimed
    assert over.status_code == 422, over.text
    assert (over.json()["code"], over.json()["claimable_fen"]) == (codes.CLAIM_OVER_OUTSTANDING, 1_500_000)
    assert await place.account(inspector, "risk_fund", fund_id) == 2_000_000  # nothing moved
    small = await claim(lender, loan["id"], 1_000_000, on="2019-06-06")
    assert small.status_code == 422 and small.json()["code"] == codes.CLAIM_OVER_OUTSTANDING  # the first holds it
    rejected = await decide(place.finance, claim_id, "reject")
    assert rejected.status_code == 201, rejected.text
    again = await claim(lender, loan["id"], 1_500_000, on="2019-06-06")
    assert again.status_code == 201, again.text
    approved = await decide(place.finance, again.json()["id"], "approve")
    assert approved.status_code == 201 and approved.json()["decision"]["paid_fen"] == 1_050_000, approved.text


async def test_a_bank_claims_and_recovers_on_its_own_branchs_loans_only(
    admin: Api, make_principal: MakePrincipal, county: str, http: httpx.AsyncClient, seed: Seed
) -> None:
    """The review (L8, L9 with O13): a lender of another branch of the county neither claims on a loan its branch
    did not lend nor records a recovery on its compensation; the branch that lent it does both."""
    place = await set_up(admin, make_principal, county)
    branch, other_branch = [await organisation(admin, "bank_branch", county) for _ in range(2)]
    teller = await member(admin, http, "lender", county, branch)
    stranger = await member(admin, http, "lender", county, other_branch)
    loan = await overdue_loan(teller, seed)
    refused = await claim(stranger, loan["id"], 1_000_000)
    assert refused.status_code == 403, refused.text
    assert (refused.json()["code"], refused.json()["rule"]) == (codes.LOAN_OF_ANOTHER_BRANCH, "L8")
    filed = await claim(teller, loan["id"], 1_000_000)
    assert filed.status_code == 201, filed.text
    assert (await decide(place.finance, filed.json()["id"], "approve")).status_code == 201
    recovery = {"amount_fen": 100_000, "recovered_on": "2019-07-01"}
    path = f"/loans/compensation-claims/{filed.json()['id']}/recoveries"
    stolen = await stranger.post(path, json=recovery)
    assert stolen.status_code == 403 and stolen.json()["code"] == codes.LOAN_OF_ANOTHER_BRANCH, stolen.text
    assert (await teller.post(path, json=recovery)).status_code == 201
