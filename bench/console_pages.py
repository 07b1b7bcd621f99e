"""Benchmark: the console's pages at a province's size (issue #19 point 5: "pages that load in under 300 ms on this
machine with a province's data").

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.console_pages [--scale 1]

Builds the funds of a Hunan-sized province in a throwaway database (bench/province_funds.py `load`: at `--scale 1`
5,000,000 payments, 30,500 projects, 3 million accounts; the ledger checked), starts the whole system on it
(tests/stack.py), makes one person per desk through the admin API, signs each in through the console's own form,
then times each page as the browser asks for it (the HTML, server-rendered: the API calls it makes through the door
included), `--repeat` times, printing p50/p95/max per page. Beside each page, in the same run: the public API call
the page is built on, by a key (what the page adds is the difference), and the raw-PostgreSQL baseline of the rows
the page shows (one SELECT of them on a plain connection).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from bench.province_funds import load
from bench.through_gateway import issue_key, stack_on, timed
from deploy.migrate import migrate
from services.kernel.db import plain_url
from tests.stack import TestDatabase, create_test_database, workdir

PASSWORD = "bench password 12345"
PRE_FIELD = re.compile(r'name="pre" value="([^"]*)"')


@dataclass(frozen=True)
class Case:
    label: str
    role: str
    region: str
    page: str  # the console page (path and query)
    api: str  # the public API call it is built on
    raw: str  # the raw SQL of the rows it shows (schema-qualified)


def cases(allocation: str) -> list[Case]:
    return [
        Case("home", "finance", "430000", "/console/", "/funds/balances?region=430101", "SELECT 1"),
        Case("allocations of a county", "finance", "430000", "/console/allocations?county=430101",
             "/funds/allocations?to_region=430101&limit=50",
             "SELECT * FROM funds.allocations WHERE to_region = '430101' ORDER BY id LIMIT 50"),
        Case("allocations of the province", "finance", "430000", "/console/allocations",
             "/funds/allocations?limit=50", "SELECT * FROM funds.allocations ORDER BY id LIMIT 50"),
        Case("reports (growth, progress)", "finance", "430000", "/console/reports",
             "/funds/reports/progress?region=430000", "SELECT count(*) FROM funds.counties"),
        Case("fund flow of a province → city allocation", "inspector", "430000",
             f"/console/trace?allocation_id={allocation}", f"/funds/trace?allocation_id={allocation}",
             f"SELECT * FROM funds.transfer_legs WHERE record_id = '{allocation}'"),
        Case("alerts", "inspector", "430000", "/console/alerts", "/alerts?limit=50",
             "SELECT * FROM gateway.alerts ORDER BY id DESC LIMIT 50"),
        Case("audit trail", "inspector", "430000", "/console/audit", "/audit?limit=50",
             "SELECT * FROM gateway.audit_log ORDER BY seq DESC LIMIT 50"),
        Case("project library", "inspector", "430000", "/console/projects", "/projects?limit=50",
             "SELECT * FROM projects.projects ORDER BY id LIMIT 50"),
    ]


async def sign_in(client: httpx.AsyncClient, login: str) -> None:
    form = await client.get("/console/login")
    pre = PRE_FIELD.search(form.text)
    assert pre is not None, form.text[:300]
    answer = await client.post("/console/login", data={"login": login, "password": PASSWORD, "pre": pre.group(1)})
    assert answer.status_code == 303, answer.text[:300]


async def measure(stack_url: str, admin_token: str, db_url: str, repeat: int) -> list[dict[str, Any]]:
    admin = {"authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=stack_url, timeout=120) as keyed:
        conn = await asyncpg.connect(plain_url(db_url))
        try:
            allocation = await conn.fetchval(
                "SELECT id FROM funds.allocations WHERE from_region = '430000' AND to_region = '430100' "
                "AND fund_source = 'C01' AND fiscal_year = 2024")
            people: dict[tuple[str, str], httpx.AsyncClient] = {}
            keys: dict[tuple[str, str], str] = {}
            rows = []
            for case in cases(str(allocation)):
                who = (case.role, case.region)
                if who not in people:
                    login = f"bench-{case.role[:4]}-{len(people)}-{os.getpid()}"
                    made = await keyed.post("/admin/users", headers=admin, json={
                        "login": login, "password": PASSWORD, "name": login, "role": case.role,
                        "region_code": case.region})
                    assert made.status_code == 201, made.text
                    people[who] = httpx.AsyncClient(base_url=stack_url, timeout=120)
                    await sign_in(people[who], login)
                    keys[who] = await issue_key(keyed, admin_token, name=login + "-key", role=case.role,
                                                region=case.region)
                page = await timed(people[who], case.page, repeat)
                api = await timed(keyed, case.api, repeat, headers={"authorization": f"Bearer {keys[who]}"})
                raw_ms = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    await conn.fetch(case.raw)
                    raw_ms.append((time.perf_counter() - started) * 1000)
                rows.append({"page": case.label, "path": case.page, **{f"page_{k}": v for k, v in page.items()},
                             **{f"api_{k}": v for k, v in api.items()},
                             "raw_p50_ms": round(statistics.median(raw_ms), 2)})
                print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr, flush=True)
            for client in people.values():
                await client.aclose()
            return rows
        finally:
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 5,000,000 payments (bench/province_funds.py)")
    parser.add_argument("--repeat", type=int, default=20, help="requests of each page")
    args = parser.parse_args()
    database: TestDatabase = asyncio.run(create_test_database(workdir()))
    try:
        migrate(database.url)
        loaded = asyncio.run(load(database.url, args.scale))
        print(json.dumps({"loaded": loaded}, ensure_ascii=False), flush=True)
        with stack_on(database) as stack:
            rows = asyncio.run(measure(stack.gateway_url, stack.admin_token, database.url, args.repeat))
        table = ["| page | status | page p50 / p95 / max ms | its API call p50 / p95 ms | raw PostgreSQL p50 ms |",
                 "|---|---|---|---|---|"]
        table += [f"| {row['page']} | {row['page_status']} | {row['page_p50_ms']} / {row['page_p95_ms']} / "
                  f"{row['page_max_ms']} | {row['api_p50_ms']} / {row['api_p95_ms']} | {row['raw_p50_ms']} |"
                  for row in rows]
        print("\n".join(table), file=sys.stderr)
        print(json.dumps({"pages": rows, "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()[0]}},
                         ensure_ascii=False, indent=1))
    finally:
        asyncio.run(database.drop())
        shutil.rmtree(workdir(), ignore_errors=True)


if __name__ == "__main__":
    main()
