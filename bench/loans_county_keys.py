"""Benchmark (issue #15): loans_0014, the loans keyed by county, on a database in use at a province's size
(800,000 loans in two counties' worth of codes, 3,200,000 repayments, 8,000 extensions, 80,000 usage reports;
`--scale` shrinks every count).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.loans_county_keys [--scale 1]

Makes a throwaway database, builds the loans schema as it was before the revision (the schemas of before the
baselines, then the loans' revisions up to loans_0013), fills it on the server (INSERT … SELECT from
generate_series), then runs `alembic upgrade` of the loans schema to its head while a writer of the version before
(it does not know the column) records a repayment every 20 ms. Prints JSON: the upgrade's seconds, the writer's
repayments recorded during it with their p50 / p99 / longest time (the longest is what the revision's locks held a
writer off), its failures (none expected), and that every row ends with its loan's county.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from typing import Any

import asyncpg
from alembic import command

from deploy.migrate import alembic_config
from services.kernel.db import plain_url
from tests.platform import before_baseline
from tests.stack import _with_database

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


async def build(url: str, loans: int) -> dict[str, Any]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        await before_baseline.restore(conn)
        await asyncio.to_thread(command.upgrade, alembic_config("loans", url), "loans_0013_county_totals")
        started = time.perf_counter()
        await conn.execute("SET search_path = loans; SET synchronous_commit = off; SET work_mem = '64MB'")
        for statement in FILL:
            await conn.execute(statement.format(loans=loans, each=REPAYMENTS_EACH))
        for table in ("loans", "loan_repayments", "loan_extensions", "loan_usage_reports", "loan_balances"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        counts = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in ("loans", "loan_repayments")}
        return {**counts, "build_s": round(time.perf_counter() - started, 1)}
    finally:
        await conn.close()


async def writer(url: str, loans: int, done: asyncio.Event) -> tuple[list[float], list[tuple[float, str]]]:
    """A service of the version before: a repayment every 20 ms, without the county code, until `done`; the time
    each took, and each failure with when it began (perf_counter)."""
    conn = await asyncpg.connect(plain_url(url))
    times: list[float] = []
    failures: list[tuple[float, str]] = []
    try:
        n = 0
        while not done.is_set():
            n += 1
            started = time.perf_counter()
            try:
                await conn.execute(OLD_WRITER, f"rep_w{n:09d}", f"loan_{1 + (n * 7919) % loans:08d}")
                times.append(time.perf_counter() - started)
            except asyncpg.PostgresError as error:
                failures.append((started, str(error).splitlines()[0]))
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    return times, failures


def _writes(times: list[float]) -> dict[str, Any]:
    ordered = sorted(times) or [0.0]
    return {"recorded": len(times), "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 1),
            "longest_ms": round(ordered[-1] * 1000, 1), "over_500_ms": sum(t > 0.5 for t in times)}


async def upgrade(url: str, loans: int) -> dict[str, Any]:
    done = asyncio.Event()
    writing = asyncio.create_task(writer(url, loans, done))
    await asyncio.sleep(1)
    started = time.perf_counter()
    await asyncio.to_thread(command.upgrade, alembic_config("loans", url), "heads")
    ended = time.perf_counter()
    done.set()
    times, failures = await writing
    # once the revision's filling trigger is gone (its last steps) the version before cannot write any more: the
    # first failures, with their seconds from the upgrade's end (negative: before it)
    written = {**_writes(times), "failures": len(failures),
               "first_failures": [(round(at - ended, 2), f) for at, f in failures[:2]]}
    conn = await asyncpg.connect(plain_url(url))
    try:
        wrong = {t: await conn.fetchval(
            f"SELECT count(*) FROM loans.{t} c LEFT JOIN loans.loans l ON l.county_code = c.county_code "
            "AND l.id = c.loan_id WHERE l.id IS NULL") for t in ("loan_repayments", "loan_extensions",
                                                                 "loan_usage_reports", "loan_balances")}
    finally:
        await conn.close()
    return {"upgrade_s": round(ended - started, 1), "writer_during_upgrade": written,
            "rows_not_of_their_loans_county": wrong}


async def run(admin_url: str, scale: float) -> dict[str, Any]:
    name = f"bench_loankeys_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain_url(admin_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = _with_database(admin_url, name)
    try:
        loans = int(LOANS * scale)
        return {**await build(url, loans), **await upgrade(url, loans)}
    finally:
        admin = await asyncpg.connect(plain_url(admin_url))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(os.environ["DATABASE_URL"], args.scale)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
