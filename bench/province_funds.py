"""Benchmark: the funds reports, the trace and the funds detectors at a province's size (issue #20).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.province_funds [--scale 1]

A Hunan-sized province: 14 cities, 126 counties, 3 fund sources, five years (2022–2026); at `--scale 1` 30,500
projects, 5,000,000 payments (80 % to households, 0.05 % repeated within 30 days, 0.02 % reversed) to 3,050,000
payee accounts. The data is built on the server (INSERT … SELECT from generate_series) into a throwaway database
(tests/stack.py), migrated first (deploy.migrate), and dropped at the end. The ledger is consistent: every account's
balance is the sum of its transfers, appropriations feed the province's treasuries, which allocate to the cities,
which allocate to their counties, which arrange to their projects, which pay the payees; none goes below 0.

Then it times, calling the funds code the routes call (services/funds/reports.py, trace.py, detectors.py, on the
service's own SQLAlchemy engine): the progress report for a county, a city and the province, growth, the trace of a
province → city allocation (time and the peak RSS it adds), and each funds detector as POST /alerts/scan runs them.
INELIGIBLE_PAYEE asks a stand-in registry (every household eligible; `--registry-ms` per call of 1,000 to stand for
the registry's own work and the HTTP hop; no household changed), counting the calls; then it and DUPLICATE_PAYMENT
run three times more each: full with the mark kept, as the next run of the same day would (nothing new), and as the
next night's would after a day's payments, incremental (docs/rules.md D1; `incremental_runs`). Beside
them, the raw-PostgreSQL baseline of the same run: a plain full read of the transfer legs and of the disbursements (the
floor of anything computed from all the facts). A step longer than `--timeout` seconds is cancelled by the server
(statement_timeout) and reported so.

Then (alone with `--gateway-only`) it starts the whole system on the database (tests/stack.py) and times, through
the gateway with a key of the role and jurisdiction each fits (finance or inspector of the province 430000, the city
430100, the county 430101), every GET route of the funds service API.md and docs/api.md document (`reads()`): one
request to warm up, then `--gateway-repeat` timed, p50/p95/max per route beside the in-process figure of the same
work, and the target of issue #20 point 2 (a list or detail 100 ms p95, a report 1 s, the trace 300 ms a page).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import math
import os
import resource
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx

from bench.settle import tables_of, vacuumed
from bench.through_gateway import Read, kept_database, measure_gateway, stack_on, table
from deploy.migrate import migrate
from services.kernel.db import plain_url
from services.kernel.http import ServiceClient
from tests.stack import TestDatabase, create_test_database, workdir

AS_OF = date(2026, 11, 30)
CITIES, COUNTIES_PER_CITY, PAYEES_PER_PROJECT = 14, 9, 100
COUNTIES = CITIES * COUNTIES_PER_CITY
FUNDS = ("C01", "C02", "P01")  # two central funds, one provincial; C01 and C02 integrable
PROVINCE = "430000"
ALLOCATION = "alp0_0_2024"  # the province's to its first city (430100), of C01 in 2024
TRACE = f"trace allocation {ALLOCATION}, every page"  # its label in `measure`

# The ids of the accounts, from the entities they belong to (f: fund 0–2, c: city 0–13, k: county 0–125,
# p: project, r: the project's payee 0–99): budget 1+f, treasury 11+f, a city's fund 100+3c+f, a county's pool or
# fund 1000+3k+f, a project's 10000+p, a payee's 1000000+100p+r (projects stay below 990,000: --scale 32).
_CITY = "'43' || lpad((c + 1)::text, 2, '0') || '00'"
_COUNTY = "'43' || lpad((k / 9 + 1)::text, 2, '0') || lpad((k % 9 + 1)::text, 2, '0')"
_FUND = "(ARRAY['C01', 'C02', 'P01'])[f + 1]"
# Per account, from its transfers' legs: the balance, and the latest outflow and inflow (what the ledger keeps on its
# row).
_FLOWS = """
    SELECT account_id, sum(CASE leg WHEN 'in' THEN amount_fen ELSE -amount_fen END)::bigint AS balance,
           max(occurred_on) FILTER (WHERE leg = 'out') AS last_out,
           max(occurred_on) FILTER (WHERE leg = 'in') AS last_in
    FROM transfer_legs GROUP BY account_id
