"""Issue #15: a loan and what is recorded of it are keyed by the loan's county code (deploy/SCALING.md), so that on
Citus they are on one shard. The service writes each repayment, extension, usage report and balance with its loan's
county; the database refuses one that names another county than its loan's (the composite foreign keys); and
loans_0014 gives a database in use these keys, filling the county of the rows recorded before from their loan."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from deploy.drift import differences
from deploy.migrate import alembic_config
from services.kernel.db import plain_url
from tests.conftest import Api
from tests.county_keys import filling_leftovers, head, primary_keys, upgrade_again
from tests.loans.conftest import Seed, loan_of
from tests.platform import before_baseline

CHILDREN = ("loan_repayments", "loan_extensions", "loan_usage_reports", "loan_balances")


async def _counties_of(session: AsyncSession, loan_id: str) -> dict[str, set[str]]:
    union = " UNION ALL ".join(f"SELECT '{t}', county_code FROM {t} WHERE loan_id = :loan" for t in CHILDREN)
    rows = await session.execute(text(union), {"loan": loan_id})
    found: dict[str, set[str]] = {}
    for table, county_code in rows:
        found.setdefault(table, set()).add(county_code)
    await session.rollback()
    return found


async def test_the_service_writes_each_row_of_a_loan_with_the_loans_county(
    lender: Api, seed: Seed, county: str, loans_session: AsyncSession
) -> None:
    loan = await loan_of(lender, seed, term_months=12, issued_on="2018-01-10")
    repaid = await lender.post(f"/loans/{loan}/repayments",
                               json={"principal_fen": 100_000, "interest_fen": 0, "paid_on": "2018-03-01"})
    extended = await lender.post(f"/loans/{loan}/extensions", json={"new_maturity_on": "2019-07-10", "reason": "受灾"})
    household = (await lender.get(f"/loans/{loan}")).json()["household_id"]
    used = await lender.post(f"/loans/{loan}/usage-reports", json={
        "recipient": {"kind": "household", "id": household, "name": "本户"}, "amount_fen": 100, "purpose": "breeding",
        "reported_on": "2018-04-01"})
    assert [r.status_code for r in (repaid, extended, used)] == [201, 201, 201], (repaid.text, used.text)
    assert await _counties_of(loans_session, loan) == {table: {county} for table in CHILDREN}
    detail = (await lender.get(f"/loans/{loan}")).json()  # read back through the county's keys
    assert (len(detail["repayments"]), detail["extension"]["new_maturity_on"], len(detail["usage_reports"])) == (
        1, "2019-07-10", 1)


ROWS = {  # a row of each table of a loan's, but for its county and its loan
    "loan_repayments": "INSERT INTO loan_repayments (id, loan_id, county_code, principal_fen, interest_fen, paid_on, "
                       "created_by) VALUES (:id, :loan, :county, 0, 1, '2018-05-01', 'test')",
    "loan_extensions": "INSERT INTO loan_extensions (id, loan_id, county_code, original_maturity_on, new_maturity_on, "
                       "reason, created_by) VALUES (:id, :loan, :county, '2021-03-01', '2021-09-01', 'x', 'test')",
    "loan_usage_reports": "INSERT INTO loan_usage_reports (id, loan_id, county_code, recipient_kind, recipient_id, "
                          "recipient_name, amount_fen, purpose, reported_on, breaks_enterprise_rule, "
                          "breaks_purpose_rule, created_by) VALUES (:id, :loan, :county, 'household', 'h', 'h', 1, "
                          "'breeding', '2018-05-01', false, false, 'test')",
}


@pytest.mark.parametrize("table", sorted(ROWS))
async def test_a_row_naming_another_county_than_its_loans_is_refused(
    table: str, lender: Api, seed: Seed, county: str, loans_session: AsyncSession
) -> None:
    loan = await loan_of(lender, seed)
    other = "449901" if county != "449901" else "449902"
    try:
        async with loans_session.begin_nested():  # the loan's own county: taken
            await loans_session.execute(text(ROWS[table]), {"id": f"t_{uuid.uuid4().hex}", "loan": loan,
                                                            "county": county})
        with pytest.raises(IntegrityError, match=r"fk_\w+_loan"):
            async with loans_session.begin_nested():
                await loans_session.execute(text(ROWS[table]), {"id": f"t_{uuid.uuid4().hex}", "loan": loan,
                                                                "county": other})
    finally:
        await loans_session.rollback()


async def test_a_balance_naming_another_county_than_its_loans_is_refused(
    lender: Api, seed: Seed, county: str, loans_session: AsyncSession
) -> None:
    loan = await loan_of(lender, seed)
    try:
        with pytest.raises(IntegrityError, match="fk_balances_loan"):
            await loans_session.execute(text("UPDATE loan_balances SET county_code = '449903' WHERE loan_id = :loan"),
                                        {"loan": loan})
    finally:
        await loans_session.rollback()


# ----------------------------------------------------------------------------------------- the migration, on data

LOANS, REPAYMENTS_EACH = 1_000, 12  # 12,000 repayments: three batches of loans_0014's 5,000
FILL_0013 = [
    """
    INSERT INTO loans (id, household_id, county_code, village_code, borrower_id_number, borrower_name, lender_name,
                       product_name, amount_fen, term_months, annual_rate_bp, benchmark_rate_bp, fees_fen,
                       collateral_required, guarantee_required, mode, purpose, account_no, issued_on, maturity_on,
                       created_by)
    SELECT 'loan_' || lpad(i::text, 8, '0'), 'H' || i, CASE WHEN i % 3 = 0 THEN '430523' ELSE '430524' END, '430523101',
           '430523198001011234', '户主', '县农商银行', '扶贫小额信贷', 4500000, 36, 475, 475, 0, false, false, 'self',
           'breeding', '6217', date '2018-01-01' + i % 300, date '2021-01-01' + i % 300, 'test'
    FROM generate_series(1, {loans}) AS i
    """,
    """
    INSERT INTO loan_repayments (id, loan_id, principal_fen, interest_fen, paid_on, created_by)
    SELECT 'rep_' || lpad(i::text, 8, '0') || lpad(k::text, 2, '0'), 'loan_' || lpad(i::text, 8, '0'), 10000, 500,
           date '2018-12-01' + k, 'test'
    FROM generate_series(1, {loans}) AS i, generate_series(1, {each}) AS k
    """,
    """
    INSERT INTO loan_extensions (id, loan_id, original_maturity_on, new_maturity_on, reason, created_by)
    SELECT 'ext_' || lpad(i::text, 8, '0'), 'loan_' || lpad(i::text, 8, '0'), date '2021-01-01' + i % 300,
           date '2021-07-01' + i % 300, '受灾', 'test'
    FROM generate_series(1, {loans}, 10) AS i
    """,
    """
    INSERT INTO loan_usage_reports (id, loan_id, recipient_kind, recipient_id, recipient_name, amount_fen, purpose,
                                    reported_on, breaks_enterprise_rule, breaks_purpose_rule, created_by)
    SELECT 'use_' || lpad(i::text, 8, '0'), 'loan_' || lpad(i::text, 8, '0'), 'household', 'H' || i, '本户', 100,
           'breeding', date '2018-06-01', false, false, 'test'
    FROM generate_series(1, {loans}, 5) AS i
    """,
    """
    INSERT INTO loan_balances (loan_id, county_code, household_id, amount_fen, issued_on, maturity_in_force, extended,
                               repaid_fen, last_paid_on)
    SELECT l.id, l.county_code, l.household_id, l.amount_fen, l.issued_on, coalesce(e.new_maturity_on, l.maturity_on),
           e.loan_id IS NOT NULL, coalesce(r.repaid, 0), r.last_paid_on
    FROM loans l LEFT JOIN loan_extensions e ON e.loan_id = l.id
    LEFT JOIN (SELECT loan_id, sum(principal_fen) AS repaid, max(paid_on) AS last_paid_on FROM loan_repayments
               GROUP BY loan_id) r ON r.loan_id = l.id
    """,
]
TOTALS = "SELECT county_code, sum(loans), sum(owing_loans), sum(owed_fen) FROM loan_county_totals GROUP BY 1 ORDER BY 1"
RECOMPUTED = ("SELECT county_code, count(*), count(*) FILTER (WHERE repaid_fen < amount_fen), "
              "sum(amount_fen - repaid_fen) FROM loan_balances GROUP BY 1 ORDER BY 1")


async def test_loans_0014_keys_a_database_with_data_by_county_and_fills_the_county_from_the_loan(scratch: str) -> None:
    conn = await asyncpg.connect(plain_url(scratch))
    try:
        await before_baseline.restore_at(conn, scratch, "loans", "loans_0013_county_totals")
        await before_baseline.fill(conn, FILL_0013, {"loans": LOANS, "each": REPAYMENTS_EACH})
        totals = await conn.fetch(TOTALS)

        await asyncio.to_thread(command.upgrade, alembic_config("loans", scratch), "heads")

        assert await conn.fetchval("SELECT version_num FROM alembic_version") == head("loans", scratch)
        for table, rows in (("loan_repayments", LOANS * REPAYMENTS_EACH), ("loan_extensions", LOANS // 10),
                            ("loan_usage_reports", LOANS // 5)):
            assert await conn.fetchval(
                f"SELECT count(*) FROM {table} t JOIN loans l ON l.county_code = t.county_code AND l.id = t.loan_id"
            ) == rows, table
        assert await primary_keys(conn, "loans", ["loans", *CHILDREN]) == {
            "loans": ["county_code", "id"], "loan_repayments": ["county_code", "id"],
            "loan_extensions": ["county_code", "id"], "loan_usage_reports": ["county_code", "id"],
            "loan_balances": ["county_code", "loan_id"]}
        assert await conn.fetch("SELECT conname FROM pg_constraint WHERE connamespace = 'loans'::regnamespace "
                                "AND NOT convalidated") == []
        # nothing of the upgrade's own is left, and the append-only guards are on again
        assert await filling_leftovers(conn) == []
        assert await conn.fetch("SELECT tgname FROM pg_trigger WHERE tgname LIKE '%append_only' "
                                "AND tgrelid = ANY($1::regclass[]) AND tgenabled <> 'O'",
                                [f"loans.{t}" for t in CHILDREN[:3]]) == []
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE loan_repayments SET interest_fen = 0 WHERE id = 'rep_0000000101'")
        # the county totals were not touched, and the trigger keeps them on the new keys
        assert await conn.fetch(TOTALS) == totals
        await conn.execute("UPDATE loan_balances SET repaid_fen = amount_fen WHERE county_code = '430523'")
        assert await conn.fetch(TOTALS) == await conn.fetch(RECOMPUTED)
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="fk_repayments_loan"):
            await conn.execute("INSERT INTO loan_repayments (id, loan_id, county_code, principal_fen, interest_fen, "
                               "paid_on, created_by) VALUES ('rep_x', 'loan_00000001', '430523', 0, 0, '2019-01-01', "
                               "'test')")  # loan 1 is 430524's
        # run again, as after a failure part way: each step finds what the first run did
        await upgrade_again(scratch, "loans", "loans_0013_county_totals")
        assert await conn.fetchval("SELECT count(*) FROM loan_repayments WHERE county_code IS NULL") == 0
    finally:
        await conn.close()
    assert await asyncio.to_thread(differences, scratch, ("loans",)) == []
