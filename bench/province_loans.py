"""Benchmark (issue #20): loans and the registry at a province's size: ~120 counties, 2,000,000 registered
households, 800,000 loans, ~3,000,000 repayments (`--scale` shrinks every count).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.province_loans [--scale 1]

Makes a throwaway database (tests/stack.py), migrates it (deploy.migrate), builds the data on the server (INSERT …
SELECT from generate_series, deterministic: hashint4 of the row number, no random state), then times, each next to
a raw-SQL baseline run in the same process on the same data:

- the L5 overdue report (`reads.overdue_report`, what GET /loans/reports/overdue calls) for a county, a city and
  the province;
- the first page of GET /registry/households?county=<the last county of the roster> (`repository.household_page`
  and `service.read_of`, what the route calls) and a household's detail;
- the first page of GET /loans?county=…&status=overdue (`reads.list_loans`) and a loan's detail;
- every loans detector and the kernel's `raise_alerts`, as the daily run does it, on two consecutive days (the
  second day shows what a daily run rewrites). INELIGIBLE_BORROWER asks the registry's own eligibility query
  in-process (bench.loans_detectors.InProcessRegistry: the HTTP hop is not measured).

Then (alone with `--gateway-only`) it starts the whole system on the database (tests/stack.py) and times, through
the gateway with a key of the role and jurisdiction each fits (lender, finance, inspector or project_manager of the
province 430000, the last county's city, that county), every GET route of the loans and registry services API.md
and docs/api.md document (`gateway_reads()`): one request to warm up, then `--gateway-repeat` timed, p50/p95/max per
route beside the in-process figure of the same work, and the target of issue #20 (a list or detail 100 ms p95, a
report 1 s). The records none of the data has (a subsidy claim, a risk fund, a compensation claim, an import's
progress) are asked for as a caller would and answer 404.

Prints JSON: p50/p95 in milliseconds of each read (`--repeat` runs), seconds of each detector, and the gateway's
rows (a Markdown table of them on stderr). `--keep` leaves the database; `--reuse URL` measures on it again.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.loans_detectors import InProcessRegistry, fill_balances, timed_run, use_long_statements
from bench.settle import vacuumed
from bench.through_gateway import Read, kept_database, measure_gateway, stack_on, table
from deploy.migrate import migrate
from services.kernel.db import plain_url
from services.kernel.identity import Principal
from services.kernel.types import id_number_check_char
from tests.stack import TestDatabase, create_test_database, workdir

HOUSEHOLDS = 2_000_000
LOANS = 800_000
TODAY = date(2026, 12, 4)  # the day the figures are as of (fixed: the data is built relative to it)
COUNTIES = [f"43{c:02d}{k:02d}" for c in range(1, 15) for k in range(21, 30)][:120]
PROVINCE = Principal(id="bench-province", role="admin", region_code="430000")

# h(i, salt): a deterministic pseudo-random non-negative integer of a row number
H = "(hashint4({i} * 7 + {salt}) & 2147483647)"


def h(i: str, salt: int) -> str:
    return H.format(i=i, salt=salt)


BUILD_REGISTRY = [
    """
    INSERT INTO registry.household_imports (id, number, principal_id, region_code, effective_on, imported, updated,
                                            unchanged, rejected)
    VALUES ('imp_bench', 1, 'bench', '000000', '2014-01-01', {households}, 0, 0, 0),
           ('imp_bench2', 2, 'bench', '000000', '2019-01-01', 0, {households} / 50, 0, 0)
    """,
    "SELECT setval('registry.household_import_numbers', 2)",
    # household n lies in county n * counties / households: the roster's ids run county after county
    """
    INSERT INTO registry.households (household_id, head_id_number, head_name, county_code, village_code, status,
                                     members, village_cadre, card_account, registered_by, updated_by)
    SELECT 'H' || lpad(n::text, 9, '0'), i.id_number, '户主' || (n % 9973), c.code,
           c.code || lpad(((n / 40) % 400)::text, 6, '0'),
           CASE WHEN n % 100 = 0 THEN 'not_poor' ELSE 'poor' END, 1 + n % 6, n % 100 = 1,
           '62170000' || lpad(n::text, 11, '0'), 1, CASE WHEN n % 100 IN (0, 1) THEN 2 ELSE 1 END
    FROM generate_series(0, {households} - 1) AS n
    JOIN bench_counties c ON c.k = n * {counties}::bigint / {households}
    JOIN bench_ids i ON i.county = c.code AND i.n3 = n % 1000
    """,
    """
    INSERT INTO registry.household_status_history (household_id, county_code, effective_on, status, village_cadre,
                                                   import_id)
    SELECT 'H' || lpad(n::text, 9, '0'), c.code, s.effective_on, s.status, s.cadre, s.import_id
    FROM generate_series(0, {households} - 1) AS n
    JOIN bench_counties c ON c.k = n * {counties}::bigint / {households},
         LATERAL (VALUES (date '2014-01-01', 'poor', false, 'imp_bench'),
                         (date '2019-01-01', CASE WHEN n % 100 = 0 THEN 'not_poor' ELSE 'poor' END, n % 100 = 1,
                          'imp_bench2')) AS s(effective_on, status, cadre, import_id)
    WHERE n % 100 IN (0, 1)
    """,
]

# loan i is household (i * 5 / 2)'s (so loans run county after county too), issued 2016-01-01 … 2026-09; 4% pay
# three quarters only (overdue once matured), the others four instalments; instalments after TODAY not yet paid
BUILD_LOANS = [
    f"""
    CREATE TEMP TABLE bench_loans AS
    SELECT i, 'loan_' || lpad(i::text, 10, '0') AS id, 'H' || lpad((i * 5 / 2)::text, 9, '0') AS household_id,
           date '2016-01-01' + {h('i', 1)} % 3900 AS issued_on, (ARRAY[12, 24, 36])[1 + {h('i', 2)} % 3] AS term,
           (10 + {h('i', 3)} % 491) * 10000 AS amount, {h('i', 4)} % 100 < 4 AS defaulter
    FROM generate_series(0, {{loans}} - 1) AS i
    """,
    """
    INSERT INTO loans.loans (id, household_id, county_code, village_code, borrower_id_number, borrower_name,
                             lender_name, product_name, amount_fen, term_months, annual_rate_bp, benchmark_rate_bp,
                             fees_fen, collateral_required, guarantee_required, mode, purpose, cooperative_uscc,
                             account_holder_id_number, account_holder_uscc, account_no, issued_on, maturity_on,
                             created_by)
    SELECT b.id, b.household_id, r.county_code, r.village_code, r.head_id_number, r.head_name, '县农商银行',
           '扶贫小额信贷', b.amount, b.term, 475, 475, 0, false, false,
           CASE WHEN b.i % 20 = 0 THEN 'cooperative' ELSE 'self' END, 'breeding',
           CASE WHEN b.i % 20 = 0 THEN '93430500000000' || lpad((b.i % 999)::text, 3, '0') || '1' END,
           r.head_id_number, NULL, '6217' || lpad(b.i::text, 12, '0'), b.issued_on,
           (b.issued_on + make_interval(months => b.term))::date, 'bench'
    FROM bench_loans b JOIN registry.households r ON r.household_id = b.household_id
    """,
    """
    INSERT INTO loans.loan_repayments (id, loan_id, county_code, principal_fen, interest_fen, paid_on, created_by)
    SELECT 'rep_' || lpad(b.i::text, 10, '0') || k, b.id, l.county_code, p.part, p.part / 20, p.paid_on, 'bench'
    FROM bench_loans b JOIN loans.loans l ON l.id = b.id, generate_series(1, 4) AS k,
         LATERAL (SELECT CASE WHEN k < 4 THEN b.amount / 4 ELSE b.amount - 3 * (b.amount / 4) END AS part,
                         (b.issued_on + make_interval(months => b.term * k / 4))::date AS paid_on) AS p
    WHERE p.paid_on <= '{today}' AND NOT (b.defaulter AND k = 4)
    """,
    """
    INSERT INTO loans.loan_extensions (id, loan_id, county_code, original_maturity_on, new_maturity_on, reason,
                                       created_by)
    SELECT 'ext_' || lpad(b.i::text, 10, '0'), b.id, l.county_code, l.maturity_on,
           (l.maturity_on + interval '6 months')::date, '受灾展期', 'bench'
    FROM bench_loans b JOIN loans.loans l ON l.id = b.id
    WHERE b.i % 100 = 7
    """,
    f"""
    INSERT INTO loans.loan_usage_reports (id, loan_id, county_code, recipient_kind, recipient_id, recipient_name,
                                          amount_fen, purpose, reported_on, breaks_enterprise_rule,
                                          breaks_purpose_rule, created_by)
    SELECT 'use_' || lpad(b.i::text, 10, '0'), b.id, l.county_code, u.kind,
           CASE WHEN u.kind = 'enterprise' THEN '91430500000000' || lpad((b.i % 400)::text, 3, '0') || '1'
                ELSE b.household_id END,
           '收款方', b.amount / 2, u.purpose, least(b.issued_on + {h('b.i', 5)} % 400, date '{{today}}'),
           u.kind = 'enterprise', u.purpose = 'consumption', 'bench'
    FROM bench_loans b JOIN loans.loans l ON l.id = b.id,
         LATERAL (SELECT CASE WHEN {h('b.i', 6)} % 100 < 2 THEN 'enterprise' ELSE 'household' END AS kind,
                         CASE WHEN {h('b.i', 6)} % 100 = 2 THEN 'consumption' ELSE 'breeding' END AS purpose) AS u
    WHERE b.i % 10 = 0
    """,
]


async def build(url: str, scale: float) -> dict[str, Any]:
    households, loans = int(HOUSEHOLDS * scale), int(LOANS * scale)
    conn = await asyncpg.connect(plain_url(url))
    figures: dict[str, Any] = {"households": households, "loans": loans}
    try:
        started = time.perf_counter()
        await conn.execute("SET synchronous_commit = off; SET maintenance_work_mem = '256MB'; SET work_mem = '64MB'")
        await conn.execute("CREATE TEMP TABLE bench_counties (k integer, code text)")
        await conn.copy_records_to_table("bench_counties", records=list(enumerate(COUNTIES)))
        await conn.execute("CREATE TEMP TABLE bench_ids (county text, n3 integer, id_number text)")
        ids = []
        for county in COUNTIES:
            for n3 in range(1000):
                first17 = f"{county}19800101{n3:03d}"
                ids.append((county, n3, first17 + id_number_check_char(first17)))
        await conn.copy_records_to_table("bench_ids", records=ids)
        await conn.execute("ANALYZE bench_counties; ANALYZE bench_ids")
        params = {"households": households, "loans": loans, "counties": len(COUNTIES), "today": TODAY.isoformat()}
        for statement in BUILD_REGISTRY + BUILD_LOANS:
            await conn.execute(statement.format(**params))
        await fill_balances(conn)
        tables = ("registry.households", "registry.household_ids", "registry.household_status_history", "loans.loans",
                  "loans.loan_repayments", "loans.loan_extensions", "loans.loan_usage_reports",
                  "loans.loan_balances", "loans.loan_county_totals")
        figures["all_visible"] = await vacuumed(conn, list(tables))
        for table in tables:
            figures[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
        figures["build_s"] = round(time.perf_counter() - started, 1)
        figures["database_mb"] = round(await conn.fetchval("SELECT pg_database_size(current_database())") / 1e6)
    finally:
        await conn.close()
    return figures


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1), "runs": len(ordered)}


async def timed(repeat: int, call: Callable[[], Awaitable[Any]]) -> tuple[dict[str, float], Any]:
    await call()  # warm: plans cached, pages in the buffer cache
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await call()
        samples.append(time.perf_counter() - started)
    return percentiles(samples), result


# The raw-SQL baselines: the same answers asked of PostgreSQL by hand, on one asyncpg connection.
RAW_OVERDUE = """
SELECT l.maturity_in_force, count(*) AS loans, sum(l.amount_fen - l.repaid) AS owed
FROM (SELECT l.amount_fen, l.issued_on, coalesce(e.new_maturity_on, l.maturity_on) AS maturity_in_force,
             coalesce((SELECT sum(r.principal_fen) FROM loans.loan_repayments r
                       WHERE r.loan_id = l.id AND r.paid_on <= $2), 0) AS repaid
      FROM loans.loans l LEFT JOIN loans.loan_extensions e ON e.loan_id = l.id
      WHERE starts_with(l.county_code, $1)) l
