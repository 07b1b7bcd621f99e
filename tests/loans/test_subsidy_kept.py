"""L6a: the subsidy report keeps each county's figure of a closed calendar period (loan_county_subsidies, at the
county's version in loan_subsidy_versions) and answers from it while it is valid. Whatever was written, the answer
is the recomputation from the facts (`repository.subsidy_by_county`, which keeps nothing): a write of a day before
today moves the county's version (the kept figure is computed again), a write of today leaves it and the figure
(the day's repayments do not empty the cache); a back-dated write committed while a report computes or keeps cannot
leave a stale figure valid. An open period and a period not of whole months are never kept."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from deploy.drift import differences
from deploy.migrate import alembic_config
from services.kernel.db import plain_url
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.split_reads import SplitReaders
from services.loans import reads, repository, rules
from tests.conftest import Api, MakePrincipal
from tests.county_keys import as_the_version_before, upgrade_again
from tests.loans.conftest import Seed
from tests.loans.helpers import credit_code, loan_body
from tests.loans.test_servicing import new_loan, repay
from tests.platform import before_baseline

UNSPLIT = SplitReaders(None, 1)  # in-process reports in the test's session, one statement (as before the split)

RATE_BP = 475
Period = tuple[date, date]


async def _today(session: AsyncSession) -> date:
    """The database's date in China: what the triggers call today (not the test process's clock)."""
    today = await repository.database_today(session)
    await session.rollback()
    return today


def _closed_half_year(today: date) -> Period:
    """Six whole months ending on the first of the month of yesterday: closed a day before today at least."""
    to = (today - timedelta(days=1)).replace(day=1)
    return rules.add_months(to, -6), to


def _params(county: str, period: Period) -> dict[str, Any]:
    return {"county": county, "from": period[0].isoformat(), "to": period[1].isoformat(), "rate_bp": RATE_BP}


async def _report(finance: Api, county: str, period: Period) -> list[tuple[str, int, int]]:
    response = await finance.get("/loans/reports/subsidy", params=_params(county, period))
    assert response.status_code == 200, response.text
    return [(i["county_code"], i["loans"], i["subsidy_fen"]) for i in response.json()["items"]]


async def _recomputed(session: AsyncSession, county: str, period: Period) -> list[tuple[str, int, int]]:
    rows = await repository.subsidy_by_county(session, prefix=county, period_from=period[0], period_to=period[1],
                                              rate_bp=RATE_BP)
    await session.rollback()
    return rows


async def _kept(db: asyncpg.Pool, county: str, period: Period) -> tuple[int | None, Any]:
    """The county's version and its kept row of the period (loans, subsidy_fen, version, xmin), or None."""
    version = await db.fetchval("SELECT version FROM loans.loan_subsidy_versions WHERE county_code = $1", county)
    row = await db.fetchrow(
        "SELECT loans, subsidy_fen, version, xmin::text AS xmin FROM loans.loan_county_subsidies "
        "WHERE county_code = $1 AND period_from = $2 AND period_to = $3 AND rate_bp = $4", county, *period, RATE_BP)
    return version, row


async def _answer_is_recomputed_and_kept(finance: Api, session: AsyncSession, db: asyncpg.Pool, county: str,
                                         period: Period) -> list[tuple[str, int, int]]:
    """The report equals the recomputation; afterwards its figure is kept at the county's version."""
    answer = await _report(finance, county, period)
    assert answer == await _recomputed(session, county, period)
    version, row = await _kept(db, county, period)
    assert row is not None and row["version"] == version
    assert answer == [(county, row["loans"], row["subsidy_fen"])]
    return answer


