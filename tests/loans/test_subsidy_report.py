"""L6 per county (GET /loans/reports/subsidy): the report, computed in the database in one statement
(repository.subsidy_by_county), equals the sum of each loan's subsidy as GET /loans/{id}/subsidy computes it in
Python (rules.subsidy_of), over loans with repayments before, inside and after the period, on its first and last
days, while overdue, after an extension and after a rule-breaking usage report, for periods before, across and after
the loans' lives."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from tests.conftest import Api, MakePrincipal
from tests.loans.conftest import Seed
from tests.loans.helpers import credit_code
from tests.loans.test_servicing import new_loan, repay

PERIODS = [
    ("2017-01-01", "2017-06-01"),  # before every loan: counted nowhere, nothing earned
    ("2018-01-01", "2018-07-01"),
    ("2018-07-01", "2019-01-01"),
    ("2019-01-01", "2019-04-01"),
    ("2019-03-15", "2020-09-10"),
    ("2020-01-01", "2021-01-01"),
    ("2021-06-01", "2022-01-01"),
    ("2018-03-01", "2023-01-01"),  # every loan's whole life
]


def _day(start: date, end: date, rnd: random.Random) -> date:
    return start + timedelta(days=rnd.randrange((end - start).days + 1))


async def _loans_of_every_shape(lender: Api, seed: Seed, rnd: random.Random) -> list[str]:
    ids = []
    for i in range(14):
        issued = _day(date(2018, 3, 1), date(2019, 6, 30), rnd)
        term = rnd.choice((24, 36))
        amount = rnd.randrange(10_000, 50_000) * 100
        loan = await new_loan(lender, seed, amount_fen=amount, term_months=term, issued_on=issued.isoformat())
        ids.append(loan["id"])
        maturity = date.fromisoformat(loan["maturity_on"])
        if i % 5 == 1:  # extended by six months (the maturity in force moves)
            response = await lender.post(f"/loans/{loan['id']}/extensions", json={
                "new_maturity_on": (maturity + timedelta(days=183)).isoformat(), "reason": "受灾，申请展期"})
            assert response.status_code == 201, response.text
        if i % 4 == 2:  # lent to an enterprise (L2a): no subsidy from the report's day
            response = await lender.post(f"/loans/{loan['id']}/usage-reports", json={
                "recipient": {"kind": "enterprise", "id": credit_code(str(i % 10)), "name": "某公司"},
                "amount_fen": amount, "purpose": "breeding",
                "reported_on": _day(issued, maturity, rnd).isoformat()})
            assert response.status_code == 201, response.text
        # repayments before, during and after maturity (some while overdue), on any day, some of interest only;
        # every third loan repays all its principal
        days = sorted(_day(issued, maturity + timedelta(days=250), rnd) for _ in range(rnd.randrange(0, 6)))
        left = amount
        for n, day in enumerate(days):
            last = n == len(days) - 1
            principal = left if last and i % 3 == 0 else rnd.randrange(0, left // 2 + 1) // 100 * 100
            if principal == 0:
                response = await repay(lender, loan["id"], 0, day.isoformat(), interest=1_000)
            else:
                response = await repay(lender, loan["id"], principal, day.isoformat())
            assert response.status_code == 201, response.text
            left -= principal
        if i == 4:  # repaid on the first day of a period and on the last day before one ends
            for edge in ("2020-01-01", "2020-12-31"):
                assert (await repay(lender, loan["id"], 100, edge)).status_code == 201
    return ids


async def test_the_report_is_the_sum_of_each_loans_subsidy(
    lender: Api, seed: Seed, county: str, make_principal: MakePrincipal
) -> None:
    ids = await _loans_of_every_shape(lender, seed, random.Random(20))
    finance = await make_principal("finance", county)
    readers = {county: finance, county[:4] + "00": await make_principal("finance", county[:4] + "00")}
    issued = {i: (await lender.get(f"/loans/{i}")).json()["issued_on"] for i in ids}
    earning = 0
    for period_from, period_to in PERIODS:
        for rate_bp in (475, 1000):
            params: dict[str, Any] = {"from": period_from, "to": period_to, "rate_bp": rate_bp}
            expected = 0
            for loan_id in ids:
                response = await finance.get(f"/loans/{loan_id}/subsidy", params=params)
                assert response.status_code == 200, response.text
                expected += response.json()["subsidy_fen"]
            counted = sum(1 for day in issued.values() if day < period_to)
            for region, reader in readers.items():  # the county, and its city (a prefix)
                response = await reader.get("/loans/reports/subsidy", params={**params, "county": region})
                assert response.status_code == 200, response.text
                report = response.json()
                items = [{"county_code": county, "loans": counted, "subsidy_fen": expected}] if counted else []
                # the city's report has a row per county (other tests' counties of the city among them)
                assert [i for i in report["items"] if i["county_code"] == county] == items, (
                    period_from, period_to, rate_bp, region)
                if region == county:
                    assert report["total_fen"] == expected
                else:
                    assert report["total_fen"] == sum(i["subsidy_fen"] for i in report["items"])
            earning += expected > 0
    assert earning >= 10  # the periods exercise loans that earn, not only empty reports


async def test_a_loan_repaid_before_the_period_is_counted_and_earns_nothing(
    lender: Api, seed: Seed, county: str, make_principal: MakePrincipal
) -> None:
    repaid = await new_loan(lender, seed, amount_fen=1_000_000, issued_on="2018-03-01")
    assert (await repay(lender, repaid["id"], 1_000_000, "2018-06-30")).status_code == 201
    owing = await new_loan(lender, seed, amount_fen=3_600_000, issued_on="2018-03-01")
    finance = await make_principal("finance", county)
    params = {"county": county, "from": "2018-07-01", "to": "2018-07-11", "rate_bp": 1000}
    report = (await finance.get("/loans/reports/subsidy", params=params)).json()
    # 10 days × 3,600,000 × 10 % / 360 = 10,000 fen, all of it the owing loan's
    assert report["items"] == [{"county_code": county, "loans": 2, "subsidy_fen": 10_000}]
    one_day_earlier = (await finance.get("/loans/reports/subsidy", params={**params, "from": "2018-06-30"})).json()
    # on 06-30 the repaid loan owed nothing at the day's end; the owing one earned a day more: 11,000
    assert one_day_earlier["total_fen"] == 11_000
    assert owing["id"] != repaid["id"]


async def test_a_loan_maturing_on_the_periods_first_day_earns_that_day_and_one_maturing_the_day_before_nothing(
    lender: Api, seed: Seed, county: str, make_principal: MakePrincipal
) -> None:
    """The report reads no loan past its maturity in force before `from` (repository._subsidy_sums), and must still
    read every loan that can earn: the one maturing on the first day earns that day (a filter one day off would drop
    it), the one maturing the day before earns nothing (with or without the filter, which only saves its probe),
    and the one whose extension moved its maturity from before `from` into the period earns up to it."""
    on_first_day = await new_loan(lender, seed, amount_fen=3_600_000, term_months=24, issued_on="2018-07-01")
    day_before = await new_loan(lender, seed, amount_fen=3_600_000, term_months=24, issued_on="2018-06-30")
    extended = await new_loan(lender, seed, amount_fen=3_600_000, term_months=24, issued_on="2018-05-15")
    assert [loan["maturity_on"] for loan in (on_first_day, day_before, extended)] == [
        "2020-07-01", "2020-06-30", "2020-05-15"]
    response = await lender.post(f"/loans/{extended['id']}/extensions", json={
        "new_maturity_on": "2020-07-10", "reason": "受灾，申请展期"})
    assert response.status_code == 201, response.text
    finance = await make_principal("finance", county)
    params = {"from": "2020-07-01", "to": "2020-08-01", "rate_bp": 1000}
    report = (await finance.get("/loans/reports/subsidy", params={**params, "county": county})).json()
    # a day's subsidy of 3,600,000 fen at 10 % is 1,000 fen: the first day of the period for the one maturing on it,
    # 07-01..07-10 for the extended one, nothing for the one maturing on 06-30
    assert report["items"] == [{"county_code": county, "loans": 3, "subsidy_fen": 11_000}]
    each = [(await finance.get(f"/loans/{loan['id']}/subsidy", params=params)).json()["subsidy_fen"]
            for loan in (on_first_day, day_before, extended)]
    assert each == [1_000, 0, 10_000]