WHERE l.issued_on <= $2 AND l.maturity_in_force < $2 AND l.amount_fen > l.repaid
GROUP BY 1
"""
RAW_HOUSEHOLD_PAGE = """
SELECT h.*, r.effective_on, u.effective_on FROM registry.households h
JOIN registry.household_imports r ON r.number = h.registered_by
JOIN registry.household_imports u ON u.number = h.updated_by
WHERE h.county_code = $1 ORDER BY h.household_id LIMIT 51
"""
RAW_HOUSEHOLD = """
SELECT h.*, (SELECT json_agg(x) FROM registry.household_status_history x WHERE x.household_id = h.household_id)
FROM registry.household_ids d
JOIN registry.households h ON h.county_code = d.county_code AND h.household_id = d.household_id
WHERE d.household_id = $1
"""
RAW_LOAN_PAGE = """
SELECT l.*, p.repaid FROM loans.loans l LEFT JOIN loans.loan_extensions e ON e.loan_id = l.id,
     LATERAL (SELECT coalesce(sum(r.principal_fen), 0) AS repaid FROM loans.loan_repayments r
              WHERE r.loan_id = l.id AND r.paid_on <= $2) p
WHERE l.county_code = $1 AND coalesce(e.new_maturity_on, l.maturity_on) < $2 AND l.amount_fen > p.repaid
ORDER BY l.id DESC LIMIT 51
"""
RAW_LOAN = """
SELECT l.*, (SELECT json_agg(r) FROM loans.loan_repayments r WHERE r.loan_id = l.id),
       (SELECT row_to_json(e) FROM loans.loan_extensions e WHERE e.loan_id = l.id)