async def test_the_kept_figure_is_the_recomputation_after_every_kind_of_write(
    lender: Api, seed: Seed, county: str, make_principal: MakePrincipal, loans_session: AsyncSession,
    db: asyncpg.Pool,
) -> None:
    today = await _today(loans_session)
    period = _closed_half_year(today)
    start = period[0]
    finance = await make_principal("finance", county)
    owing = (await new_loan(lender, seed, amount_fen=3_000_000, issued_on=(start - timedelta(days=60)).isoformat()))
    other = (await new_loan(lender, seed, amount_fen=2_000_000, issued_on=(start - timedelta(days=30)).isoformat()))
    # matured (and overdue) ten days into the period: it earns for ten days only until it is extended
    overdue = await new_loan(lender, seed, amount_fen=1_000_000, term_months=12,
                             issued_on=rules.add_months(start + timedelta(days=9), -12).isoformat())
    first = await _answer_is_recomputed_and_kept(finance, loans_session, db, county, period)
    version, row = await _kept(db, county, period)

    # today's writes: a repayment, a loan, a misuse report of today leave the version and the kept row alone
    assert (await repay(lender, owing["id"], 500_000, today.isoformat())).status_code == 201
    await new_loan(lender, seed, amount_fen=1_000_000, issued_on=today.isoformat())
    response = await lender.post(f"/loans/{other['id']}/usage-reports", json={
        "recipient": {"kind": "enterprise", "id": credit_code(), "name": "某公司"}, "amount_fen": 100_000,
        "purpose": "breeding", "reported_on": today.isoformat()})
    assert response.status_code == 201, response.text
    assert await _kept(db, county, period) == (version, row)
    assert await _report(finance, county, period) == first == await _recomputed(loans_session, county, period)
    assert await _kept(db, county, period) == (version, row)  # answered from it: not written again

    # each back-dated write moves the version; the next answer is computed again, and differs from the kept one
    maturity = date.fromisoformat(overdue["maturity_on"])
    household = await seed()
    writes: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("a repayment inside the period",
         lambda: repay(lender, owing["id"], 1_000_000, (start + timedelta(days=20)).isoformat())),
        ("a loan issued inside the period",
         lambda: lender.post("/loans", json=loan_body(household.household_id, household.head_id_number,
                                                      amount_fen=4_000_000,
                                                      issued_on=(start + timedelta(days=5)).isoformat()))),
        ("an extension of the overdue loan",
         lambda: lender.post(f"/loans/{overdue['id']}/extensions", json={
             "new_maturity_on": rules.add_months(maturity, 6).isoformat(), "reason": "受灾，申请展期"})),
        ("a misuse report inside the period",
         lambda: lender.post(f"/loans/{other['id']}/usage-reports", json={
             "recipient": {"kind": "enterprise", "id": credit_code(), "name": "某公司"}, "amount_fen": 100_000,
             "purpose": "breeding", "reported_on": (start + timedelta(days=40)).isoformat()})),
    ]
    before = first
    for what, write in writes:
        response = await write()
        assert response.status_code == 201, (what, response.text)
        moved, stale = await _kept(db, county, period)
        assert moved != version and stale is not None and stale["version"] == version, what
        answer = await _answer_is_recomputed_and_kept(finance, loans_session, db, county, period)
        assert answer != before, what  # the kept figure would have been wrong
        version, before = moved, answer


async def test_only_closed_calendar_periods_are_kept(
    lender: Api, seed: Seed, county: str, make_principal: MakePrincipal, loans_session: AsyncSession,
    db: asyncpg.Pool,
) -> None:
    today = await _today(loans_session)
    closed = _closed_half_year(today)
    finance = await make_principal("finance", county)
    await new_loan(lender, seed, amount_fen=3_000_000, issued_on=(closed[0] - timedelta(days=60)).isoformat())
    this_month = today.replace(day=1)
    never = {
        "open (ends after yesterday)": (this_month, rules.add_months(this_month, 1)),
        "not from a first of the month": (closed[0] + timedelta(days=1), closed[1]),
        "not to a first of the month": (closed[0], closed[1] - timedelta(days=1)),
        "longer than a year": (rules.add_months(closed[1], -13), closed[1]),
    }
    for what, period in never.items():
        answer = await _report(finance, county, period)
        assert answer == await _recomputed(loans_session, county, period), what
        assert answer and answer[0][2] > 0, what  # a figure that would have been kept
        assert (await _kept(db, county, period))[1] is None, what
    for period in (closed, (rules.add_months(closed[1], -12), closed[1])):  # a half-year and a year: kept
        answer = await _answer_is_recomputed_and_kept(finance, loans_session, db, county, period)
        assert answer[0][2] > 0


