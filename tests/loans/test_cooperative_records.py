"""L15–L17 through the gateway: the 一自两合 records. A cooperative-mode loan (户贷社管) carries its entrustment
agreement; a partnership-mode loan (合伙发展) names partner households on the roster; returns to the household are
recorded, and a cooperative-mode household paid nothing for 12 months is NO_RETURN_TO_HOUSEHOLD."""

from __future__ import annotations

from typing import Any

from services.loans import codes
from tests.conftest import Api, scan_alerts
from tests.loans.conftest import Household, Seed
from tests.loans.helpers import agreement, credit_code, household_id, loan_body


def cooperative_body(h: Household, coop: str, **overrides: Any) -> dict[str, Any]:
    return loan_body(h.household_id, h.head_id_number, mode="cooperative", cooperative_uscc=coop, **overrides)


async def test_a_cooperative_mode_loan_records_its_agreement(lender: Api, seed: Seed) -> None:
    h, coop = await seed(), credit_code("3")
    response = await lender.post("/loans", json=cooperative_body(h, coop, agreement=agreement(coop)))
    assert response.status_code == 201, response.text
    assert response.json()["mode"] == "cooperative" and response.json()["cooperative_uscc"] == coop
    records = (await lender.get(f"/loans/{response.json()['id']}/records")).json()
    assert records["agreement"] == agreement(coop)
    assert (records["partners"], records["returns"]) == ([], [])


async def test_a_cooperative_mode_loan_without_its_agreement_is_refused(lender: Api, seed: Seed) -> None:
    h, coop = await seed(), credit_code("3")
    missing = cooperative_body(h, coop)
    missing.pop("agreement")
    cases = [
        (missing, "agreement"),
        (cooperative_body(h, coop, agreement=agreement(credit_code("3"))), "agreement.cooperative_uscc"),
        (cooperative_body(h, coop, agreement=agreement(coop, signed_on="2018-03-02")), "agreement.signed_on"),
    ]
    for body, field in cases:
        refused = await lender.post("/loans", json=body)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["code"], refused.json()["rule"], refused.json()["field"]) == (
            codes.LOAN_AGREEMENT_MISSING, "L15", field)
    assert (await lender.get("/loans", params={"household_id": h.household_id})).json()["items"] == []


async def test_an_agreement_is_given_in_the_cooperative_mode_only(lender: Api, seed: Seed) -> None:
    h = await seed()
    body = loan_body(h.household_id, h.head_id_number, agreement=agreement(credit_code("3")))
    refused = await lender.post("/loans", json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "VALIDATION_ERROR", refused.text
    bad_digest = cooperative_body(h, (coop := credit_code("3")), agreement=agreement(coop, document_sha256="x"))
    refused = await lender.post("/loans", json=bad_digest)
    assert refused.status_code == 422 and refused.json()["field"] == "agreement.document_sha256", refused.text


async def test_a_partnership_mode_loan_names_partners_on_the_roster(lender: Api, seed: Seed) -> None:
    h, partner = await seed(), await seed()
    body = loan_body(h.household_id, h.head_id_number, mode="partnership", partners=[partner.household_id])
    made = await lender.post("/loans", json=body)
    assert made.status_code == 201, made.text
    records = (await lender.get(f"/loans/{made.json()['id']}/records")).json()
    assert (records["partners"], records["agreement"]) == ([partner.household_id], None)
    cases = [
        (loan_body(h.household_id, h.head_id_number, mode="partnership"), codes.LOAN_PARTNERS_MISSING, "partners"),
        (loan_body(h.household_id, h.head_id_number, mode="partnership", partners=[]), codes.LOAN_PARTNERS_MISSING,
         "partners"),
        (loan_body(h.household_id, h.head_id_number, mode="partnership", partners=[h.household_id]),
         codes.LOAN_PARTNERS_MISSING, "partners.0"),
        (loan_body(h.household_id, h.head_id_number, mode="partnership",
                   partners=[partner.household_id, household_id()]), codes.PARTNER_NOT_REGISTERED, "partners.1"),
    ]
    for refused_body, code, field in cases:
        refused = await lender.post("/loans", json=refused_body)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["code"], refused.json()["rule"], refused.json()["field"]) == (code, "L16", field)
    assert len((await lender.get("/loans", params={"household_id": h.household_id})).json()["items"]) == 1


