"""The subsidy report of several counties split by county across the loans worker's split readers (issue #20:
`reads._computed`, services/kernel/split_reads.py): through the gateway it answers what one statement over the region
answers (`repository.subsidy_by_county`, the recomputation from the facts), for a period computed each time and for a
closed period whose figures it computes and keeps; in process, its parts ran on two connections other than the
request's, and the answer is the one it gives unsplit."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.db import create_engine
from services.kernel.identity import Principal
from services.kernel.split_reads import SplitReaders
from services.loans import reads, repository, rules
from tests.conftest import MakePrincipal
from tests.loans.conftest import Seed, fresh_county
from tests.loans.helpers import loan_body
from tests.loans.test_servicing import repay
from tests.stack import TestDatabase

RATE_BP = 475


def _two_counties_of_a_city() -> tuple[str, str]:
    """Two counties no other loans test has, of one city (its first two: 44nn01 and 44nn02)."""
    while not (first := fresh_county()).endswith("01"):
        pass
    second = fresh_county()
    assert second == first[:4] + "02"
    return first, second


async def _loans_of(county: str, make_principal: MakePrincipal, seed: Seed, today: date, count: int) -> None:
    """`count` loans of the county issued 200 days ago, alive now; the second repays some principal inside the last
    90 days, the third all of it before them."""
    lender = await make_principal("lender", county)
    for n in range(count):
        household = await seed(in_county=county)
        response = await lender.post("/loans", json=loan_body(
            household.household_id, household.head_id_number, amount_fen=(2 + n) * 1_000_000, term_months=24,
            issued_on=(today - timedelta(days=200)).isoformat()))
        assert response.status_code == 201, response.text
        loan_id = response.json()["id"]
        if n == 1:
            assert (await repay(lender, loan_id, 500_000, (today - timedelta(days=30)).isoformat())).status_code == 201
        if n == 2:
            assert (await repay(lender, loan_id, 4_000_000, (today - timedelta(days=150)).isoformat())
                    ).status_code == 201


async def test_a_citys_report_split_by_county_is_the_recomputation_from_the_facts(
    make_principal: MakePrincipal, seed: Seed, loans_session: AsyncSession, database: TestDatabase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    today = await repository.database_today(loans_session)
    await loans_session.rollback()
    first, second = _two_counties_of_a_city()
    await _loans_of(first, make_principal, seed, today, 3)
    await _loans_of(second, make_principal, seed, today, 2)
    city = first[:4] + "00"
    finance = await make_principal("finance", city)
    closed_to = (today - timedelta(days=1)).replace(day=1)
    periods = [
        (today - timedelta(days=90), today + timedelta(days=10)),  # open: computed each time
        (rules.add_months(closed_to, -6), closed_to),  # closed: computed once by county, then kept
    ]
    assert not rules.subsidy_is_kept(*periods[0], today) and rules.subsidy_is_kept(*periods[1], today)
    for period_from, period_to in periods:
        params = {"from": period_from.isoformat(), "to": period_to.isoformat(), "rate_bp": RATE_BP}
        expected = await repository.subsidy_by_county(loans_session, prefix=city[:4], period_from=period_from,
                                                      period_to=period_to, rate_bp=RATE_BP)
        await loans_session.rollback()
        ours = {row[0]: row[1:] for row in expected if row[0] in (first, second)}
        assert ours[first][0] == 3 and ours[second][0] == 2 and ours[first][1] > 0 and ours[second][1] > 0
        for _ in range(2):  # the closed period's second answer is its kept figures
            response = await finance.get("/loans/reports/subsidy", params=params)
            assert response.status_code == 200, response.text
            report = response.json()
            assert [(i["county_code"], i["loans"], i["subsidy_fen"]) for i in report["items"]] == expected
            assert report["total_fen"] == sum(fen for _, _, fen in expected)

    # in process: the open period's report split across two readers, each part on a connection of its own
    calls: list[tuple[int, list[str]]] = []
    compute = repository.subsidy_of_counties

    async def recorded(session: AsyncSession, counties: Any, **period_and_rate: Any) -> Any:
        calls.append((int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()), list(counties)))
        return await compute(session, counties, **period_and_rate)

    monkeypatch.setattr(repository, "subsidy_of_counties", recorded)
    principal = Principal(id="test-finance", role="finance", region_code=city)
    period: dict[str, Any] = {"period_from": periods[0][0], "period_to": periods[0][1], "rate_bp": RATE_BP}
    readers = SplitReaders(create_engine("loans", url=database.url, pool_size=2, overflow=0), 2)
    try:
        split = await reads.subsidy_report(loans_session, principal, readers, county=None, **period)
    finally:
        await readers.dispose()
    own = int((await loans_session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
    unsplit = await reads.subsidy_report(loans_session, principal, SplitReaders(None, 1), county=None, **period)
    await loans_session.rollback()
    (pid_a, part_a), (pid_b, part_b), (pid_one, every) = calls
    assert split == unsplit
    assert [(i.county_code, i.loans, i.subsidy_fen) for i in split.items] == await repository.subsidy_by_county(
        loans_session, prefix=city[:4], **period)
    await loans_session.rollback()
    assert len({pid_a, pid_b, own}) == 3 and pid_one == own
    assert sorted(part_a + part_b) == sorted(every) and {first, second} <= set(every) and part_a and part_b