def test_which_periods_are_kept() -> None:
    today = date(2026, 12, 6)
    kept = [(date(2026, 6, 1), date(2026, 12, 1)), (date(2025, 12, 1), date(2026, 12, 1)),
            (date(2026, 11, 1), date(2026, 12, 1))]
    assert all(rules.subsidy_is_kept(f, t, today) for f, t in kept)
    assert rules.subsidy_is_kept(date(2026, 11, 1), date(2026, 12, 1), date(2026, 12, 2))  # closed a day before
    assert not rules.subsidy_is_kept(date(2026, 11, 1), date(2026, 12, 1), date(2026, 12, 1))  # closes today
    refused = [(date(2026, 6, 2), date(2026, 12, 1)), (date(2026, 6, 1), date(2026, 11, 30)),
               (date(2025, 11, 1), date(2026, 12, 1)), (date(2026, 12, 1), date(2026, 12, 1)),
               (date(2027, 1, 1), date(2026, 12, 1)), (date(2026, 12, 1), date(2027, 1, 1))]
    assert not any(rules.subsidy_is_kept(f, t, today) for f, t in refused)
    # starting ten years back at most: January 2017 is kept, December 2016 (before 2016-12-06) is not
    assert rules.subsidy_is_kept(date(2017, 1, 1), date(2017, 7, 1), today)
    assert not rules.subsidy_is_kept(date(2016, 12, 1), date(2017, 6, 1), today)


async def _back_dated_repayment_by_hand(conn: asyncpg.Connection, county: str, loan_id: str, principal: int,
                                        paid_on: date) -> None:
    """A repayment and its balance written as the service writes them, on a connection whose transaction the test
    holds open (a writer that has not committed yet)."""
    await conn.execute(
        "INSERT INTO loans.loan_repayments (id, loan_id, principal_fen, interest_fen, paid_on, created_by, "
        "county_code) VALUES ($1, $2, $3, 0, $4, 'test', $5)", new_id("rep"), loan_id, principal, paid_on, county)
    await conn.execute(
        "UPDATE loans.loan_balances SET repaid_fen = repaid_fen + $3, last_paid_on = greatest(last_paid_on, $4) "
        "WHERE county_code = $1 AND loan_id = $2", county, loan_id, principal, paid_on)