async def test_a_partner_registered_only_after_the_issue_date_is_refused(lender: Api, seed: Seed) -> None:
    h = await seed()
    late = await seed(effective_on="2019-01-01")
    body = loan_body(h.household_id, h.head_id_number, mode="partnership", partners=[late.household_id])
    refused = await lender.post("/loans", json=body)
    assert refused.status_code == 422 and refused.json()["code"] == codes.PARTNER_NOT_REGISTERED, refused.text
    assert (await lender.post("/loans", json={**body, "issued_on": "2019-02-01"})).status_code == 201


async def test_returns_are_recorded_on_cooperative_mode_loans_only(lender: Api, seed: Seed) -> None:
    h, coop = await seed(), credit_code("3")
    loan = (await lender.post("/loans", json=cooperative_body(h, coop, amount_fen=1_000_000))).json()
    paid = await lender.post(f"/loans/{loan['id']}/returns", json={"amount_fen": 80_000, "paid_on": "2019-01-10"})
    assert paid.status_code == 201, paid.text
    assert (paid.json()["cooperative_uscc"], paid.json()["household_id"]) == (coop, h.household_id)
    assert (await lender.get(f"/loans/{loan['id']}/records")).json()["returns"] == [paid.json()]
    early = await lender.post(f"/loans/{loan['id']}/returns", json={"amount_fen": 1, "paid_on": "2018-02-28"})
    assert early.status_code == 422 and early.json()["code"] == codes.RETURN_BEFORE_ISSUE
    own = (await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, amount_fen=100))).json()
    wrong = await lender.post(f"/loans/{own['id']}/returns", json={"amount_fen": 1, "paid_on": "2019-01-10"})
    assert wrong.status_code == 422 and wrong.json()["code"] == codes.LOAN_NOT_COOPERATIVE
    nothing = await lender.post(f"/loans/{loan['id']}/returns", json={"amount_fen": 0, "paid_on": "2019-01-10"})
    assert nothing.status_code == 422 and nothing.json()["field"] == "amount_fen"


async def no_return(inspector: Api, county: str) -> dict[str, dict[str, Any]]:
    response = await inspector.get("/alerts", params={"type": codes.ALERT_NO_RETURN_TO_HOUSEHOLD, "region": county,
                                                      "limit": 500})
    assert response.status_code == 200, response.text
    return {a["subject"]["id"]: a for a in response.json()["items"]}


async def test_a_cooperative_household_paid_nothing_for_12_months_is_alerted(
    admin: Api, lender: Api, inspector: Api, seed: Seed, county: str
) -> None:
    coop = credit_code("3")
    paid_h, unpaid_h, repaid_h = await seed(), await seed(), await seed()
    paid = (await lender.post("/loans", json=cooperative_body(paid_h, coop))).json()
    unpaid = (await lender.post("/loans", json=cooperative_body(unpaid_h, coop))).json()
    repaid = (await lender.post("/loans", json=cooperative_body(repaid_h, coop, amount_fen=1_000))).json()
    assert (await lender.post(f"/loans/{paid['id']}/returns",
                              json={"amount_fen": 50_000, "paid_on": "2019-02-01"})).status_code == 201
    repayment = {"principal_fen": 1_000, "interest_fen": 0, "paid_on": "2019-01-01"}
    assert (await lender.post(f"/loans/{repaid['id']}/repayments", json=repayment)).status_code == 201
    await scan_alerts(admin, "2019-02-28")  # 12 months since issue are not over
    assert await no_return(inspector, county) == {}
    await scan_alerts(admin, "2019-03-02")
    found = await no_return(inspector, county)
    assert set(found) == {unpaid["id"]}, found
    assert found[unpaid["id"]]["facts"]["last_return_on"] is None and found[unpaid["id"]]["facts"]["rule"] == "L17"
    await scan_alerts(admin, "2020-02-02")  # the paid household's return is now more than 12 months old
    found = await no_return(inspector, county)
    assert set(found) == {unpaid["id"], paid["id"]}, found
    assert found[paid["id"]]["facts"]["last_return_on"] == "2019-02-01"