"""
_POOLED = "(k % 4 = 0 AND f < 2)"
# INELIGIBLE_PAYEE's next night (issue #20): a day's payments (5 M over five years) recorded, as copies of the
# household payments of the 30 days to :on paid on :next, and the households the stand-in registry says changed
DAY_PAYMENTS, CHANGED_HOUSEHOLDS = 2_740, 1_000
NEXT_DAY_PAYMENTS = """
    INSERT INTO disbursements (id, project_id, county_code, amount_fen, voucher_no, payee_kind, payee_id, payee_name,
                               payee_account_no, paid_on, created_by)
    SELECT left(id, 36) || '-nx', project_id, county_code, amount_fen, voucher_no || '-next', payee_kind, payee_id,
           payee_name, payee_account_no, :next, created_by
    FROM disbursements WHERE payee_kind = 'household' AND paid_on > CAST(:on AS date) - 30 AND paid_on <= :on
    LIMIT :n
"""  # pilot poor counties pool their integrable money (F1/F7)

LOAD = [
    "SET session_replication_role = replica",  # the rows are consistent by construction: no FK checks per row
    """INSERT INTO fund_sources (code, name, level, integrable) VALUES
       ('C01', '中央财政专项扶贫资金', 'central', true), ('C02', '中央少数民族发展资金', 'central', true),
       ('P01', '省级财政扶贫资金', 'provincial', false)""",
    f"""INSERT INTO counties (code, name, poor, integration_pilot)
        SELECT {_COUNTY}, 'county ' || k, k % 2 = 0, k % 4 = 0 FROM generate_series(0, {COUNTIES - 1}) k""",
    # the payments: j-th goes to project j % P (county p % 126, fund (p / 126) % 3) in round t = j / P, to the
    # project's payee t % 100; projects with p % 10 = 0 stop paying in mid-2024 (their money goes idle, F3)
    """CREATE UNLOGGED TABLE bench_pay AS
       SELECT j, p, t, t % 100 AS r, p % 126 AS k, (p / 126) % 3 AS f, (1000 + (j * 7919) % 200000)::bigint AS amount,
              DATE '2022-01-02' + (t * (CASE WHEN p % 10 = 0 THEN 900 ELSE 1780 END) / $3)::int AS paid_on
       FROM (SELECT j, j % $2 AS p, j / $2 AS t FROM generate_series(0::bigint, $1 - 1) j) s""",
    # 0.05 % repeated ten days later (DUPLICATE_PAYMENT)
    """INSERT INTO bench_pay SELECT $1 + j, p, t, r, k, f, amount, paid_on + 10 FROM bench_pay WHERE j % 2000 = 1""",
    """CREATE UNLOGGED TABLE bench_arr AS
       SELECT p, k, f, extract(year FROM paid_on)::int AS y, (sum(amount) * 11 / 10)::bigint AS amount
       FROM bench_pay GROUP BY p, k, f, y""",
    """CREATE UNLOGGED TABLE bench_calloc AS
       SELECT k, k / 9 AS c, f, y, (sum(amount) * 105 / 100 + 1000000)::bigint AS amount FROM bench_arr
       GROUP BY k, f, y""",
    """CREATE UNLOGGED TABLE bench_cityalloc AS
       SELECT c, f, y, (sum(amount) * 102 / 100)::bigint AS amount FROM bench_calloc GROUP BY c, f, y""",
    """CREATE UNLOGGED TABLE bench_approp AS
       SELECT f, y, (sum(amount) * 101 / 100)::bigint AS amount FROM bench_cityalloc GROUP BY f, y""",
    # the business records
    f"""INSERT INTO appropriations (id, fund_source, fiscal_year, region_code, amount_fen, doc_no, appropriated_on,
                                    created_by)
        SELECT 'apr' || f || '_' || y, {_FUND}, y, '{PROVINCE}', amount, '湘财预〔' || y || '〕' || f || '号',
               make_date(y, 1, 1), 'bench' FROM bench_approp""",
    f"""INSERT INTO allocations (id, fund_source, fiscal_year, from_region, to_region, amount_fen, doc_no, issued_on,
                                 tasks, destination_kind, created_by)
        SELECT 'alp' || c || '_' || f || '_' || y, {_FUND}, y, '{PROVINCE}', {_CITY}, amount,
               '湘财农指〔' || y || '〕' || c || '-' || f || '号', make_date(y, 1, 1), '[]', 'fund', 'bench'
        FROM bench_cityalloc""",
    f"""INSERT INTO allocations (id, fund_source, fiscal_year, from_region, to_region, amount_fen, doc_no, issued_on,
                                 tasks, destination_kind, created_by)
        SELECT 'alc' || k || '_' || f || '_' || y, {_FUND}, y, {_CITY}, {_COUNTY}, amount,
               '市财农指〔' || y || '〕' || k || '-' || f || '号', make_date(y, 1, 1), '[]',
               CASE WHEN {_POOLED} THEN 'pool' ELSE 'fund' END, 'bench'
        FROM bench_calloc""",
    f"""INSERT INTO arrangements (id, county_code, project_id, amount_fen, fund_source, arranged_on, created_by)
        SELECT 'arr' || p || '_' || y, {_COUNTY}, 'prj' || p, amount, {_FUND}, make_date(y, 1, 1), 'bench'
        FROM bench_arr""",
    f"""INSERT INTO project_ledgers (project_id, county_code, arranged_fen)
        SELECT 'prj' || p, {_COUNTY}, sum(amount) FROM bench_arr GROUP BY p, k""",
    f"""INSERT INTO disbursements (id, project_id, county_code, amount_fen, voucher_no, payee_kind, payee_id,
                                   payee_name, payee_account_no, paid_on, created_by)
        SELECT 'dsb' || j, 'prj' || p, {_COUNTY}, amount, 'V' || j,
               CASE WHEN r % 5 = 0 THEN 'enterprise' ELSE 'household' END,
               CASE WHEN r % 5 = 0 THEN 'co' ELSE 'hh' END || p || '_' || r, '收款人', '6217', paid_on, 'bench'
        FROM bench_pay""",
    f"""INSERT INTO reversals (id, county_code, target_id, target_kind, reason, reversed_on, created_by)
        SELECT 'rvs' || j, {_COUNTY}, 'dsb' || j, 'disbursement', '重复录入', paid_on + 5, 'bench' FROM bench_pay
        WHERE j % 5000 = 3""",
    # the transfers of each record, staged as one row each, then written as their two legs (models.TransferLeg)
    """CREATE UNLOGGED TABLE bench_transfers (id varchar(40), source_account_id bigint, destination_account_id bigint,
                                              amount_fen bigint, kind varchar(16), fund_source varchar(16),
                                              record_id varchar(40), doc_no varchar(200), occurred_on date,
                                              reverses_id varchar(40))""",
    f"""INSERT INTO bench_transfers (id, source_account_id, destination_account_id, amount_fen, kind, fund_source,
                                     record_id, doc_no, occurred_on)
        SELECT 'tapr' || f || '_' || y, 1 + f, 11 + f, amount, 'appropriation', {_FUND}, 'apr' || f || '_' || y,
               '湘财预〔' || y || '〕' || f || '号', make_date(y, 1, 1) FROM bench_approp""",
    f"""INSERT INTO bench_transfers (id, source_account_id, destination_account_id, amount_fen, kind, fund_source,
                                     record_id, doc_no, occurred_on)
        SELECT 't' || id, CASE WHEN from_region = '{PROVINCE}' THEN 11 + f ELSE 100 + 3 * c + f END,
               CASE WHEN from_region = '{PROVINCE}' THEN 100 + 3 * c + f ELSE 1000 + 3 * k + f END,
               amount_fen, 'allocation', fund_source, id, doc_no, issued_on
        FROM (SELECT a.*, split_part(substr(a.id, 4), '_', 1)::int AS unit,
                     split_part(a.id, '_', 2)::int AS f FROM allocations a) x,
             LATERAL (SELECT CASE WHEN x.from_region = '{PROVINCE}' THEN x.unit ELSE x.unit / 9 END AS c,
                             x.unit AS k) u""",
    f"""INSERT INTO bench_transfers (id, source_account_id, destination_account_id, amount_fen, kind, fund_source,
                                     record_id, doc_no, occurred_on)
        SELECT 'tarr' || p || '_' || y, 1000 + 3 * k + f, 10000 + p, amount, 'arrangement', {_FUND},
               'arr' || p || '_' || y, 'arr' || p || '_' || y, make_date(y, 1, 1) FROM bench_arr""",
    f"""INSERT INTO bench_transfers (id, source_account_id, destination_account_id, amount_fen, kind, fund_source,
                                     record_id, doc_no, occurred_on)
        SELECT 'tdsb' || j, 10000 + p, 1000000 + 100 * p + r, amount, 'disbursement', {_FUND}, 'dsb' || j, 'V' || j,
               paid_on FROM bench_pay""",
    f"""INSERT INTO bench_transfers (id, source_account_id, destination_account_id, amount_fen, kind, fund_source,
                                     record_id, doc_no, occurred_on, reverses_id)
        SELECT 'trvs' || j, 1000000 + 100 * p + r, 10000 + p, amount, 'reversal', {_FUND}, 'rvs' || j, 'dsb' || j,
               paid_on + 5, 'tdsb' || j FROM bench_pay WHERE j % 5000 = 3""",
    # the accounts (of the legs' regions), each with the sum of its legs as its balance
    f"""CREATE UNLOGGED TABLE bench_acc AS
        SELECT 1 + f AS id, '{PROVINCE}' AS region_code, 'budget' AS kind, f, '' AS ref FROM generate_series(0, 2) f
        UNION ALL SELECT 11 + f, '{PROVINCE}', 'treasury', f, '' FROM generate_series(0, 2) f
        UNION ALL SELECT 100 + 3 * c + f, {_CITY}, 'fund', f, ''
                  FROM generate_series(0, {CITIES - 1}) c, generate_series(0, 2) f
        UNION ALL SELECT 1000 + 3 * k + f, {_COUNTY}, CASE WHEN {_POOLED} THEN 'pool' ELSE 'fund' END, f, ''
                  FROM generate_series(0, {COUNTIES - 1}) k, generate_series(0, 2) f
        UNION ALL SELECT DISTINCT 10000 + p, {_COUNTY}, 'project', f, 'prj' || p FROM bench_arr
        UNION ALL SELECT DISTINCT 1000000 + 100 * p + r, {_COUNTY}, 'payee', f,
                  CASE WHEN r % 5 = 0 THEN 'co' ELSE 'hh' END || p || '_' || r FROM bench_pay""",
    """INSERT INTO transfer_legs (region_code, transfer_id, leg, account_id, counter_account_id, amount_fen, kind,
                                  fund_source, record_id, doc_no, occurred_on, reverses_id)
       SELECT a.region_code, t.id, side.leg, a.id,
              CASE side.leg WHEN 'out' THEN t.destination_account_id ELSE t.source_account_id END, t.amount_fen,
              t.kind, t.fund_source, t.record_id, t.doc_no, t.occurred_on, t.reverses_id
       FROM bench_transfers t CROSS JOIN (VALUES ('out'), ('in')) AS side(leg)
       JOIN bench_acc a
         ON a.id = CASE side.leg WHEN 'out' THEN t.source_account_id ELSE t.destination_account_id END""",
    f"""INSERT INTO accounts (id, region_code, kind, fund_source, ref, balance_fen, last_out_on, last_in_on)
        OVERRIDING SYSTEM VALUE
        SELECT a.id, a.region_code, a.kind, {_FUND}, a.ref, coalesce(b.balance, 0), b.last_out, b.last_in
        FROM bench_acc a LEFT JOIN ({_FLOWS}) b ON b.account_id = a.id""",
    "SELECT setval(pg_get_serial_sequence('accounts', 'id'), (SELECT max(id) FROM accounts))",
    "DROP TABLE bench_pay, bench_arr, bench_calloc, bench_cityalloc, bench_approp, bench_acc, bench_transfers",
    "SET session_replication_role = DEFAULT",
]
# The load's own check: the ledger balances (every account = the sum of its moves, none but a budget below 0) and
# each account's last outflow is the latest of its transfers out.
CHECK = f"""
    SELECT count(*) FILTER (WHERE a.balance_fen <> coalesce(m.balance, 0)) AS unbalanced,
           count(*) FILTER (WHERE a.kind <> 'budget' AND a.balance_fen < 0) AS negative,
           count(*) FILTER (WHERE a.last_out_on IS DISTINCT FROM m.last_out) AS last_out_wrong,
           count(*) FILTER (WHERE a.last_in_on IS DISTINCT FROM m.last_in) AS last_in_wrong, count(*) AS accounts
    FROM accounts a LEFT JOIN ({_FLOWS}) m ON m.account_id = a.id
