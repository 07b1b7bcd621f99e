"""The loan detectors through POST /alerts/scan: LOAN_OVERDUE ageing, misuse, concentration at 4 and 5 households,
and INELIGIBLE_BORROWER over the registry."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.loans import codes
from tests.conftest import Api, scan_alerts
from tests.loans.conftest import Household, Seed, import_households
from tests.loans.helpers import credit_code, loan_body


async def scan(admin: Api, as_of: str) -> dict[str, Any]:
    return await scan_alerts(admin, as_of)


async def alerts(inspector: Api, alert_type: str, county: str) -> list[dict[str, Any]]:
    response = await inspector.get("/alerts", params={"type": alert_type, "region": county, "limit": 500})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def new_loan(lender: Api, seed: Seed, **overrides: Any) -> dict[str, Any]:
    h = await seed()
    response = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, **overrides))
    assert response.status_code == 201, response.text
    loan: dict[str, Any] = response.json()
    return loan


async def use(lender: Api, loan_id: str, kind: str, recipient: str, purpose: str, on: str) -> None:
    response = await lender.post(f"/loans/{loan_id}/usage-reports", json={
        "recipient": {"kind": kind, "id": recipient, "name": "收款方"}, "amount_fen": 1_000_000,
        "purpose": purpose, "reported_on": on})
    assert response.status_code == 201, response.text


async def test_overdue_is_raised_once_and_ages(admin: Api, lender: Api, inspector: Api, seed: Seed,
                                               county: str, db: asyncpg.Pool) -> None:
    loan = await new_loan(lender, seed, term_months=1, issued_on="2018-01-15")  # matures 2018-02-15
    await scan(admin, "2018-02-15")
    assert await alerts(inspector, codes.ALERT_LOAN_OVERDUE, county) == []
    await scan(admin, "2018-03-17")  # day 30
    [first] = await alerts(inspector, codes.ALERT_LOAN_OVERDUE, county)
    # O13: the lending branch (the lender's organisation) answers for the loan, and the alert names it
    assert loan["responsible_org"] is not None
    assert first["subject"] == {"kind": "loan", "id": loan["id"], "responsible_org": loan["responsible_org"]}
    assert (first["facts"]["maturity_on"], first["facts"]["bucket"]) == ("2018-02-15", "1-30")
    await scan(admin, "2018-03-18")  # day 31
    [second] = await alerts(inspector, codes.ALERT_LOAN_OVERDUE, county)
    assert second["id"] == first["id"]
    assert (second["facts"]["maturity_on"], second["facts"]["bucket"]) == ("2018-02-15", "31-90")
    assert second["severity"] == "medium"
    assert await events_of(db, first["id"]) == ["raised", "updated"]
    await scan(admin, "2018-03-19")  # day 32: nothing changed, the alert is not rewritten
    await scan(admin, "2018-03-20")
    assert await events_of(db, first["id"]) == ["raised", "updated"]
    await lender.post(f"/loans/{loan['id']}/repayments",
                      json={"principal_fen": 1_000_000, "interest_fen": 0, "paid_on": "2018-03-20"})
    await scan(admin, "2018-03-21")  # its debt changed: rewritten
    [third] = await alerts(inspector, codes.ALERT_LOAN_OVERDUE, county)
    assert third["facts"]["outstanding_fen"] == second["facts"]["outstanding_fen"] - 1_000_000
    assert await events_of(db, first["id"]) == ["raised", "updated", "updated"]


async def events_of(db: asyncpg.Pool, alert_id: str) -> list[str]:
    rows = await db.fetch("SELECT action FROM loans.alert_events WHERE alert_id = $1 ORDER BY id", alert_id)
    return [row["action"] for row in rows]


async def test_misuse_detectors_flag_enterprise_and_non_productive_use(
    admin: Api, lender: Api, inspector: Api, seed: Seed, county: str
) -> None:
    company = await new_loan(lender, seed)
    coop_outside_mode = await new_loan(lender, seed)
    consumption = await new_loan(lender, seed)
    fine = await new_loan(lender, seed)
    later = await new_loan(lender, seed)
    await use(lender, company["id"], "enterprise", credit_code("1"), "processing", "2018-04-01")
    await use(lender, coop_outside_mode["id"], "cooperative", credit_code("3"), "planting", "2018-04-01")
    await use(lender, consumption["id"], "household", consumption["household_id"], "consumption", "2018-04-01")
    await use(lender, fine["id"], "household", fine["household_id"], "breeding", "2018-04-01")
    await use(lender, later["id"], "enterprise", credit_code("1"), "processing", "2018-05-01")  # after as_of
    await scan(admin, "2018-04-15")
    enterprise = {a["subject"]["id"] for a in await alerts(inspector, codes.ALERT_LOAN_ENTERPRISE_USE, county)}
    assert enterprise == {company["id"], coop_outside_mode["id"]}
    purpose = {a["subject"]["id"] for a in await alerts(inspector, codes.ALERT_LOAN_NON_PRODUCTIVE_USE, county)}
    assert purpose == {consumption["id"]}


async def test_cooperative_mode_reaching_its_cooperative_is_not_misuse(
    admin: Api, lender: Api, inspector: Api, seed: Seed, county: str
) -> None:
    coop = credit_code("3")
    loans = [await new_loan(lender, seed, mode="cooperative", cooperative_uscc=coop) for _ in range(5)]
    for loan in loans:
        await use(lender, loan["id"], "cooperative", coop, "planting", "2018-04-01")
    await scan(admin, "2018-04-15")
    assert await alerts(inspector, codes.ALERT_LOAN_ENTERPRISE_USE, county) == []
    assert await alerts(inspector, codes.ALERT_LOAN_FUNDS_CONCENTRATION, county) == []


async def test_concentration_at_four_households_is_quiet_and_at_five_raised(
    admin: Api, lender: Api, inspector: Api, seed: Seed, county: str
) -> None:
    company = credit_code("1")
    loans = [await new_loan(lender, seed) for _ in range(5)]
    for loan in loans[:4]:
        await use(lender, loan["id"], "enterprise", company, "processing", "2018-03-10")
    await use(lender, loans[0]["id"], "enterprise", company, "processing", "2018-03-20")  # same household twice
    await scan(admin, "2018-06-01")
    assert await alerts(inspector, codes.ALERT_LOAN_FUNDS_CONCENTRATION, county) == []
    await use(lender, loans[4]["id"], "enterprise", company, "processing", "2018-06-01")
    await scan(admin, "2018-06-08")  # the 2018-03-10 reports are 90 days before: still inside the window
    [alert] = await alerts(inspector, codes.ALERT_LOAN_FUNDS_CONCENTRATION, county)
    # O13: the loans were all lent by one branch (the lender's organisation), which the alert names
    assert alert["subject"] == {"kind": "organisation", "id": company, "responsible_org": loans[0]["responsible_org"]}
    assert alert["facts"]["lending_orgs"] == [loans[0]["responsible_org"]]
    facts = alert["facts"]
    assert facts["credit_code"] == company and facts["households"] == 5
    assert {x["loan_id"] for x in facts["loans"]} == {loan["id"] for loan in loans}
    await scan(admin, "2018-06-09")  # 91 days after 2018-03-10: four households drop out of the window
    [still] = await alerts(inspector, codes.ALERT_LOAN_FUNDS_CONCENTRATION, county)
    assert still["id"] == alert["id"]  # an open alert stays open; no duplicate


async def test_ineligible_borrower_after_a_re_import(
    admin: Api, lender: Api, inspector: Api, seed: Seed, county: str
) -> None:
    becomes_not_poor = await seed()
    gets_cadre = await seed()
    stays_poor = await seed()
    repaid = await seed()
    loans = {}
    for h in (becomes_not_poor, gets_cadre, stays_poor, repaid):
        response = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, amount_fen=100))
        loans[h.household_id] = response.json()["id"]
    repayment = {"principal_fen": 100, "interest_fen": 0, "paid_on": "2018-05-01"}
    assert (await lender.post(f"/loans/{loans[repaid.household_id]}/repayments", json=repayment)).status_code == 201
    await import_households(
        admin,
        Household(becomes_not_poor.household_id, becomes_not_poor.head_id_number, county, "not_poor"),
        Household(gets_cadre.household_id, gets_cadre.head_id_number, county, "poor", True),
        Household(repaid.household_id, repaid.head_id_number, county, "not_poor"),
        effective_on="2018-05-15",  # the roster as it stood from that day
    )
    await scan(admin, "2018-05-14")  # the day before, all four were eligible: judged on that day's roster
    assert await alerts(inspector, codes.ALERT_INELIGIBLE_BORROWER, county) == []
    await scan(admin, "2018-06-01")
    found = {a["subject"]["id"]: a["facts"] for a in await alerts(inspector, codes.ALERT_INELIGIBLE_BORROWER, county)}
    assert set(found) == {becomes_not_poor.household_id, gets_cadre.household_id}
    assert found[becomes_not_poor.household_id]["reasons"] == ["not_poor"]
    assert found[gets_cadre.household_id]["reasons"] == ["village_cadre"]
    assert found[gets_cadre.household_id]["loan_ids"] == [loans[gets_cadre.household_id]]
