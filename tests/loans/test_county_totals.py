"""loan_county_totals (derived, kept by a trigger on loan_balances) always equals its recomputation from the
balances, after every kind of write; the outstanding report reads them, corrected by the loans that differ on the day
asked, and gives the figures the statement over every balance gives (`outstanding_recomputed`) for any day."""

from __future__ import annotations

import asyncio
from datetime import date

import asyncpg
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from deploy.doctor import loan_totals_drift, repair_loan_totals
from services.kernel.db import plain_url
from services.loans import repository
from services.loans.models import Balance, CountyTotal
from tests.conftest import Api
from tests.loans.conftest import Seed, loan_of
from tests.stack import TestDatabase


async def _repay(lender: Api, loan_id: str, principal: int, on: str, interest: int = 0) -> None:
    response = await lender.post(f"/loans/{loan_id}/repayments",
                                 json={"principal_fen": principal, "interest_fen": interest, "paid_on": on})
    assert response.status_code == 201, response.text


async def _kept(session: AsyncSession, county: str) -> tuple[int, int, int]:
    """The county's kept totals, its slots summed (loans, loans owing, principal owed)."""
    row = (await session.execute(
        select(func.sum(col(CountyTotal.loans)), func.sum(col(CountyTotal.owing_loans)),
               func.sum(col(CountyTotal.owed_fen)))
        .where(col(CountyTotal.county_code) == county)
    )).one()
    await session.rollback()  # a fresh snapshot for the next read
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


async def _differing(session: AsyncSession) -> list[repository.Record]:
    rows: list[repository.Record] = list((await session.execute(repository.county_totals_differing())).all())
    await session.rollback()
    return rows


async def test_the_totals_equal_the_recomputation_after_every_kind_of_write(
    lender: Api, seed: Seed, county: str, loans_session: AsyncSession
) -> None:
    loans = [await loan_of(lender, seed, term_months=12, issued_on="2018-01-10", amount_fen=1_000_000)
             for _ in range(4)]
    assert await _kept(loans_session, county) == (4, 4, 4_000_000)
    assert await _differing(loans_session) == []
    # concurrent repayments through the gateway, of different loans of the county and twice of one loan
    await asyncio.gather(
        _repay(lender, loans[0], 100_000, "2018-03-01"), _repay(lender, loans[1], 200_000, "2018-03-01"),
        _repay(lender, loans[2], 300_000, "2018-03-01"), _repay(lender, loans[2], 50_000, "2018-04-01"),
    )
    assert await _kept(loans_session, county) == (4, 4, 3_350_000)
    assert await _differing(loans_session) == []
    await _repay(lender, loans[0], 900_000, "2018-06-01")  # in full: no longer owing
    assert await _kept(loans_session, county) == (4, 3, 2_450_000)
    await _repay(lender, loans[3], 0, "2018-06-01", interest=3_000)  # interest only: nothing owed moves
    extension = {"new_maturity_on": "2019-07-10", "reason": "受灾"}
    response = await lender.post(f"/loans/{loans[1]}/extensions", json=extension)
    assert response.status_code == 201, response.text
    assert await _kept(loans_session, county) == (4, 3, 2_450_000)
    assert await _differing(loans_session) == []
    # one statement over many balances (a bulk load, a repair by hand) moves them as one aggregate
    await loans_session.execute(
        update(Balance).where(col(Balance.county_code) == county).values(repaid_fen=col(Balance.amount_fen))
    )
    moved = (await loans_session.execute(
        select(func.sum(col(CountyTotal.owing_loans)), func.sum(col(CountyTotal.owed_fen)))
        .where(col(CountyTotal.county_code) == county)
    )).one()
    assert tuple(moved) == (0, 0)
    assert list((await loans_session.execute(repository.county_totals_differing())).all()) == []
    await loans_session.rollback()
    assert await _kept(loans_session, county) == (4, 3, 2_450_000)


async def test_a_drifted_totals_row_is_seen_by_the_check_and_the_doctor(
    lender: Api, seed: Seed, county: str, loans_session: AsyncSession, database: TestDatabase
) -> None:
    await loan_of(lender, seed)
    await loans_session.execute(
        update(CountyTotal).where(col(CountyTotal.county_code) == county).values(owed_fen=col(CountyTotal.owed_fen) + 1)
    )
    try:
        [row] = (await loans_session.execute(repository.county_totals_differing())).all()
        assert (row.county_code, row.kept_owed_fen, row.owed_fen) == (county, 3_000_001, 3_000_000)
        report = await repository.outstanding_by_county(loans_session, prefix=county, as_of=date.today())
        assert [r.outstanding_fen for r in report] == [3_000_001]  # the report reads the totals
    finally:
        await loans_session.rollback()
    assert await _differing(loans_session) == []
    conn = await asyncpg.connect(plain_url(database.url))
    try:
        assert await loan_totals_drift(conn) == 0
        drifted = conn.transaction()
        await drifted.start()
        await conn.execute("UPDATE loans.loan_county_totals SET loans = loans + 1 WHERE county_code = $1", county)
        assert await loan_totals_drift(conn) == 1
        await drifted.rollback()
        assert await loan_totals_drift(conn) == 0
    finally:
        await conn.close()


