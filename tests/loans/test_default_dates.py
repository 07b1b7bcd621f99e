"""A loan read or report without `as_of` is as of the date in China (services/kernel/clock.py), not the host's:
a loan that matured yesterday in China is overdue, one that matures today is not yet. The services run 20 hours
behind China (tests/stack.py), so a service reading the host's date would see both as not yet overdue."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from services.kernel import clock
from services.loans import codes
from services.loans.rules import maturity_of
from tests.conftest import Api
from tests.loans.conftest import Seed
from tests.loans.helpers import loan_body


def issued_for(maturity_on: date) -> tuple[date, int]:
    """An issue day and a term (months) that make the loan mature on `maturity_on`."""
    for term_months in (1, 12):
        for back in range(28, 370):
            issued_on = maturity_on - timedelta(days=back)
            if maturity_of(issued_on, term_months) == maturity_on:
                return issued_on, term_months
    raise AssertionError(f"no loan matures on {maturity_on}")


async def loan_maturing_on(lender: Api, seed: Seed, maturity_on: date) -> dict[str, Any]:
    household = await seed()
    issued_on, term_months = issued_for(maturity_on)
    body = loan_body(household.household_id, household.head_id_number, amount_fen=1_000_000,
                     issued_on=issued_on.isoformat(), term_months=term_months)
    response = await lender.post("/loans", json=body)
    assert response.status_code == 201, response.text
    loan: dict[str, Any] = response.json()
    assert loan["maturity_on"] == maturity_on.isoformat()
    return loan


async def test_a_loan_matured_yesterday_in_china_is_overdue_today_and_one_maturing_today_is_not(
    lender: Api, seed: Seed, county: str
) -> None:
    today = clock.today()
    matured = await loan_maturing_on(lender, seed, today - timedelta(days=1))
    maturing = await loan_maturing_on(lender, seed, today)
    for loan, status in ((matured, "overdue"), (maturing, "active")):
        detail = (await lender.get(f"/loans/{loan['id']}")).json()
        assert (detail["status"], detail["status_as_of"]) == (status, today.isoformat())
    listed = (await lender.get("/loans", params={"county": county})).json()["items"]
    assert {loan["id"]: loan["status"] for loan in listed} == {matured["id"]: "overdue", maturing["id"]: "active"}
    report = (await lender.get("/loans/reports/overdue", params={"county": county})).json()
    assert report["as_of"] == today.isoformat()
    assert {name: b["count"] for name, b in report["buckets"].items()} == {n: int(n == "1-30") for n in codes.BUCKETS}
    outstanding = (await lender.get("/loans/reports/outstanding", params={"county": county})).json()
    assert outstanding["as_of"] == today.isoformat()
    # an explicit as_of still wins: the day before, neither loan is overdue
    yesterday = (today - timedelta(days=1)).isoformat()
    earlier = (await lender.get("/loans/reports/overdue", params={"county": county, "as_of": yesterday})).json()
    assert earlier["as_of"] == yesterday and all(b["count"] == 0 for b in earlier["buckets"].values())
