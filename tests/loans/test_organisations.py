"""Issue #16 point 1 (rule O13) for loans, through the gateway: a loan carries the organisation of the lender that
recorded it and answers to the lending branch (that same organisation); its detail shows both and the loan alerts
name the branch."""

from __future__ import annotations

import httpx

from services.loans import codes
from tests.conftest import Api
from tests.loans.conftest import Household, Seed, import_households
from tests.loans.helpers import credit_code, loan_body
from tests.loans.test_detectors import alerts, new_loan, scan, use
from tests.oversight.conftest import member, ok, organisation


async def test_a_loan_answers_to_its_lending_branch_and_its_alerts_name_it(
    admin: Api, http: httpx.AsyncClient, inspector: Api, seed: Seed, county: str
) -> None:
    branch = await organisation(admin, "bank_branch", county)
    other_branch = await organisation(admin, "bank_branch", county)
    teller = await member(admin, http, "lender", county, branch)
    other_teller = await member(admin, http, "lender", county, other_branch)

    loan = await new_loan(teller, seed, term_months=1, issued_on="2018-01-15")  # matures 2018-02-15
    assert (loan["recorded_by_org"], loan["responsible_org"]) == (branch, branch)
    detail = ok(await inspector.get(f"/loans/{loan['id']}"))
    assert (detail["recorded_by_org"], detail["responsible_org"]) == (branch, branch)
    other = await new_loan(other_teller, seed)
    assert (other["recorded_by_org"], other["responsible_org"]) == (other_branch, other_branch)
    listed = {x["id"]: x for x in ok(await inspector.get("/loans", params={"county": county}))["items"]}
    assert listed[other["id"]]["responsible_org"] == other_branch

    await use(teller, loan["id"], "enterprise", credit_code("1"), "processing", "2018-01-20")
    await scan(admin, "2018-03-20")
    [overdue] = [a for a in await alerts(inspector, codes.ALERT_LOAN_OVERDUE, county)
                 if a["subject"]["id"] == loan["id"]]
    assert overdue["subject"]["responsible_org"] == branch
    [misuse] = [a for a in await alerts(inspector, codes.ALERT_LOAN_ENTERPRISE_USE, county)
                if a["subject"]["id"] == loan["id"]]
    assert misuse["subject"]["responsible_org"] == branch


async def test_an_ineligible_borrower_names_its_lending_branch_and_none_when_two_branches_lent(
    admin: Api, http: httpx.AsyncClient, inspector: Api, seed: Seed, county: str
) -> None:
    """O13 both ways for an alert about a household's loans: one branch lent → it is named; two branches → none is
    named (the facts list both)."""
    branch = await organisation(admin, "bank_branch", county)
    other_branch = await organisation(admin, "bank_branch", county)
    teller = await member(admin, http, "lender", county, branch)
    other_teller = await member(admin, http, "lender", county, other_branch)
    one, two = await seed(), await seed()
    for lender, household in ((teller, one), (teller, two), (other_teller, two)):
        body = loan_body(household.household_id, household.head_id_number, amount_fen=100, issued_on="2018-01-15")
        response = await lender.post("/loans", json=body)
        assert response.status_code == 201, response.text
    await import_households(
        admin,
        Household(one.household_id, one.head_id_number, county, "not_poor"),
        Household(two.household_id, two.head_id_number, county, "not_poor"),
        effective_on="2018-05-15",
    )
    await scan(admin, "2018-06-01")
    found = {a["subject"]["id"]: a for a in await alerts(inspector, codes.ALERT_INELIGIBLE_BORROWER, county)}
    assert found[one.household_id]["subject"]["responsible_org"] == branch
    assert found[one.household_id]["facts"]["lending_orgs"] == [branch]
    assert found[two.household_id]["subject"]["responsible_org"] is None
    assert found[two.household_id]["facts"]["lending_orgs"] == sorted([branch, other_branch])
