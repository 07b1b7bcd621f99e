"""Benchmark (issue #20, L6a): the province's subsidy report of a closed half-year through the gateway, with the
per-county figures kept (loan_county_subsidies) on a database bench/province_loans.py built and kept.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.province_loans \\
        --scale 1 --keep --database bench_<you> --build-only
    .venv/bin/python -m bench.subsidy_kept --reuse postgresql://postgres@127.0.0.1:5432/bench_<you>

Migrates the database to the head, starts the whole system on it (tests/stack.py) and times GET
/loans/reports/subsidy for the province (finance of 430000): `--cold` requests of the half-year less its first day
(not a calendar period: computed every time, split by county across the loans worker's split readers), checked
against and timed beside the same figures in one statement in process (`subsidy_by_county`, the raw baseline), then
with no figure kept, `--cold` requests each computing
every county (the kept figures deleted before each: derived, so they may be), then `--repeat` requests answered from
the kept figures, then one back-dated repayment through the gateway in one county (a day inside the period) and the
request after it (that county alone computed again), then `--repeat` more. The last answer is checked against the
recomputation from the facts (`repository.subsidy_by_county`, in-process). With `--repayment-cost N`, it also times
N repayments of today written as the service writes them (the repayment, then its balance), each its own
transaction, with the subsidy version triggers on the two tables enabled, then disabled, twice (on the benchmark's own
database only: it disables triggers while it runs), and checks that no version moved. Prints JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx

from bench.province_loans import COUNTIES
from bench.through_gateway import issue_key, kept_database, stack_on
from deploy.migrate import migrate
from services.kernel.db import create_engine, plain_url, session_factory
from services.loans import repository

PERIOD = (date(2026, 1, 1), date(2026, 7, 1))  # a closed half-year of the data (bench/province_loans.py TODAY)
RATE_BP = 475
PATH = f"/loans/reports/subsidy?from={PERIOD[0]}&to={PERIOD[1]}&rate_bp={RATE_BP}"
# a day shorter, so not a calendar period: computed every time, as every period was before L6a (the baseline)
UNKEPT = (PERIOD[0] + timedelta(days=1), PERIOD[1])
UNKEPT_PATH = f"/loans/reports/subsidy?from={UNKEPT[0]}&to={UNKEPT[1]}&rate_bp={RATE_BP}"


def _figures(ms: list[float]) -> dict[str, Any]:
    ordered = sorted(ms)
    return {"runs": len(ordered), "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 1),
            "max_ms": round(ordered[-1], 1)}


async def _get(client: httpx.AsyncClient, headers: dict[str, str], path: str = PATH) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = await client.get(path, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text[:300]
    answer: dict[str, Any] = response.json()
    return elapsed, answer


async def _forget(conn: asyncpg.Connection) -> None:
    await conn.execute("DELETE FROM loans.loan_county_subsidies WHERE period_from = $1 AND period_to = $2", *PERIOD)


async def _recomputed(url: str, period: tuple[date, date] = PERIOD) -> list[tuple[str, int, int]]:
    engine = create_engine("loans", url=url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            return await repository.subsidy_by_county(session, prefix="43", period_from=period[0],
                                                      period_to=period[1], rate_bp=RATE_BP)
    finally:
        await engine.dispose()


async def _one_statement(url: str, runs: int) -> dict[str, Any]:
    """The baseline of the same run: the province's figures of the period that is not kept in one statement, in
    process on one connection (`repository.subsidy_by_county`, unsplit), timed."""
    ms = []
    for _ in range(runs):
        started = time.perf_counter()
        await _recomputed(url, UNKEPT)
        ms.append((time.perf_counter() - started) * 1000)
    return _figures(ms)


async def measure(gateway_url: str, admin_token: str, url: str, *, cold: int, repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {"period": [str(d) for d in PERIOD], "rate_bp": RATE_BP}
    conn = await asyncpg.connect(plain_url(url))
    async with httpx.AsyncClient(base_url=gateway_url, timeout=120) as client:
        finance = {"authorization": "Bearer " + await issue_key(
            client, admin_token, name=f"bench-finance-{os.getpid()}", role="finance", region="430000")}
        county = COUNTIES[len(COUNTIES) // 2]
        lender = {"authorization": "Bearer " + await issue_key(
            client, admin_token, name=f"bench-lender-{os.getpid()}", role="lender", region=county)}
        results["not_kept_period"] = _figures([(await _get(client, finance, UNKEPT_PATH))[0] for _ in range(cold)])
        _, unkept = await _get(client, finance, UNKEPT_PATH)
        results["not_kept_equals_one_statement"] = [
            (i["county_code"], i["loans"], i["subsidy_fen"]) for i in unkept["items"]] == await _recomputed(url, UNKEPT)
        results["not_kept_one_statement_in_process"] = await _one_statement(url, cold)
        computed = []
        for _ in range(cold):
            await _forget(conn)
            computed.append((await _get(client, finance))[0])
        results["every_county_computed"] = _figures(computed)
        results["first_request_ms"] = round(computed[0], 1)
        results["kept"] = _figures([(await _get(client, finance))[0] for _ in range(repeat)])
        loan_id = await conn.fetchval(
            "SELECT loan_id FROM loans.loan_balances WHERE county_code = $1 AND repaid_fen + 100 <= amount_fen "
            "AND issued_on < $2 AND maturity_in_force > $3 ORDER BY loan_id LIMIT 1", county, PERIOD[0], PERIOD[1])
        before = await conn.fetchval("SELECT version FROM loans.loan_subsidy_versions WHERE county_code = $1", county)
        paid = await client.post(f"/loans/{loan_id}/repayments", headers=lender, json={
            "principal_fen": 100, "interest_fen": 0, "paid_on": str(PERIOD[0] + timedelta(days=30))})
        assert paid.status_code == 201, paid.text[:300]
        after = await conn.fetchval("SELECT version FROM loans.loan_subsidy_versions WHERE county_code = $1", county)
        stale = await conn.fetchval("SELECT count(*) FROM loans.loan_county_subsidies k JOIN "
                                    "loans.loan_subsidy_versions v USING (county_code) WHERE k.period_from = $1 "
                                    "AND k.period_to = $2 AND k.version <> v.version", *PERIOD)
        results["back_dated_repayment"] = {"county": county, "version_moved": before != after,
                                           "counties_to_compute": stale}
        results["after_the_repayment_ms"] = round((await _get(client, finance))[0], 1)
        elapsed, answer = await _get(client, finance)
        results["kept_again"] = _figures([elapsed] + [(await _get(client, finance))[0] for _ in range(repeat - 1)])
    await conn.close()
    items = [(i["county_code"], i["loans"], i["subsidy_fen"]) for i in answer["items"]]
    results["counties"] = len(items)
    results["equals_the_recomputation"] = items == await _recomputed(url)
    return results


VERSION_TRIGGERS = (("loan_repayments", "loan_repayments_subsidy_insert"),
                    ("loan_balances", "loan_balances_subsidy_update"))


async def _repayments_of_today(conn: asyncpg.Connection, loans: list[asyncpg.Record], today: date,
                               tag: str) -> dict[str, Any]:
    ms = []
    for n, (county, loan_id) in enumerate(loans):
        started = time.perf_counter()
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO loans.loan_repayments (id, loan_id, principal_fen, interest_fen, paid_on, created_by, "
                "county_code) VALUES ($1, $2, 1, 0, $3, 'bench', $4)", f"rep_bench_{tag}_{n}", loan_id, today, county)
            await conn.execute(
                "UPDATE loans.loan_balances SET repaid_fen = repaid_fen + 1, last_paid_on = greatest(last_paid_on, $3) "
                "WHERE county_code = $1 AND loan_id = $2", county, loan_id, today)
        ms.append((time.perf_counter() - started) * 1000)
    return _figures(ms)


async def repayment_cost(url: str, count: int) -> dict[str, Any]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        today = await conn.fetchval("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")
        loans = await conn.fetch("SELECT county_code, loan_id FROM loans.loan_balances WHERE repaid_fen + 10 < "
                                 "amount_fen ORDER BY loan_id LIMIT $1", 4 * count)
        versions = await conn.fetchval("SELECT sum(version) FROM loans.loan_subsidy_versions")
        figures: dict[str, Any] = {}
        for round_no in range(2):
            part = 2 * round_no * count
            figures[f"triggers_on_{round_no}"] = await _repayments_of_today(
                conn, loans[part:part + count], today, f"{os.getpid()}_on{round_no}")
            for table, trigger in VERSION_TRIGGERS:
                await conn.execute(f"ALTER TABLE loans.{table} DISABLE TRIGGER {trigger}")
            try:
                figures[f"triggers_off_{round_no}"] = await _repayments_of_today(
                    conn, loans[part + count:part + 2 * count], today, f"{os.getpid()}_off{round_no}")
            finally:
                for table, trigger in VERSION_TRIGGERS:
                    await conn.execute(f"ALTER TABLE loans.{table} ENABLE TRIGGER {trigger}")
        figures["no_version_moved"] = versions == await conn.fetchval(
            "SELECT sum(version) FROM loans.loan_subsidy_versions")
    finally:
        await conn.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reuse", "--url", dest="url", required=True, help="a database province_loans --keep left")
    parser.add_argument("--cold", type=int, default=5, help="requests each computing every county")
    parser.add_argument("--repeat", type=int, default=30, help="requests answered from the kept figures")
    parser.add_argument("--repayment-cost", type=int, default=0, help="repayments of today timed with and without "
                        "the version triggers (disables them meanwhile: a benchmark database only)")
    args = parser.parse_args()
    os.environ["FUNDTRACK_DB_ROLES"] = "0"
    migrate(args.url)
    load = os.getloadavg()
    with stack_on(kept_database(args.url)) as stack:
        results = asyncio.run(measure(stack.gateway_url, stack.admin_token, args.url, cold=args.cold,
                                      repeat=args.repeat))
    results["machine"] = {"cores": os.cpu_count(), "load_average_before": load[0], "load_average_after":
                          os.getloadavg()[0]}
    if args.repayment_cost:
        results["repayments_of_today"] = asyncio.run(repayment_cost(args.url, args.repayment_cost))
    print(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
