"""loan_balances (derived, kept beside the facts) always equals its recomputation from the loans, repayments and
extensions; the overdue report and the L5 scan read it, and a report as of a day before a loan's last repayment
still counts only the repayments dated by then."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.loans import repository
from services.loans.models import Balance
from tests.conftest import Api
from tests.loans.conftest import Seed, loan_of


async def _repay(lender: Api, loan_id: str, principal: int, on: str) -> None:
    response = await lender.post(f"/loans/{loan_id}/repayments",
                                 json={"principal_fen": principal, "interest_fen": 0, "paid_on": on})
    assert response.status_code == 201, response.text


async def test_balances_equal_the_recomputation_after_loans_repayments_and_extensions(
    lender: Api, seed: Seed, loans_session: AsyncSession
) -> None:
    untouched = await loan_of(lender, seed)
    repaid = await loan_of(lender, seed, term_months=12, issued_on="2018-01-10")
    extended = await loan_of(lender, seed, term_months=12, issued_on="2018-01-10")
    # concurrent repayments of one loan take turns on its row: the balance adds both
    await asyncio.gather(_repay(lender, repaid, 1_000_000, "2018-06-01"), _repay(lender, repaid, 500_000, "2018-03-01"))
    await _repay(lender, extended, 1_000_000, "2018-12-01")
    response = await lender.post(f"/loans/{extended}/extensions",
                                 json={"new_maturity_on": "2019-07-10", "reason": "受灾"})
    assert response.status_code == 201, response.text
    assert await repository.balances_differing(loans_session) == []
    query = select(Balance).where(col(Balance.loan_id).in_([untouched, repaid, extended]))
    stored = {b.loan_id: b for b in (await loans_session.execute(query)).scalars()}
    assert (stored[repaid].repaid_fen, str(stored[repaid].last_paid_on)) == (1_500_000, "2018-06-01")
    assert (str(stored[extended].maturity_in_force), stored[extended].extended) == ("2019-07-10", True)
    assert (stored[untouched].repaid_fen, stored[untouched].last_paid_on) == (0, None)


async def test_the_recomputation_finds_a_balance_that_drifted(
    lender: Api, seed: Seed, loans_session: AsyncSession
) -> None:
    loan = await loan_of(lender, seed)
    await loans_session.execute(update(Balance).where(col(Balance.loan_id) == loan).values(repaid_fen=1))
    try:
        assert [row.loan_id for row in await repository.balances_differing(loans_session)] == [loan]
    finally:
        await loans_session.rollback()
    assert await repository.balances_differing(loans_session) == []


async def test_the_overdue_report_as_of_a_day_before_the_last_repayment_counts_repayments_by_then(
    lender: Api, seed: Seed, county: str
) -> None:
    loan = await loan_of(lender, seed, term_months=12, issued_on="2018-01-10", amount_fen=2_000_000)  # due 2019-01-10
    await _repay(lender, loan, 500_000, "2018-06-01")
    await _repay(lender, loan, 1_500_000, "2019-03-01")  # late, then repaid in full

    async def overdue(as_of: str) -> dict[str, dict[str, int]]:
        response = await lender.get("/loans/reports/overdue", params={"county": county, "as_of": as_of})
        assert response.status_code == 200, response.text
        buckets: dict[str, dict[str, int]] = response.json()["buckets"]
        return buckets

    assert (await overdue("2019-02-01"))["1-30"] == {"count": 1, "principal_fen": 1_500_000}  # 22 days past due
    assert (await overdue("2019-01-10"))["1-30"] == {"count": 0, "principal_fen": 0}  # the day it falls due
    assert all(b["count"] == 0 for b in (await overdue("2019-03-01")).values())  # repaid that day
    listed = await lender.get("/loans", params={"county": county, "status": "overdue", "as_of": "2019-02-01"})
    assert [item["id"] for item in listed.json()["items"]] == [loan]
    assert (await lender.get("/loans", params={"county": county, "status": "overdue"})).json()["items"] == []


async def test_the_overdue_list_pages_newest_first_and_keeps_to_its_filters(
    lender: Api, seed: Seed, county: str
) -> None:
    """GET /loans?status=overdue reads its page from the balances of the loans owing: a keyset page, newest id
    first, its household filter kept; a repaid loan and one not yet due are not listed."""
    overdue = [await loan_of(lender, seed, term_months=12, issued_on="2018-01-10") for _ in range(3)]
    repaid = await loan_of(lender, seed, term_months=12, issued_on="2018-01-10", amount_fen=1_000_000)
    await _repay(lender, repaid, 1_000_000, "2018-06-01")
    await loan_of(lender, seed, term_months=36, issued_on="2018-01-10")  # due 2021-01-10
    params: dict[str, str | int] = {"county": county, "status": "overdue", "as_of": "2019-06-01", "limit": 2}
    first = (await lender.get("/loans", params=params)).json()
    second = (await lender.get("/loans", params={**params, "cursor": first["next_cursor"]})).json()
    listed = [item["id"] for item in first["items"] + second["items"]]
    assert listed == sorted(overdue, reverse=True) and second["next_cursor"] is None
    assert all(item["status"] == "overdue" for item in first["items"] + second["items"])
    household = (await lender.get(f"/loans/{overdue[1]}")).json()["household_id"]
    one = (await lender.get("/loans", params={**params, "household_id": household})).json()
    assert [item["id"] for item in one["items"]] == [overdue[1]]