FROM loans.loans l WHERE l.id = $1
"""
RAW_OVERDUE_SCAN = """
SELECT count(*) FROM loans.loans l LEFT JOIN loans.loan_extensions e ON e.loan_id = l.id
LEFT JOIN (SELECT loan_id, sum(principal_fen) AS repaid FROM loans.loan_repayments WHERE paid_on <= $1
           GROUP BY loan_id) r ON r.loan_id = l.id
WHERE l.issued_on <= $1 AND coalesce(e.new_maturity_on, l.maturity_on) < $1 AND l.amount_fen > coalesce(r.repaid, 0)
"""


async def reads(url: str, repeat: int) -> dict[str, Any]:
    from services.kernel.db import create_engine, session_factory
    from services.loans import reads as loan_reads
    from services.registry import repository as registry_repository
    from services.registry import service as registry_service

    loans_engine = create_engine("loans", url=url, pool_size=2)
    registry_engine = create_engine("registry", url=url, pool_size=2)
    loan_sessions, registry_sessions = session_factory(loans_engine), session_factory(registry_engine)
    raw = await asyncpg.connect(plain_url(url))
    county, city = COUNTIES[-1], COUNTIES[-1][:4] + "00"
    out: dict[str, Any] = {"county": county, "city": city}
    try:
        for name, region, prefix in (("county", county, county), ("city", city, city[:4]),
                                     ("province", None, "43")):
            async def overdue(region: str | None = region) -> Any:
                async with loan_sessions() as session:
                    return await loan_reads.overdue_report(session, PROVINCE, as_of=TODAY, county=region)

            figures, report = await timed(repeat, overdue)
            baseline, rows = await timed(repeat, functools.partial(raw.fetch, RAW_OVERDUE, prefix, TODAY))
            out[f"overdue_report_{name}"] = figures | {
                "overdue_loans": sum(b.count for b in report.buckets.values()),
                "raw_sql": baseline, "raw_overdue_loans": sum(r["loans"] for r in rows)}

        async def household_page() -> Any:
            async with registry_sessions() as session:
                rows = await registry_repository.household_page(
                    session, principal=PROVINCE, county=county, status=None, after=None, limit=50)
                return [registry_service.read_of(r, principal=PROVINCE) for r in rows]

        figures, page = await timed(repeat, household_page)
        out["household_list_last_county"] = figures | {
            "rows": len(page), "raw_sql": (await timed(repeat, lambda: raw.fetch(RAW_HOUSEHOLD_PAGE, county)))[0]}
        household_id = page[0].household_id

        async def household_detail() -> Any:
            async with registry_sessions() as session:
                found = await registry_repository.get_household(session, PROVINCE, household_id)
                history = await registry_repository.history_of(session, household_id)
                return registry_service.detail_of(found, history, principal=PROVINCE)

        out["household_detail"] = (await timed(repeat, household_detail))[0] | {
            "raw_sql": (await timed(repeat, lambda: raw.fetch(RAW_HOUSEHOLD, household_id)))[0]}

        async def loan_page() -> Any:
            async with loan_sessions() as session:
                return await loan_reads.list_loans(session, PROVINCE, county=county, status="overdue",
                                                   household_id=None, as_of=TODAY, cursor=None, limit=50)

        figures, loans_page = await timed(repeat, loan_page)
        out["loan_list_county_overdue"] = figures | {
            "rows": len(loans_page.items),
            "raw_sql": (await timed(repeat, lambda: raw.fetch(RAW_LOAN_PAGE, county, TODAY)))[0]}
        loan_id = loans_page.items[0].id if loans_page.items else "loan_0000000000"

        async def loan_detail() -> Any:
            async with loan_sessions() as session:
                return await loan_reads.loan_detail(session, PROVINCE, loan_id, TODAY)

        out["loan_detail"] = (await timed(repeat, loan_detail))[0] | {
            "raw_sql": (await timed(repeat, lambda: raw.fetch(RAW_LOAN, loan_id)))[0]}
    finally:
        await raw.close()
        await loans_engine.dispose()
        await registry_engine.dispose()
    return out


async def detectors(url: str) -> dict[str, Any]:
    """The daily run on two consecutive days: each detector's seconds and alerts, then raise_alerts's."""
    from services.kernel.db import create_engine, session_factory
    from services.loans.detectors import detectors as registry_of_detectors

    engine = create_engine("loans", url=url, pool_size=2)
    sessions = session_factory(engine)
    registry = InProcessRegistry(url)
    state = SimpleNamespace(clients={"registry": registry})
    raw = await asyncpg.connect(plain_url(url))
    results: dict[str, Any] = {}
    try:
        for as_of in (TODAY - timedelta(days=1), TODAY):
            timings = await timed_run(sessions, registry_of_detectors, state, as_of)
            t = time.perf_counter()
            await raw.fetchval(RAW_OVERDUE_SCAN, as_of)
            timings["raw_sql_overdue_scan_seconds"] = round(time.perf_counter() - t, 2)
            results[as_of.isoformat()] = timings
        results["registry_calls"] = registry.calls
        results["registry_busy_seconds"] = round(registry.seconds, 2)
        results["alert_events"] = await raw.fetchval("SELECT count(*) FROM loans.alert_events")
    finally:
        await raw.close()
        await engine.dispose()
        await registry.engine.dispose()
    return results


@dataclass(frozen=True)
class Sample:
    """What the routes are asked about: the last county of the roster (as the in-process reads), its city, and the
    newest loan there with its household (read from the database: a --reuse run does not know the scale)."""

    county: str
    city: str
    loan_id: str
    household_id: str


async def loans_in(url: str) -> int:
    conn = await asyncpg.connect(plain_url(url))
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM loans.loans")
    finally:
        await conn.close()
    return count


async def sample(url: str) -> Sample:
    conn = await asyncpg.connect(plain_url(url))
    try:
        row = await conn.fetchrow("SELECT id, household_id FROM loans.loans WHERE county_code = $1 "
                                  "ORDER BY id DESC LIMIT 1", COUNTIES[-1])
    finally:
        await conn.close()
    assert row is not None, f"no loan in {COUNTIES[-1]}"
    return Sample(COUNTIES[-1], COUNTIES[-1][:4] + "00", str(row["id"]), str(row["household_id"]))


def gateway_reads(at: Sample) -> list[Read]:
    """Every GET route of the loans and registry services in API.md and docs/api.md, by a role and jurisdiction that
    may ask it: the province (430000), the city and the county of `at`."""
    province, city, county, day = "430000", at.city, at.county, f"as_of={TODAY.isoformat()}"
    lender, inspector, finance, manager, report = "lender", "inspector", "finance", "project_manager", 1000
    period = "from=2026-01-01&to=2026-07-01&rate_bp=475"
    loan = f"/loans/{at.loan_id}"
    return [
        Read("loans, county, first page", lender, county, f"/loans?county={county}&{day}"),
        Read("loans, county, a later page", lender, county, f"/loans?county={county}&{day}", pages=10),
        Read("loans, county, overdue, first page", lender, county, f"/loans?county={county}&status=overdue&{day}",
             in_process="loan_list_county_overdue"),
        Read("loans, county, overdue, a later page", lender, county,
             f"/loans?county={county}&status=overdue&{day}", pages=3),
        Read("loans, province, overdue, first page", inspector, province, f"/loans?status=overdue&{day}"),
        Read("loans, province, active, first page", inspector, province, f"/loans?status=active&{day}"),
        Read("loans, province, first page", inspector, province, f"/loans?{day}"),
        Read("loans, province, a later page", inspector, province, f"/loans?{day}", pages=10),
        Read("loans of a household", lender, county, f"/loans?household_id={at.household_id}&{day}"),
        Read("a loan", lender, county, f"{loan}?{day}", in_process="loan_detail"),
        Read("a loan's subsidy", finance, county, f"{loan}/subsidy?{period}"),
        Read("a loan's records", inspector, province, f"{loan}/records"),
        Read("report: overdue, county", lender, county, f"/loans/reports/overdue?county={county}&{day}", report,
             in_process="overdue_report_county"),
        Read("report: overdue, city", inspector, city, f"/loans/reports/overdue?county={city}&{day}", report,
             in_process="overdue_report_city"),
        Read("report: overdue, province", inspector, province, f"/loans/reports/overdue?{day}", report,
             in_process="overdue_report_province"),
        Read("report: outstanding, county", lender, county, f"/loans/reports/outstanding?county={county}&{day}",
             report),
        Read("report: outstanding, province", inspector, province, f"/loans/reports/outstanding?{day}", report),
        # a day before the latest loans and repayments: the county totals corrected by the loans that differ since
        Read("report: outstanding, province, a week before", inspector, province,
             f"/loans/reports/outstanding?as_of={(TODAY - timedelta(days=7)).isoformat()}", report),
        Read("report: subsidy, county", finance, county, f"/loans/reports/subsidy?county={county}&{period}", report),
        Read("report: subsidy, province", finance, province, f"/loans/reports/subsidy?{period}", report),
        Read("subsidy rates of a county", finance, county, f"/loans/subsidy-rates?county={county}"),
        Read("product names of the province", lender, province, f"/loans/product-names?province={province}"),
        Read("a subsidy claim (none in the data: 404)", finance, province, "/loans/subsidy-claims/scl_none",
             expect=404),
        Read("a risk fund (none in the data: 404)", finance, province, "/loans/risk-funds/rsk_none", expect=404),
        Read("a compensation claim (none in the data: 404)", finance, province,
             "/loans/compensation-claims/cmp_none", expect=404),
        Read("households, county, first page", manager, county, f"/registry/households?county={county}",
             in_process="household_list_last_county"),
        Read("households, county, a later page", manager, county, f"/registry/households?county={county}",
             pages=10),
        Read("households, county, poor, first page", lender, county,
             f"/registry/households?county={county}&status=poor"),
        Read("households, province, first page", inspector, province, "/registry/households"),
        Read("households, province, a later page", inspector, province, "/registry/households", pages=10),
        Read("households, province, not poor, first page", inspector, province,
             "/registry/households?status=not_poor"),
        Read("a household", lender, county, f"/registry/households/{at.household_id}",
             in_process="household_detail"),
        Read("cadre exceptions of a county", manager, county, f"/registry/cadre-exceptions?county={county}"),
        Read("cadre exceptions of the province", inspector, province, "/registry/cadre-exceptions"),
        Read("an import's progress (none sent: 404)", manager, county, "/registry/imports/bench-none/progress",
             expect=404),
    ]


def in_process_figure(reads: dict[str, Any], label: str) -> str:
    """The p50 / p95 ms of the same work timed in-process by `reads()`, or '' when it was not (--gateway-only)."""
    figures = reads.get(label)
    return f"{figures['p50_ms']} / {figures['p95_ms']}" if figures else ""


async def create(name: str | None) -> TestDatabase:
    """A throwaway database (tests/stack.py), or one named `name` on DATABASE_URL's server: CREATE DATABASE fails
    if it exists, so a run never builds into (nor later drops) a database it did not make."""
    if name is None:
        return await create_test_database(workdir())
    admin = os.environ["DATABASE_URL"]
    conn = await asyncpg.connect(plain_url(admin))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    parts = urlsplit(admin)
    return TestDatabase(url=urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment)),
                        admin_url=admin, name=name)


def main() -> None:
    use_long_statements()
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the province's counts")
    parser.add_argument("--repeat", type=int, default=20, help="runs of each read")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (print its URL)")
    parser.add_argument("--reuse", "--url", dest="url", help="measure on a database an earlier --keep run left")
    parser.add_argument("--only", choices=("reads", "detectors"), help="time only these (in-process)")
    parser.add_argument("--gateway-repeat", type=int, default=50, help="timed requests of each route, after one")
    parser.add_argument("--gateway-only", action="store_true", help="no in-process phase: the routes only")
    parser.add_argument("--database", help="the name of the database to make (default: ft_test_<random>)")
    parser.add_argument("--build-only", action="store_true", help="build the data and measure nothing (with --keep)")
    args = parser.parse_args()
    os.environ["FUNDTRACK_DB_ROLES"] = "0"
    database = None if args.url else asyncio.run(create(args.database))
    url = args.url or (database.url if database else "")
    try:
        migrate(url)  # a reused database to the head first
        if database is not None:
            print(json.dumps({"loaded": asyncio.run(build(url, args.scale))}, ensure_ascii=False), flush=True)
        if args.build_only:
            return
        # the scale of the data measured: a reused database's own (its loans against the province's), not --scale's
        scale = args.scale if database is not None else round(asyncio.run(loans_in(url)) / LOANS, 2)
        results: dict[str, Any] = {"as_of": TODAY.isoformat(), "scale": scale,
                                   "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()[0]}}
        if args.only != "detectors" and not args.gateway_only:
            results["reads"] = asyncio.run(reads(url, args.repeat))
        if args.only != "reads" and not args.gateway_only:
            results["detectors"] = asyncio.run(detectors(url))
        at = asyncio.run(sample(url))
        with stack_on(database or kept_database(url)) as stack:
            results["gateway"] = asyncio.run(measure_gateway(
                stack, gateway_reads(at), repeat=args.gateway_repeat,
                in_process=functools.partial(in_process_figure, results.get("reads", {}))))
        print(table(results["gateway"]), file=sys.stderr)
        print(json.dumps(results, ensure_ascii=False, indent=1))
    finally:
        if database is not None and not args.keep:
            asyncio.run(database.drop())
            shutil.rmtree(workdir(), ignore_errors=True)
        elif database is not None:
            print(json.dumps({"kept": url}))


if __name__ == "__main__":
    main()
