"""Benchmark (issue #15): loans_0014, the loans keyed by county, on a database in use at a province's size
(800,000 loans in two counties' worth of codes, 3,200,000 repayments, 8,000 extensions, 80,000 usage reports;
`--scale` shrinks every count).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.loans_county_keys [--scale 1]

Makes a throwaway database (on DATABASE_URL's server, else on an embedded one of its own), builds the loans schema as it
was before the revision (the schemas of before the baselines, then the loans' revisions up to loans_0013), fills it on
the server (INSERT … SELECT from generate_series), then runs `alembic upgrade` of the loans schema to its head while a
writer of the version before (it does not know the column) records a repayment every 20 ms. Prints JSON: the upgrade's
seconds, the writer's repayments recorded during it with their p50 / p99 / longest time (the longest is what the
revision's locks held a writer off), its failures (none expected), and that every row ends with its loan's county.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from functools import partial
from typing import Any

from bench.upgrade_under_writes import OldWriter, row_counts, scratch_database, seconds_to_fill, upgrade_while_writing
from tests.platform import before_baseline

LOANS, REPAYMENTS_EACH = 800_000, 4
FILL = [
    """
    INSERT INTO loans (id, household_id, county_code, village_code, borrower_id_number, borrower_name, lender_name,
                       product_name, amount_fen, term_months, annual_rate_bp, benchmark_rate_bp, fees_fen,
                       collateral_required, guarantee_required, mode, purpose, account_no, issued_on, maturity_on,
                       created_by)
    SELECT 'loan_' || lpad(i::text, 8, '0'), 'H' || i, '4305' || lpad((1 + i % 120 % 99)::text, 2, '0'),
           '430523101', '430523198001011234', '户主', '县农商银行', '扶贫小额信贷', 4000000, 36, 475, 475, 0, false,
           false, 'self', 'breeding', '6217', date '2018-01-01' + i % 1000, date '2021-01-01' + i % 1000, 'bench'
    FROM generate_series(1, {loans}) AS i
    """,
    """
    INSERT INTO loan_repayments (id, loan_id, principal_fen, interest_fen, paid_on, created_by)
    SELECT 'rep_' || lpad(i::text, 8, '0') || k, 'loan_' || lpad(i::text, 8, '0'), 500000, 5000,
           date '2018-06-01' + i % 1000 + 90 * k, 'bench'
    FROM generate_series(1, {loans}) AS i, generate_series(1, {each}) AS k
    """,
    """
    INSERT INTO loan_extensions (id, loan_id, original_maturity_on, new_maturity_on, reason, created_by)
    SELECT 'ext_' || lpad(i::text, 8, '0'), 'loan_' || lpad(i::text, 8, '0'), date '2021-01-01' + i % 1000,
           date '2021-07-01' + i % 1000, '受灾', 'bench'
    FROM generate_series(1, {loans}, 100) AS i
    """,
    """
    INSERT INTO loan_usage_reports (id, loan_id, recipient_kind, recipient_id, recipient_name, amount_fen, purpose,
                                    reported_on, breaks_enterprise_rule, breaks_purpose_rule, created_by)
    SELECT 'use_' || lpad(i::text, 8, '0'), 'loan_' || lpad(i::text, 8, '0'), 'household', 'H' || i, '本户', 100,
           'breeding', date '2018-06-01', false, false, 'bench'
    FROM generate_series(1, {loans}, 10) AS i
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
OLD_WRITER = ("INSERT INTO loans.loan_repayments (id, loan_id, principal_fen, interest_fen, paid_on, created_by) "
              "VALUES ($1, $2, 0, 100, '2022-01-01', 'writer')")


async def _repay(loans: int, writer: OldWriter, n: int) -> None:
    """A service of the version before: a repayment of one of the `loans`, without the county code."""
    await writer.attempt(writer.conn.execute(OLD_WRITER, f"rep_w{n:09d}", f"loan_{1 + (n * 7919) % loans:08d}"))


async def run(scale: float) -> dict[str, Any]:
    loans = int(LOANS * scale)
    async with scratch_database("bench_loankeys") as (url, conn):
        await before_baseline.restore_at(conn, url, "loans", "loans_0013_county_totals")
        await conn.execute("SET synchronous_commit = off; SET work_mem = '64MB'")
        built = {"build_s": await seconds_to_fill(conn, FILL, {"loans": loans, "each": REPAYMENTS_EACH})}
        counts = await row_counts(conn, ("loans", "loan_repayments"))
        upgrade = await upgrade_while_writing(url, "loans", "heads", partial(_repay, loans), every=0.02)
        wrong = {t: await conn.fetchval(
            f"SELECT count(*) FROM loans.{t} c LEFT JOIN loans.loans l ON l.county_code = c.county_code "
            "AND l.id = c.loan_id WHERE l.id IS NULL") for t in ("loan_repayments", "loan_extensions",
                                                                 "loan_usage_reports", "loan_balances")}
    failures = upgrade.failures()
    # once the revision's filling trigger is gone (its last steps) the version before cannot write any more: the
    # first failures, with their seconds from the upgrade's end (negative: before it)
    written = {**upgrade.writer.times_summary(), "failures": len(failures), "first_failures": failures[:2]}
    return {**counts, **built, "upgrade_s": upgrade.seconds, "writer_during_upgrade": written,
            "rows_not_of_their_loans_county": wrong}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.scale)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
