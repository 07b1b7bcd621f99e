"""L1 judged on the loan's issue date (DOMAIN.md L1, as F10 judges a payment on its date): the registry says whether
the household was on the roster, and eligible, on `issued_on`; both sides through the gateway. And a registry that
fails on that question refuses the loan with 503, writing nothing."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient
from services.kernel.identity import Principal
from services.loans import codes, service
from services.loans.clients import Registry
from services.loans.schemas import LoanCreate
from tests.conftest import Api
from tests.loans.conftest import Household, Seed, import_households
from tests.loans.helpers import id_number, loan_body
from tests.loans.test_origination import assert_refused, loans_of


async def originate(lender: Api, h: Household, issued_on: str) -> dict[str, Any]:
    response = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, issued_on=issued_on,
                                                          amount_fen=100_000))
    assert response.status_code == 201, response.text
    loan: dict[str, Any] = response.json()
    return loan


async def test_a_loan_before_the_household_was_registered_is_refused(lender: Api, seed: Seed) -> None:
    h = await seed(effective_on="2017-01-01")
    body = loan_body(h.household_id, h.head_id_number, issued_on="2016-12-31")
    problem = await assert_refused(lender, body, codes.BORROWER_NOT_REGISTERED)
    assert (problem["rule"], problem["field"]) == ("L1", "household_id") and "2016-12-31" in problem["detail"]
    loan = await originate(lender, h, "2017-01-01")  # registered that day: accepted
    assert loan["issued_on"] == "2017-01-01"


async def test_a_household_registered_today_may_not_borrow_on_an_earlier_date(lender: Api, seed: Seed) -> None:
    h = await seed(effective_on=None)
    body = loan_body(h.household_id, h.head_id_number, issued_on="2018-03-01")
    problem = await assert_refused(lender, body, codes.BORROWER_NOT_REGISTERED)
    assert (problem["rule"], problem["field"]) == ("L1", "household_id")


async def test_poor_on_the_issue_date_but_not_poor_later(admin: Api, lender: Api, seed: Seed, county: str) -> None:
    """Poor from 2016, found not poor (not covered) from 2019-01-01: a loan of 2018-12-31 is accepted, one of
    2019-01-01 refused, whatever the roster says today."""
    h = await seed(effective_on="2016-01-01")
    await import_households(admin, Household(h.household_id, h.head_id_number, county, "not_poor"),
                            effective_on="2019-01-01")
    body = loan_body(h.household_id, h.head_id_number, issued_on="2019-01-01")
    problem = await assert_refused(lender, body, codes.BORROWER_NOT_ELIGIBLE)
    assert (problem["rule"], problem["field"]) == ("L1", "household_id") and "not_poor" in problem["detail"]
    await originate(lender, h, "2018-12-31")
    assert [loan["issued_on"] for loan in await loans_of(lender, h.household_id)] == ["2018-12-31"]


async def test_a_village_cadre_counts_while_in_office(admin: Api, lender: Api, seed: Seed, county: str) -> None:
    """A cadre in the household from 2016, none from 2018-06-01 (the roster then): refused before, accepted after."""
    h = await seed(village_cadre=True, effective_on="2016-01-01")
    await import_households(admin, Household(h.household_id, h.head_id_number, county, "poor", False),
                            effective_on="2018-06-01")
    body = loan_body(h.household_id, h.head_id_number, issued_on="2018-05-31")
    problem = await assert_refused(lender, body, codes.BORROWER_NOT_ELIGIBLE)
    assert (problem["rule"], problem["field"]) == ("L1", "household_id")
    await originate(lender, h, "2018-06-01")


class EligibilityFailing(ServiceClient):
    """A registry that knows the household but fails when asked about the issue date (down, or a 500)."""

    def __init__(self, household: dict[str, Any], *, status: int | None) -> None:
        super().__init__("registry", "http://127.0.0.1:9", caller="loans")
        self.household, self.status = household, status
        self.asked: list[str] = []

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        self.asked.append(path)
        if not path.endswith("/eligibility"):
            return httpx.Response(200, json=self.household)
        if self.status is None:
            raise ServiceUnavailable("registry down", service="registry")
        return httpx.Response(self.status, json={"code": "INTERNAL"})


class Untouched:
    """A session that fails the test if origination writes or locks anything: it may only count the principal's
    refused borrower checks (S6), none so far."""

    async def scalar(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the session was used ({name}) although the registry failed")


@pytest.mark.parametrize("status", [None, 500])
async def test_registry_failing_on_the_issue_date_is_503_and_writes_nothing(status: int | None) -> None:
    county = "430523"
    head = id_number(county, date(1980, 5, 17))
    household = {"household_id": "HH1", "head_id_number": head, "head_name": "王五", "county_code": county,
                 "village_code": county + "101001", "status": "poor", "members": 4, "village_cadre": False,
                 "card_account": "6217"}
    client = EligibilityFailing(household, status=status)
    lender = Principal(id="t", role="lender", region_code=county)
    try:
        with pytest.raises(ServiceUnavailable) as caught:
            await service.originate(cast(AsyncSession, Untouched()), Registry(client), lender,
                                    LoanCreate.model_validate(loan_body("HH1", head)))
        assert caught.value.status == 503
        assert client.asked == ["/internal/households/HH1", "/internal/households/HH1/eligibility"]
    finally:
        await client.aclose()