async def test_the_repair_sets_drifted_totals_to_their_balances_and_writes_nothing_else(
    lender: Api, seed: Seed, county: str, database: TestDatabase
) -> None:
    """`fundtrack repair-summaries` (deploy/doctor.py `repair_loan_totals`): a county's slot drifted, a slot of a
    county no balance has, and a county's slot missing are each set to the balances' figures; the other rows are
    not written; a second repair writes nothing."""
    await loan_of(lender, seed)
    conn = await asyncpg.connect(plain_url(database.url))
    try:
        assert await repair_loan_totals(conn) == 0
        async with conn.transaction():  # as a bypassed trigger would leave them: committed
            await conn.execute("SET LOCAL search_path = loans")
            slot = await conn.fetchval("SELECT slot FROM loan_county_totals WHERE county_code = $1 AND loans > 0 "
                                       "ORDER BY slot LIMIT 1", county)
            await conn.execute("UPDATE loan_county_totals SET owed_fen = owed_fen + 7 WHERE county_code = $1 "
                               "AND slot = $2", county, slot)
            await conn.execute("INSERT INTO loan_county_totals VALUES ('999999', 3, 2, 1, 500)")
        assert await loan_totals_drift(conn) == 2
        xmins = dict(await conn.fetch("SELECT (county_code, slot)::text, xmin::text FROM loans.loan_county_totals"))
        assert await repair_loan_totals(conn) == 2
        assert await loan_totals_drift(conn) == 0
        after = dict(await conn.fetch("SELECT (county_code, slot)::text, xmin::text FROM loans.loan_county_totals"))
        rewritten = {k for k in after if after[k] != xmins.get(k)}
        assert rewritten == {f"({county},{slot})", "(999999,3)"}
        assert await conn.fetchrow("SELECT loans, owing_loans, owed_fen FROM loans.loan_county_totals "
                                   "WHERE county_code = '999999'") == (0, 0, 0)
        async with conn.transaction():  # a county's slot gone: inserted again
            await conn.execute("DELETE FROM loans.loan_county_totals WHERE county_code = $1 AND slot = $2",
                               county, slot)
        assert await loan_totals_drift(conn) == 1
        assert await repair_loan_totals(conn) == 1
        assert await loan_totals_drift(conn) == 0
        assert await repair_loan_totals(conn) == 0
    finally:
        await conn.execute("DELETE FROM loans.loan_county_totals WHERE county_code = '999999'")  # the test's own
        await conn.close()


DAYS = ("2017-12-31", "2018-01-10", "2018-02-01", "2018-05-01", "2018-08-01", "2018-09-01", "2019-01-15",
        "2019-02-01", "2019-03-01")


async def test_the_report_equals_the_statement_over_every_balance_on_any_day(
    lender: Api, seed: Seed, county: str, loans_session: AsyncSession, inspector: Api
) -> None:
    """Loans issued on three days, repaid in part, in full and after others were issued: for each day (before any
    loan, on an issue day, between repayments, today) the report through the gateway and the repository's for the
    county and the province are the statement's over every balance; two days checked by hand too."""
    first = await loan_of(lender, seed, term_months=12, issued_on="2018-01-10", amount_fen=1_000_000)
    second = await loan_of(lender, seed, term_months=12, issued_on="2018-06-01", amount_fen=2_000_000)
    third = await loan_of(lender, seed, term_months=12, issued_on="2019-01-01", amount_fen=4_000_000)
    await loan_of(lender, seed, term_months=12, issued_on="2019-01-01", amount_fen=500_000)
    await _repay(lender, first, 300_000, "2018-03-01")
    await _repay(lender, first, 700_000, "2018-09-01")  # in full
    await _repay(lender, second, 500_000, "2019-02-01")
    await _repay(lender, third, 4_000_000, "2019-03-01")  # in full
    province = county[:2]

    def figures(rows: list[repository.Record]) -> list[tuple[str, int, int, int]]:
        return [(r.county_code, int(r.loans), int(r.outstanding_loans), int(r.outstanding_fen)) for r in rows]

    for day in (*DAYS, date.today().isoformat()):
        as_of = date.fromisoformat(day)
        expected = figures(await repository.outstanding_recomputed(loans_session, prefix=county, as_of=as_of))
        response = await lender.get("/loans/reports/outstanding", params={"county": county, "as_of": day})
        assert response.status_code == 200, response.text
        items = [(i["county_code"], i["loans"], i["outstanding_loans"], i["outstanding_fen"])
                 for i in response.json()["items"]]
        assert items == expected, day
        for prefix in (county, province):
            kept = await repository.outstanding_by_county(loans_session, prefix=prefix, as_of=as_of)
            recomputed = await repository.outstanding_recomputed(loans_session, prefix=prefix, as_of=as_of)
            assert figures(kept) == figures(recomputed), (day, prefix)
        await loans_session.rollback()
        if day == "2017-12-31":
            assert items == []  # no loan issued yet: the county is not listed
        if day == "2018-08-01":  # first: 700,000 owed; second: 2,000,000
            assert items == [(county, 2, 2, 2_700_000)]
        if day == "2019-02-01":  # first repaid; second 1,500,000; third 4,000,000; fourth 500,000
            assert items == [(county, 4, 3, 6_000_000)]
    today = (await inspector.get("/loans/reports/outstanding", params={"county": county})).json()["items"]
    assert today == [{"county_code": county, "loans": 4, "outstanding_loans": 2, "outstanding_fen": 2_000_000}]