"""


def sizes(scale: float) -> tuple[int, int, int]:
    """(payments, projects, rounds): the payments spread over the projects, a round of one payment each at a time."""
    payments = max(1000, round(5_000_000 * scale))
    projects = max(COUNTIES * 3, round(30_500 * scale))
    return payments, projects, math.ceil(payments / projects)


async def load(url: str, scale: float) -> dict[str, Any]:
    payments, projects, rounds = sizes(scale)
    conn = await asyncpg.connect(plain_url(url), server_settings={"search_path": "funds"})
    steps: dict[str, float] = {}
    try:
        started = time.perf_counter()
        for statement in LOAD:
            t = time.perf_counter()
            wanted = [payments, projects, rounds][:max((n for n in (1, 2, 3) if f"${n}" in statement), default=0)]
            await conn.execute(statement, *wanted)
            label = " ".join(statement.split()[:3])
            steps[label] = steps.get(label, 0.0) + round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        all_visible = await vacuumed(conn, await tables_of(conn, "funds"))
        steps["VACUUM ANALYZE"] = round(time.perf_counter() - t, 1)
        elapsed = time.perf_counter() - started
        check = dict(await conn.fetchrow(CHECK) or {})
        counts = {t: await conn.fetchval(f"SELECT count(*) FROM {t}")  # noqa: S608 (our own table names)
                  for t in ("transfer_legs", "disbursements", "accounts", "allocations")}
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
    finally:
        await conn.close()
    assert check["unbalanced"] == check["negative"] == check["last_out_wrong"] == check["last_in_wrong"] == 0, check
    return {"scale": scale, "projects": projects, **counts, "load_s": round(elapsed, 1), "database_size": size,
            "ledger_check": check, "all_visible": all_visible}


class StandInRegistry:
    """Answers `POST /internal/households/eligibility`: every household eligible, after `delay` seconds a call; and
    `POST /internal/households/changed` (INELIGIBLE_PAYEE's incremental run): `changed`, at once."""

    name = "registry"
    post_items = ServiceClient.post_items

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls = 0
        self.items = 0
        self.changed_calls = 0
        self.changed: list[str] = []  # the households it says changed (none until a bench step says so)

    async def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> httpx.Response:
        if path == "/internal/households/changed":
            self.changed_calls += 1
            return httpx.Response(200, json={"items": sorted(self.changed), "next_after": None, "read_from": 1})
        assert method == "POST" and path == "/internal/households/eligibility" and len(json["items"]) <= 1000
        self.calls += 1
        self.items += len(json["items"])
        await asyncio.sleep(self.delay)
        return httpx.Response(200, json={"items": [
            {"household_id": q["household_id"], "on": q["on"], "registered": True, "status": "poor",
             "village_cadre": False, "eligible": True, "reasons": []} for q in json["items"]]})


class StandInGateway:
    """Answers `POST /internal/organisations/first-of-regions` (rule O13: the finance bureau of each region, a page
    of regions a call): none registered, as on a province loaded without organisations, so the money-held alerts
    name none; counts the calls."""

    name = "gateway"
    get_json = ServiceClient.get_json

    def __init__(self) -> None:
        self.calls = 0

    async def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> httpx.Response:
        assert method == "POST" and path == "/internal/organisations/first-of-regions", path
        self.calls += 1
        return httpx.Response(200, json={"items": [], "missing": list((json or {}).get("region_codes", []))})


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def timed(label: str, results: dict[str, Any], action: Callable[[], Awaitable[Any]],
                describe: Callable[[Any], dict[str, Any]]) -> None:
    started = time.perf_counter()
    rss = peak_rss_mib()
    try:
        found = await action()
    except Exception as exc:  # a cancelled statement (statement_timeout) is a figure too
        results[label] = {"seconds": round(time.perf_counter() - started, 2), "failed": type(exc).__name__ + ": "
                          + str(exc).splitlines()[0][:160]}
        return
    results[label] = {"seconds": round(time.perf_counter() - started, 3), **describe(found),
                      "peak_rss_added_mib": round(peak_rss_mib() - rss, 1)}


async def measure(url: str, *, timeout_s: float, registry_ms: float, repeat: int) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = url
    os.environ["FUNDTRACK_DB_ROLES"] = "0"
    from sqlalchemy import text

    from services.funds import detectors, reports, trace
    from services.kernel.alerts import DetectorContext
    from services.kernel.db import create_engine, session_factory
    from services.kernel.identity import Principal
    from services.kernel.settings import Settings

    engine = create_engine("funds", url=url, pool_size=2)
    sessions = session_factory(engine)
    registry = StandInRegistry(registry_ms / 1000)
    gateway = StandInGateway()
    state = SimpleNamespace(clients={"registry": registry, "gateway": gateway}, settings=Settings())
    idle_days = int(state.settings.idle_funds_days)
    results: dict[str, Any] = {}
    limit = f"SET statement_timeout = {int(timeout_s * 1000)}"
    try:
        async with sessions() as session:
            await session.execute(text(limit))
            for label, sql in (("raw_read_all_transfer_legs", "SELECT count(*), sum(amount_fen) FROM transfer_legs"),
                               ("raw_read_all_disbursements", "SELECT count(*), sum(amount_fen) FROM disbursements")):
                await timed(label, results, lambda sql=sql: session.execute(text(sql)),  # type: ignore[misc]
                            lambda r: {"rows": int(r.one()[0])})
            allocation = (await session.execute(text(
                "SELECT id FROM allocations WHERE from_region = '430000' AND to_region = '430100' "
                "AND fund_source = 'C01' AND fiscal_year = 2024"))).scalar_one()
            assert allocation == ALLOCATION, allocation
        for run in range(repeat):
            suffix = "" if run == 0 else f" (run {run + 1})"
            for label, prefix in (("progress county 430101", "430101"), ("progress city 430100", "4301"),
                                  ("progress province 430000", "43")):
                async with sessions() as session:
                    await session.execute(text(limit))
                    await timed(label + suffix, results, lambda s=session, p=prefix: reports.progress(  # type: ignore
                        s, prefix=p, as_of=AS_OF, idle_days=idle_days), lambda items: {"counties": len(items)})
            async with sessions() as session:
                await session.execute(text(limit))
                await timed("growth province 430000" + suffix, results,
                            lambda s=session: reports.growth(s, prefix="43", fiscal_year=2026),  # type: ignore
                            lambda rows: {"rows": len(rows)})
        async with sessions() as session:
            await session.execute(text(limit))
            principal = Principal(id="bench", role="admin", region_code="430000")

            async def traced() -> dict[str, Any]:
                """Every page of the trace, one after the other, as a client following next_cursor would."""
                cursor, pages, hops, biggest, times = None, 0, 0, 0, []
                while True:
                    started = time.perf_counter()
                    answer = await trace.trace(session, principal=principal, allocation_id=allocation,
                                               project_id=None, household_id=None, cursor=cursor)
                    times.append(time.perf_counter() - started)
                    pages += 1
                    hops += sum(len(answer[k]) for k in ("upstream", "movements", "downstream"))
                    biggest = max(biggest, len(json.dumps(answer, ensure_ascii=False)))
                    cursor = answer["next_cursor"]
                    if cursor is None:
                        return {"pages": pages, "hops": hops, "largest_page_bytes": biggest,
                                "first_page_s": round(times[0], 3), "slowest_page_s": round(max(times), 3),
                                "p95_page_s": round(sorted(times)[int(len(times) * 0.95)], 3)}

            await timed(TRACE, results, traced, lambda figures: figures)
        scan: dict[str, Any] = {}
        async with sessions() as session:  # a --reuse database's earlier runs: INELIGIBLE_PAYEE's is a full one here
            await session.execute(text("DELETE FROM detector_marks"))
            await session.commit()
        for name, detector in detectors.registry.detectors.items():
            async with sessions() as session:
                await session.execute(text(limit))
                ctx = DetectorContext(session=session, as_of=AS_OF, state=state)
                await timed(name, scan, lambda d=detector, c=ctx: d(c),  # type: ignore[misc]
                            lambda found: {"alerts": len(found)})
        scan["total_seconds"] = round(sum(v["seconds"] for v in scan.values()), 1)
        scan["registry_calls"] = registry.calls
        scan["gateway_calls"] = gateway.calls
        scan["registry_items"] = registry.items
        results["detectors"] = scan
        # the incremental detectors (issue #20, docs/rules.md D1): INELIGIBLE_PAYEE (F10), DUPLICATE_PAYMENT (F8)
        results["ineligible_payee_incremental"] = await incremental_runs(
            sessions, limit, state, detectors.ineligible_payee, CHANGED_HOUSEHOLDS)
        results["ineligible_payee_incremental"]["changed_calls"] = registry.changed_calls
        results["duplicate_payment_incremental"] = await incremental_runs(
            sessions, limit, state, detectors.duplicate_payment, 0)
    finally:
        await engine.dispose()
    return results


async def incremental_runs(sessions: Any, limit: str, state: Any, detector: Any, changed: int) -> dict[str, Any]:
    """An incremental detector's runs (docs/rules.md D1): a first one with no mark (full) kept; the next one as of the
    same day (nothing recorded since); then the next night's, as of the next day, after a day's payments (copies of
    recent household payments, paid the next day: each repeats the one it copies, DUPLICATE_PAYMENT) and `changed`
    households the stand-in registry says changed, in a transaction rolled back (the database is left as loaded).
    Each with the rows it read of the payments and reversals (pg_stat_xact_user_tables: the leader's only, not those
    a parallel worker read, so a full run's figure is short of what it read)."""
    from sqlalchemy import text

    from services.kernel.alerts import DetectorContext

    registry = state.clients["registry"]
    rows_read = text("SELECT relname, seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables "
                     "WHERE relname IN ('disbursements', 'reversals')")
    runs: dict[str, Any] = {}
    next_day = f"next day's run, {DAY_PAYMENTS} payments" + (f" and {changed} households" if changed else "")
    steps = (("first run (full), its mark kept", AS_OF, False), ("next run, nothing new (incremental)", AS_OF, False),
             (f"{next_day} changed (incremental)", AS_OF + timedelta(days=1), True))
    for label, as_of, tomorrow in steps:
        calls, recorded = registry.calls, 0
        async with sessions() as session:
            await session.execute(text(limit))
            if tomorrow:
                await session.execute(text(NEXT_DAY_PAYMENTS), {"on": AS_OF, "next": as_of, "n": DAY_PAYMENTS})
                recorded = (await session.execute(text(
                    "SELECT count(*) FROM disbursements WHERE paid_on = :next"), {"next": as_of})).scalar_one()
                registry.changed = list((await session.execute(text(
                    "SELECT payee_id FROM disbursements WHERE payee_kind = 'household' GROUP BY payee_id "
                    "ORDER BY md5(payee_id) LIMIT :n"), {"n": changed})).scalars())
            before = dict((await session.execute(rows_read)).tuples().all())
            ctx = DetectorContext(session=session, as_of=as_of, state=state)
            await timed(label, runs, lambda c=ctx: detector(c),  # type: ignore[misc]
                        lambda found: {"alerts": len(found)})
            after = dict((await session.execute(rows_read)).tuples().all())
            await (session.rollback() if tomorrow else session.commit())
        runs[label].update(eligibility_calls=registry.calls - calls, payments_recorded=recorded,
                           rows_read={t: int(n) - int(before.get(t, 0)) for t, n in after.items()})
        registry.changed = []
    return runs


def reads() -> list[Read]:
    """Every GET route of the funds service in API.md and docs/api.md, by the jurisdiction that fits it: the
    province (430000), its first city (430100), that city's first county (430101, where prj0 and hh0_* are)."""
    finance, inspector, city, county, day = "finance", "inspector", "430100", "430101", f"as_of={AS_OF.isoformat()}"
    report, trace_page = 1000, 300
    return [
        Read("sources", finance, PROVINCE, "/funds/sources"),
        Read("a source", finance, PROVINCE, "/funds/sources/C01"),
        Read("a source's scopes by year", finance, PROVINCE, "/funds/sources/C01/scopes"),
        Read("counties (the province's)", finance, PROVINCE, "/funds/counties"),
        Read("allocations, province, first page", finance, PROVINCE, "/funds/allocations?limit=50"),
        Read("allocations, province, a later page", finance, PROVINCE, "/funds/allocations?limit=50", pages=10),
        Read("allocations out of a city", finance, city, f"/funds/allocations?from_region={city}"),
        Read("allocations into a county", finance, county, f"/funds/allocations?to_region={county}"),
        Read("allocations of a fund and year", inspector, PROVINCE,
             "/funds/allocations?fund_source=C01&fiscal_year=2024"),
        Read("an allocation", finance, PROVINCE, f"/funds/allocations/{ALLOCATION}"),
        Read("balances, county, first page", finance, county, f"/funds/balances?region={county}"),
        Read("balances, county, a later page", finance, county, f"/funds/balances?region={county}", pages=10),
        Read("balances, city, first page", finance, city, f"/funds/balances?region={city}"),
        Read("balances, province, first page", finance, PROVINCE, "/funds/balances"),
        Read("subsidy standards of a county", finance, county, f"/funds/subsidy-standards?county={county}"),
        Read("plans of a county", finance, county, f"/funds/plans?county={county}&year=2026"),
        Read("plans of the province", inspector, PROVINCE, "/funds/plans"),
        Read("a plan (none in the data: 404)", finance, PROVINCE, "/funds/plans/pln_none", expect=404),
        Read("an obligation (none in the data: 404)", finance, PROVINCE, "/funds/obligations/F17", expect=404),
        Read("public allocations of a county, first page", "", "", f"/public/allocations?county={county}"),
        Read("public allocations of a county, a later page", "", "", f"/public/allocations?county={county}",
             pages=2),
        Read("report: growth, province", finance, PROVINCE,
             f"/funds/reports/growth?province={PROVINCE}&fiscal_year=2026", report,
             in_process="growth province 430000"),
        Read("report: progress, county", finance, county, f"/funds/reports/progress?region={county}&{day}", report,
             in_process="progress county 430101"),
        Read("report: progress, city", finance, city, f"/funds/reports/progress?region={city}&{day}", report,
             in_process="progress city 430100"),
        Read("report: progress, province", finance, PROVINCE, f"/funds/reports/progress?region={PROVINCE}&{day}",
             report, in_process="progress province 430000"),
        Read("report: plan execution, county", finance, county,
             f"/funds/reports/plan-execution?county={county}&year=2026", report),
        Read("report: input, county", finance, county, f"/funds/reports/input?region={county}&year=2026", report),
        Read("report: input, province", finance, PROVINCE, f"/funds/reports/input?region={PROVINCE}&year=2026",
             report),
        Read("trace of a province → city allocation, first page", inspector, PROVINCE,
             f"/funds/trace?allocation_id={ALLOCATION}", trace_page, in_process=TRACE),
        Read("trace of a project, first page", inspector, PROVINCE, "/funds/trace?project_id=prj0", trace_page),
        Read("trace of a household, first page", inspector, PROVINCE, "/funds/trace?household_id=hh0_1", trace_page),
    ]


def in_process_figure(results: dict[str, Any], label: str) -> str:
    """The same work timed in-process above (each run, in ms), or '' when it was not."""
    runs = [v for k, v in results.items() if k == label or k.startswith(label + " (run ")]
    if label == TRACE and runs:
        return f"first page {runs[0]['first_page_s'] * 1000:.0f}, p95 page {runs[0]['p95_page_s'] * 1000:.0f}"
    return " / ".join(f"{run['seconds'] * 1000:.0f}" for run in runs if "seconds" in run)


async def create() -> TestDatabase:
    return await create_test_database(workdir())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 5,000,000 payments")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a step may run (statement_timeout)")
    parser.add_argument("--registry-ms", type=float, default=50.0, help="the stand-in registry's time per call")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each report (the first reads a cold cache)")
    parser.add_argument("--gateway-repeat", type=int, default=100, help="timed requests of each route, after one")
    parser.add_argument("--gateway-only", action="store_true", help="no in-process phase: the routes only")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (and print its URL)")
    parser.add_argument("--reuse", help="measure only, on a database a --keep run left (migrated to the head first)")
    args = parser.parse_args()

    def measure_all(database: TestDatabase) -> dict[str, Any]:
        results = {} if args.gateway_only else asyncio.run(measure(
            database.url, timeout_s=args.timeout, registry_ms=args.registry_ms, repeat=args.repeat))
        with stack_on(database) as stack:
            routes = asyncio.run(measure_gateway(stack, reads(), repeat=args.gateway_repeat,
                                                 in_process=functools.partial(in_process_figure, results)))
        print(table(routes), file=sys.stderr)
        return {"as_of": AS_OF.isoformat(), "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()[0]},
                **results, "gateway": routes}

    if args.reuse:
        migrate(args.reuse)
        print(json.dumps(measure_all(kept_database(args.reuse)), ensure_ascii=False, indent=1))
        return
    database = asyncio.run(create())
    kept = False
    try:
        migrate(database.url)
        loaded = asyncio.run(load(database.url, args.scale))
        print(json.dumps({"loaded": loaded}, ensure_ascii=False), flush=True)
        print(json.dumps(measure_all(database), ensure_ascii=False, indent=1))
        if args.keep:
            print(json.dumps({"kept": database.url}))
            kept = True
    finally:
        if not kept:
            asyncio.run(database.drop())
            shutil.rmtree(workdir(), ignore_errors=True)


if __name__ == "__main__":
    main()
