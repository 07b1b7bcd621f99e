"""What asking the projects service a page of ids at once saves (issue #20, the N+1 remote calls): the categories of
N projects as the funds service asked them before (one GET /internal/projects/{id} per project, 8 in flight) and as
it asks them now (POST /internal/projects/lookup, a page of 1,000 a call), against the raw PostgreSQL baseline (the
same rows read by id on one asyncpg connection, a page of 1,000 a statement). And the finance bureaus of R regions
(O13) from the gateway: one GET per region (8 in flight) before, one POST per page of 1,000 regions now (every
other region has one).

    .venv/bin/python -m bench.remote_calls [--projects 30000] [--regions 126] [--repeat 3]

The projects are INSERTed straight into the projects schema (generate_series, a county per 250 projects); the
stack is started on a throwaway database and dropped at the end. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from deploy.supervisor import stop_all
from services.funds import clients
from services.funds.clients import Gateway, Projects
from services.kernel.db import plain_url
from services.kernel.http import ServiceClient
from services.kernel.settings import get_settings
from tests.stack import create_test_database, start_stack, workdir

PAGE = 1000
PER_COUNTY = 250
OLD_CONCURRENCY = 8  # what funds' PROJECT_CONCURRENCY and BUREAU_CONCURRENCY were

PROJECTS = """
INSERT INTO projects.projects (id, county_code, village_code, name, category, budget_fen, start_on, end_on,
    beneficiary_household_ids, benefit_mechanism, performance_targets, fund_sources, responsible_unit, status,
    created_by)
SELECT 'prj_bench_' || lpad(n::text, 8, '0'), c, c || '001001', 'bench ' || n,
       CASE WHEN n % 2 = 0 THEN 'industry' ELSE 'education' END, 1000000, DATE '2024-01-01', DATE '2024-12-31',
       ARRAY[]::text[], 'bench', '[]'::jsonb, '[]'::jsonb, 'bench', 'approved', 'bench'
FROM generate_series(0, $1 - 1) AS n,
     LATERAL (SELECT '43' || lpad((1 + n / $2 / 20)::text, 2, '0') || lpad((1 + n / $2 % 20)::text, 2, '0') AS c) AS k
"""


# a finance bureau for every other region (and a poverty office for each, which is not one)
BUREAUS = """
INSERT INTO gateway.organisations (id, name, kind, region_code, created_by)
SELECT 'org_bench_' || k || '_' || n, k || ' ' || n, k, '43' || lpad((1 + n / 20)::text, 2, '0')
       || lpad((1 + n % 20)::text, 2, '0'), 'bench'
FROM generate_series(0, $1 - 1) AS n, unnest(ARRAY['finance_bureau', 'poverty_office']) AS k
WHERE n % 2 = 0 OR k = 'poverty_office'
"""


def region_codes(count: int) -> list[str]:
    return [f"43{1 + n // 20:02d}{1 + n % 20:02d}" for n in range(count)]


def project_ids(count: int) -> list[str]:
    return [f"prj_bench_{n:08d}" for n in range(count)]


async def timed(repeat: int, step: Callable[[], Awaitable[int]]) -> dict[str, Any]:
    """Seconds of each run (its answer's size checked by the caller), and the calls the last run sent."""
    seconds, found = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        found = await step()
        seconds.append(time.perf_counter() - started)
    return {"seconds": [round(s, 4) for s in seconds], "median_s": round(statistics.median(seconds), 4),
            "found": found}


async def projects_figures(url: str, client: ServiceClient, count: int, repeat: int) -> dict[str, Any]:
    ids = project_ids(count)
    asking = Projects(client)
    gate = asyncio.Semaphore(OLD_CONCURRENCY)

    async def one(project_id: str) -> dict[str, Any] | None:
        async with gate:
            return dict(await asking.get_project(project_id) or {}) or None

    async def before() -> int:
        return sum(p is not None for p in await asyncio.gather(*(one(i) for i in ids)))

    async def now() -> int:
        return len(await asking.projects_in("430000", ids))

    connection = await asyncpg.connect(plain_url(url))

    async def raw() -> int:
        found = 0
        for start in range(0, len(ids), PAGE):
            rows = await connection.fetch(
                "SELECT id, county_code, village_code, name, category, status, budget_fen FROM projects.projects "
                "WHERE id = ANY($1::text[]) AND county_code LIKE '43%'", ids[start:start + PAGE])
            found += len(rows)
        return found

    figures: dict[str, Any] = {}
    try:
        for name, step in (("one GET per project, 8 in flight (before)", before),
                           ("POST /internal/projects/lookup, 1,000 a call (now)", now),
                           ("raw PostgreSQL, 1,000 ids a statement", raw)):
            client.calls.clear()
            figures[name] = {**await timed(repeat, step), "calls_per_run": sum(client.calls.values()) // repeat}
    finally:
        await connection.close()
    return figures


async def bureau_figures(client: ServiceClient, regions: int, repeat: int) -> dict[str, Any]:
    codes = region_codes(regions)
    asking = Gateway(client)
    gate = asyncio.Semaphore(OLD_CONCURRENCY)

    async def one(code: str) -> str | None:
        async with gate:
            clients._bureaus.clear()  # nothing kept: every region asked, as a first scan of the day
            return await asking.finance_bureau(code)

    async def before() -> int:
        return sum(b is not None for b in await asyncio.gather(*(one(c) for c in codes)))

    async def now() -> int:
        clients._bureaus.clear()
        return sum(b is not None for b in (await asking.finance_bureaus(codes)).values())

    figures: dict[str, Any] = {}
    for name, step in (("one GET per region, 8 in flight (before)", before),
                       ("POST /internal/organisations/first-of-regions (now)", now)):
        client.calls.clear()
        figures[name] = {**await timed(repeat, step), "calls_per_run": sum(client.calls.values()) // repeat}
    return figures


async def main(count: int, regions: int, repeat: int) -> None:
    directory = workdir()
    database = await create_test_database(directory)
    stack = await asyncio.to_thread(start_stack, database, directory, pool_fraction=1.0)
    os.environ["FUNDTRACK_SERVICE_SECRET"] = stack.secret  # this process signs as the funds service does
    get_settings.cache_clear()
    projects = ServiceClient("projects", stack.service_urls["projects"], caller="funds")
    gateway = ServiceClient("gateway", stack.gateway_url, caller="funds")
    try:
        connection = await asyncpg.connect(plain_url(database.url))
        try:
            await connection.execute(PROJECTS, count, PER_COUNTY)
            await connection.execute(BUREAUS, regions)
            await connection.execute("ANALYZE projects.projects")
        finally:
            await connection.close()
        results = {
            "projects": count,
            "lookup": await projects_figures(database.url, projects, count, repeat),
            "regions": regions,
            "bureaus": await bureau_figures(gateway, regions, repeat),
            "load_average": round(os.getloadavg()[0], 1),
        }
        print(json.dumps(results, indent=2, ensure_ascii=False))
    finally:
        await projects.aclose()
        await gateway.aclose()
        stop_all(stack.children)
        await database.drop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=30_000)
    parser.add_argument("--regions", type=int, default=126)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.projects, args.regions, args.repeat))