async def test_a_back_dated_write_committed_while_a_report_computes_leaves_no_stale_figure(
    lender: Api, seed: Seed, county: str, make_principal: MakePrincipal, loans_session: AsyncSession,
    db: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    today = await _today(loans_session)
    period = _closed_half_year(today)
    finance = await make_principal("finance", county)
    loan = await new_loan(lender, seed, amount_fen=3_000_000, issued_on=(period[0] - timedelta(days=60)).isoformat())
    await _answer_is_recomputed_and_kept(finance, loans_session, db, county, period)
    inside = period[0] + timedelta(days=10)

    # 1. A back-dated repayment commits after a report computed and before it keeps its figure: the figure is kept
    # at the version the computation read, not the one the repayment made, so the next report computes again.
    assert (await repay(lender, loan["id"], 100_000, inside.isoformat())).status_code == 201  # kept one stale
    keep = repository.keep_subsidies

    async def keep_after_a_write(session: AsyncSession, computed: Any, **period_and_rate: Any) -> None:
        assert (await repay(lender, loan["id"], 200_000, inside.isoformat())).status_code == 201
        await keep(session, computed, **period_and_rate)

    monkeypatch.setattr(repository, "keep_subsidies", keep_after_a_write)
    principal = Principal(id="test-finance", role="finance", region_code=county)
    report = await reads.subsidy_report(loans_session, principal, UNSPLIT, county=county, period_from=period[0],
                                        period_to=period[1], rate_bp=RATE_BP)
    await loans_session.commit()
    monkeypatch.undo()
    computed = [(i.county_code, i.loans, i.subsidy_fen) for i in report.items]
    version, row = await _kept(db, county, period)
    assert row is not None and (row["loans"], row["subsidy_fen"]) == computed[0][1:] and row["version"] != version
    after = await _answer_is_recomputed_and_kept(finance, loans_session, db, county, period)
    assert after != computed

    # 2. A writer that has not committed when a report computes and keeps: the report does not see it, and once it
    # commits the kept figure is no longer valid.
    assert (await repay(lender, loan["id"], 100_000, inside.isoformat())).status_code == 201  # kept one stale
    async with db.acquire() as conn:
        writer = conn.transaction()
        await writer.start()
        await _back_dated_repayment_by_hand(conn, county, loan["id"], 300_000, inside)
        unseen = await _report(finance, county, period)  # computed and kept without the writer's repayment
        _, row = await _kept(db, county, period)
        assert row is not None and [(county, row["loans"], row["subsidy_fen"])] == unseen
        await writer.commit()
    assert await _answer_is_recomputed_and_kept(finance, loans_session, db, county, period) != unseen


async def test_a_write_by_hand_moves_the_version_only_when_it_changes_a_day_before_today(
    lender: Api, seed: Seed, county: str, loans_session: AsyncSession, db: asyncpg.Pool,
) -> None:
    """The triggers judge every writer's statements, a repair by hand's too (each tried in a transaction rolled
    back): what changes a closed period moves the county's version, what only changes today and later does not."""
    today = await _today(loans_session)
    loan = await new_loan(lender, seed, amount_fen=3_000_000, issued_on=(today - timedelta(days=100)).isoformat())
    loan_id, maturity = loan["id"], date.fromisoformat(loan["maturity_on"])
    # some principal repaid before today, so that a repair by hand may lower it
    assert (await repay(lender, loan_id, 1_000, (today - timedelta(days=50)).isoformat())).status_code == 201
    balance = "UPDATE loans.loan_balances SET {} WHERE county_code = $1 AND loan_id = $2"
    repayment = ("INSERT INTO loans.loan_repayments (id, loan_id, principal_fen, interest_fen, paid_on, created_by, "
                 "county_code) VALUES ($3, $2, 100, 0, $4, 'test', $1)")
    interest_only = repayment.replace("$2, 100, 0,", "$2, 0, 100,")
    cases: list[tuple[str, bool, list[tuple[str, tuple[Any, ...]]]]] = [
        ("a repayment of today with its balance", False, [
            (repayment, (new_id("rep"), today)),
            (balance.format("repaid_fen = repaid_fen + 100, last_paid_on = $3"), (today,))]),
        ("a repayment of yesterday with its balance", True, [
            (repayment, (new_id("rep"), today - timedelta(days=1))),
            (balance.format("repaid_fen = repaid_fen + 100, last_paid_on = $3"), (today - timedelta(days=1),))]),
        ("a repayment of yesterday alone (its balance not written yet)", True, [
            (repayment, (new_id("rep"), today - timedelta(days=1)))]),
        ("a repayment of today alone", False, [(repayment, (new_id("rep"), today))]),
        ("a balance's repaid principal moved with no repayment", True, [
            (balance.format("repaid_fen = repaid_fen + 100"), ())]),
        ("more principal than today's repayments", True, [
            (repayment, (new_id("rep"), today)),
            (balance.format("repaid_fen = repaid_fen + 200, last_paid_on = $3"), (today,))]),
        ("a later maturity of a loan not yet due", False, [
            (balance.format("maturity_in_force = $3, extended = true"), (rules.add_months(maturity, 6),))]),
        ("a maturity moved before today", True, [
            (balance.format("maturity_in_force = $3"), (today - timedelta(days=10),))]),
        ("a balance's last repayment day moved back", True, [
            (balance.format("last_paid_on = $3"), (today - timedelta(days=3),))]),
        ("the county totals written by hand", True, [
            ("UPDATE loans.loan_county_totals SET loans = loans WHERE county_code = $1 AND $2 <> ''", ())]),
        ("a balance deleted", True, [("DELETE FROM loans.loan_balances WHERE county_code = $1 AND loan_id = $2", ())]),
        ("a repaid principal lowered on a day of an interest-only repayment", True, [
            (interest_only, (new_id("rep"), today)),
            (balance.format("repaid_fen = repaid_fen - 100, last_paid_on = $3"), (today,))]),
        ("a repayment of today counted twice in its balance", True, [
            (repayment, (new_id("rep"), today)),
            (balance.format("repaid_fen = repaid_fen + 100, last_paid_on = $3"), (today,)),
            (balance.format("repaid_fen = repaid_fen + 100"), ())]),
    ]
    for what, moves, statements in cases:
        async with db.acquire() as conn:
            writer = conn.transaction()
            await writer.start()
            try:
                before = await conn.fetchval(
                    "SELECT version FROM loans.loan_subsidy_versions WHERE county_code = $1", county)
                for statement, arguments in statements:
                    await conn.execute(statement, county, loan_id, *arguments)
                after = await conn.fetchval(
                    "SELECT version FROM loans.loan_subsidy_versions WHERE county_code = $1", county)
            finally:
                await writer.rollback()
        assert (after != before) is moves, what


async def test_a_failure_to_keep_the_figure_does_not_fail_the_answer(
    lender: Api, seed: Seed, county: str, loans_session: AsyncSession, db: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    today = await _today(loans_session)
    period = _closed_half_year(today)
    await new_loan(lender, seed, amount_fen=3_000_000, issued_on=(period[0] - timedelta(days=60)).isoformat())
    expected = await _recomputed(loans_session, county, period)

    async def keep_and_fail(session: AsyncSession, computed: Any, **period_and_rate: Any) -> None:
        await session.execute(text("SELECT 1 / 0"))

    monkeypatch.setattr(repository, "keep_subsidies", keep_and_fail)
    principal = Principal(id="test-finance", role="finance", region_code=county)
    report = await reads.subsidy_report(loans_session, principal, UNSPLIT, county=county, period_from=period[0],
                                        period_to=period[1], rate_bp=RATE_BP)
    assert [(i.county_code, i.loans, i.subsidy_fen) for i in report.items] == expected
    assert (await loans_session.execute(text("SELECT 2"))).scalar_one() == 2  # the transaction goes on
    await loans_session.commit()
    assert (await _kept(db, county, period))[1] is None


async def test_a_county_without_a_version_gets_one_from_its_first_report_and_is_kept_from_the_next(
    lender: Api, seed: Seed, county: str, make_principal: MakePrincipal, loans_session: AsyncSession,
    db: asyncpg.Pool,
) -> None:
    """A county whose loans were all issued today moved no version (nothing closed changed): its first report of a
    closed period computes it and gives it a version, keeping nothing (a figure is kept only at a version read with
    it); with no loan before the period's end there is nothing to keep (computed each time: nothing to read). A
    county with loans but no version (its version row gone, as for a county loans_0016 did not know) is kept from
    its second report."""
    today = await _today(loans_session)
    period = _closed_half_year(today)
    finance = await make_principal("finance", county)
    await new_loan(lender, seed, amount_fen=3_000_000, issued_on=today.isoformat())
    assert await _kept(db, county, period) == (None, None)
    assert await _report(finance, county, period) == [] == await _recomputed(loans_session, county, period)
    version, row = await _kept(db, county, period)
    assert version is not None and row is None
    assert await _report(finance, county, period) == []
    assert await _kept(db, county, period) == (version, None)  # no loan before `to`: nothing kept

    await new_loan(lender, seed, amount_fen=2_000_000, issued_on=(period[0] - timedelta(days=30)).isoformat())
    await db.execute("DELETE FROM loans.loan_subsidy_versions WHERE county_code = $1", county)
    first = await _report(finance, county, period)
    assert first == await _recomputed(loans_session, county, period) and first[0][1] == 1
    version, row = await _kept(db, county, period)
    assert version is not None and row is None
    assert await _answer_is_recomputed_and_kept(finance, loans_session, db, county, period) == first


async def test_the_kept_figures_are_bounded_whatever_readers_ask(
    lender: Api, seed: Seed, county: str, make_principal: MakePrincipal, loans_session: AsyncSession,
    db: asyncpg.Pool,
) -> None:
    """L6a: at most rules.KEPT_RATES rates of a county's period are kept (a reader asking every rate fills nothing
    more), and no period older than rules.KEPT_YEARS_BACK years; every answer is still the recomputation."""
    today = await _today(loans_session)
    period = _closed_half_year(today)
    finance = await make_principal("finance", county)
    await new_loan(lender, seed, amount_fen=3_000_000, issued_on=(period[0] - timedelta(days=60)).isoformat())
    rates = [RATE_BP + n for n in range(rules.KEPT_RATES + 2)]
    for rate in rates:
        params = {**_params(county, period), "rate_bp": rate}
        response = await finance.get("/loans/reports/subsidy", params=params)
        assert response.status_code == 200, response.text
        expected = await repository.subsidy_by_county(loans_session, prefix=county, period_from=period[0],
                                                      period_to=period[1], rate_bp=rate)
        await loans_session.rollback()
        assert [(i["county_code"], i["loans"], i["subsidy_fen"]) for i in response.json()["items"]] == expected
    kept = [r["rate_bp"] for r in await db.fetch(
        "SELECT rate_bp FROM loans.loan_county_subsidies WHERE county_code = $1 AND period_from = $2 "
        "AND period_to = $3 ORDER BY rate_bp", county, *period)]
    assert kept == rates[:rules.KEPT_RATES]
    # a rate kept already is kept again at its new version (it is one of the four)
    assert (await repay(lender, (await new_loan(lender, seed, amount_fen=1_000_000, issued_on=(
        period[0] - timedelta(days=10)).isoformat()))["id"], 100_000, (period[0] + timedelta(days=3)).isoformat())
            ).status_code == 201
    await _answer_is_recomputed_and_kept(finance, loans_session, db, county, period)




# ----------------------------------------------------------------------------------------- the migration, on data

VERSION_OF = "SELECT version FROM loan_subsidy_versions WHERE county_code = '430523'"


async def test_loans_0016_lets_a_service_of_the_version_before_write_what_moves_a_version(scratch: str) -> None:
    """The triggers run as the role that writes the facts: a loans service of the version before, still running
    while `fundtrack migrate` goes on with the other schemas, writes as its own role, which has no right on the new
    tables until migrate's end. The revision gives them at once: its back-dated write (here the county totals by
    hand, whose trigger moves the version) is recorded, not refused. Run again, the revision replaces its triggers."""
    url = plain_url(scratch)
    conn, writer = [await asyncpg.connect(url) for _ in range(2)]
    exits = contextlib.AsyncExitStack()
    try:
        await before_baseline.restore_at(conn, scratch, "loans", "loans_0015_nonce_claims")
        await conn.execute("INSERT INTO loan_county_totals (county_code, slot, loans, owing_loans, owed_fen) "
                           "VALUES ('430523', 0, 1, 1, 3000000)")
        await writer.execute("SET search_path = loans")
        await exits.enter_async_context(as_the_version_before(conn, writer, url, "loans", "SELECT, INSERT, UPDATE"))
        await asyncio.to_thread(command.upgrade, alembic_config("loans", scratch), "heads")
        given = await conn.fetchval(VERSION_OF)
        assert given is not None  # every county the totals know has its version
        assert await writer.execute("UPDATE loan_county_totals SET loans = loans WHERE county_code = '430523'") == (
            "UPDATE 1")
        assert await conn.fetchval(VERSION_OF) != given
        await upgrade_again(scratch, "loans", "loans_0015_nonce_claims")
        moved = await conn.fetchval(VERSION_OF)
        await writer.execute("UPDATE loan_county_totals SET loans = loans WHERE county_code = '430523'")
        assert await conn.fetchval(VERSION_OF) != moved  # the triggers replaced, still there
    finally:
        await exits.aclose()
        for c in (conn, writer):
            await c.close()
    assert await asyncio.to_thread(differences, scratch, ("loans",)) == []
