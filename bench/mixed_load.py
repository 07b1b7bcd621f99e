"""Benchmark (issue #14, "Load"): a mixed workload through the gateway for `--seconds` (default 600): ~80 % reads,
~20 % writes, across funds, projects, registry, loans, alerts and audit, every write with an Idempotency-Key.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.mixed_load [--seconds 600]

How: a throwaway database, migrated; the four services and the gateway as real processes (tests/stack.py, as
`fundtrack up` starts them); seeded through the gateway as its users would (fund source, a province with a city and
four counties, principals of each role, households imported into the registry, appropriations and allocations,
approved projects with money arranged to them, loans); then `--clients` closed-loop clients (bench/load.py's
manner: each sends its next request as soon as the last one answered) draw requests from the mix below.

What it prints (JSON): per route the count, p50/p95/p99 and errors; throughput; the expected refusals, counted apart
(a write sent again with its key and another body: 409 IDEMPOTENCY_CONFLICT; sent again with the same body: the
first answer again); every process's RSS (the stack's processes and their uvicorn workers: psutil) at the start,
every minute and at the end; and the raw-PostgreSQL baseline: the same reads as SQL on the same data, by as many
connections as there are clients. An error is any answer the workload did not expect (any non-2xx but the
expected refusals, or a 2xx replay that differs from the first answer). Exit 1 when there was an error, or when a
process's RSS grew by more than RSS_GROWTH_BOUND_MIB from the end of the warm-up to the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import aiohttp
import asyncpg
import httpx
import psutil

from bench.load import run_fast
from deploy.supervisor import stop_all
from services.kernel.db import plain_url
from tests.conftest import Api
from tests.funds.world import doc, put_county, put_source
from tests.loans.helpers import id_number, loan_body
from tests.projects.factory import HAPPY_PATH, HEADER, action_body, project_body, village_of
from tests.stack import Stack, create_test_database, start_stack, workdir

# A process whose RSS grows by more than this from the end of the warm-up to the end of the run fails the run.
RSS_GROWTH_BOUND_MIB = 32.0
PROVINCE, CITY = "430000", "430100"
COUNTIES = ["430121", "430122", "430123", "430124"]
SOURCE = "LOADC01"
MIB = 2**20


@dataclass
class County:
    code: str
    finance: Api
    pm: Api
    lender: Api
    households: list[dict[str, str]]  # on the roster since 2014, poor
    fresh: list[dict[str, str]]  # not yet borrowed from: one loan each (L4)
    projects: list[str]  # approved, money arranged to them
    drafts: list[str] = field(default_factory=list)
    loans: list[str] = field(default_factory=list)
    allocations: list[str] = field(default_factory=list)


@dataclass
class World:
    admin: Api
    finance: Api  # the province's
    inspector: Api  # the province's
    counties: list[County]
    without: set[str] = field(default_factory=set)  # read routes taken out of the mix (--without)
    # JSON writes answered: the request, its status and its answer
    sent: list[tuple[Request, int, Any]] = field(default_factory=list)


def _households(county: str, n: int, first: int) -> list[dict[str, str]]:
    return [{"household_id": f"hh-load-{county}-{first + i:06d}",
             "head_id_number": id_number(county, date(1980, 1, 1), (first + i) % 1000),
             "head_name": f"户主{first + i}", "county_code": county, "village_code": village_of(county),
             "status": "poor", "members": "3", "village_cadre": "0", "card_account": f"6217{county}{first + i:09d}"}
            for i in range(n)]


def _csv(rows: list[dict[str, str]]) -> bytes:
    return ("\n".join([HEADER, *(",".join(r.values()) for r in rows)]) + "\n").encode()


def _ok(response: httpx.Response, *status: int) -> Any:
    assert response.status_code in status, (response.request.url, response.status_code, response.text[:500])
    return response.json()


async def seed(stack: Stack, client: httpx.AsyncClient, households: int) -> World:
    """The province, its counties and their users, rosters, money, projects and loans, through the gateway."""
    admin = Api(client, stack.admin_token, "admin", "admin", "000000")

    async def principal(role: str, region: str) -> Api:
        made = _ok(await admin.post("/admin/principals", json={"name": f"load-{role}-{region}-{uuid.uuid4().hex[:4]}",
                                                                "role": role, "region_code": region}), 201)
        return Api(client, made["api_key"], made["id"], role, region)

    await put_source(admin, SOURCE, integrable=True)
    finance, inspector = await principal("finance", PROVINCE), await principal("inspector", PROVINCE)
    _ok(await finance.post("/funds/appropriations", json={
        "fund_source": SOURCE, "fiscal_year": 2018, "region_code": PROVINCE, "amount_fen": 10**14,
        "doc_no": doc(), "appropriated_on": "2018-01-10"}), 201)
    counties = []
    for code in COUNTIES:
        await put_county(admin, code, poor=True, pilot=True)
        rows = _households(code, households, 0)
        _ok(await admin.post("/registry/households/import", content=_csv(rows), params={"effective_on": "2014-01-01"},
                             headers={"content-type": "text/csv"}), 200)
        county = County(code, await principal("finance", code), await principal("project_manager", code),
                        await principal("lender", code), rows[:50], rows[50:], [])
        allocated = _ok(await finance.post("/funds/allocations", json={
            "fund_source": SOURCE, "fiscal_year": 2018, "from_region": PROVINCE, "to_region": code,
            "amount_fen": 10**12, "doc_no": doc(), "issued_on": "2018-02-01"}), 201)
        county.allocations.append(allocated["id"])
        for _ in range(3):
            body = project_body(code, [h["household_id"] for h in county.households[:5]], budget_fen=10**11)
            project = _ok(await county.pm.post("/projects", json=body), 201)["id"]
            for action in HAPPY_PATH[:5]:  # to in_progress
                _ok(await county.pm.post(f"/projects/{project}/{action}", json=action_body(action)), 200)
            _ok(await county.finance.post("/funds/arrangements", json={
                "county_code": code, "project_id": project, "amount_fen": 10**10}), 201)
            county.projects.append(project)
        for _ in range(5):
            household = county.fresh.pop()
            loan = _ok(await county.lender.post("/loans", json=loan_body(
                household["household_id"], household["head_id_number"])), 201)
            county.loans.append(loan["id"])
        counties.append(county)
    return World(admin, finance, inspector, counties)


# --- the mix -----------------------------------------------------------------------------------------------------

@dataclass
class Request:
    route: str  # the route's template: what the figures are grouped by
    api: Api
    method: str
    path: str
    params: dict[str, str] | None = None
    json: Any = None
    content: bytes | None = None
    content_type: str = "application/json"
    expect: tuple[int, ...] = (200,)
    key: str | None = None
    refusal: bool = False  # an expected refusal (counted apart)
    replay_of: Any = None  # the first answer (its JSON) this one must repeat
    on_done: Callable[[Any], None] | None = None


Build = Callable[[World, random.Random], Request | None]


def _county(w: World, r: random.Random) -> County:
    return r.choice(w.counties)


def _write(route: str, api: Api, path: str, body: Any, expect: int, **kw: Any) -> Request:
    return Request(route, api, "POST", path, json=body, expect=(expect,), key=uuid.uuid4().hex, **kw)


def read_ops() -> list[tuple[float, Build]]:
    def get(route: str, pick: Callable[[World, random.Random], tuple[Api, str, dict[str, str] | None]]) -> Build:
        def build(w: World, r: random.Random) -> Request | None:
            if route in w.without:
                return None
            api, path, params = pick(w, r)
            return Request(route, api, "GET", path, params=params)
        return build

    return [
        (6, get("GET /funds/sources", lambda w, r: (_county(w, r).finance, "/funds/sources", None))),
        (6, get("GET /funds/allocations", lambda w, r: (w.finance, "/funds/allocations",
                                                        {"to_region": _county(w, r).code, "limit": "20"}))),
        (4, get("GET /funds/allocations/{id}", lambda w, r: (w.inspector, "/funds/allocations/"
                                                            + r.choice(_county(w, r).allocations), None))),
        (6, get("GET /funds/balances", lambda w, r: (w.inspector, "/funds/balances",
                                                     {"region": _county(w, r).code}))),
        (3, get("GET /funds/reports/progress", lambda w, r: (w.finance, "/funds/reports/progress",
                                                             {"region": r.choice([CITY, _county(w, r).code])}))),
        (2, get("GET /funds/reports/growth", lambda w, r: (w.inspector, "/funds/reports/growth",
                                                           {"province": PROVINCE, "fiscal_year": "2018"}))),
        (2, get("GET /funds/trace", lambda w, r: (w.inspector, "/funds/trace",
                                                  {"project_id": r.choice(_county(w, r).projects)}))),
        (6, get("GET /projects", lambda w, r: (_county(w, r).pm, "/projects", {"limit": "20"}))),
        (5, get("GET /projects/{id}", lambda w, r: (w.inspector, "/projects/" + r.choice(_county(w, r).projects),
                                                    None))),
        (6, get("GET /registry/households", lambda w, r: (w.inspector, "/registry/households",
                                                          {"county": _county(w, r).code, "limit": "20"}))),
        (6, get("GET /registry/households/{id}", lambda w, r: (lambda c: (
            c.lender, "/registry/households/" + r.choice(c.households)["household_id"], None))(_county(w, r)))),
        (6, get("GET /loans", lambda w, r: (w.inspector, "/loans", {"county": _county(w, r).code, "limit": "20"}))),
        (6, get("GET /loans/{id}", lambda w, r: (w.inspector, "/loans/" + r.choice(_county(w, r).loans), None))),
        (3, get("GET /loans/reports/overdue", lambda w, r: (w.inspector, "/loans/reports/overdue",
                                                            {"county": _county(w, r).code}))),
        (3, get("GET /loans/{id}/subsidy", lambda w, r: (
            w.inspector, f"/loans/{r.choice(_county(w, r).loans)}/subsidy",
            {"from": "2018-03-01", "to": "2019-03-01", "rate_bp": "475"}))),
        (4, get("GET /alerts", lambda w, r: (w.inspector, "/alerts", {"limit": "20"}))),
        (3, get("GET /audit", lambda w, r: (w.inspector, "/audit", {"region": _county(w, r).code, "limit": "20"}))),
        (1, get("GET /audit/verify", lambda w, r: (w.inspector, "/audit/verify", None))),
        (2, get("GET /public/announcements", lambda w, r: (Api(w.admin.client, None), "/public/announcements",
                                                           {"county": _county(w, r).code}))),
    ]


def write_ops() -> list[tuple[float, Build]]:
    def allocation(w: World, r: random.Random) -> Request:
        c = _county(w, r)
        body = {"fund_source": SOURCE, "fiscal_year": 2018, "from_region": PROVINCE, "to_region": c.code,
                "amount_fen": r.randint(1, 10_000), "doc_no": doc(), "issued_on": "2018-02-01"}
        return _write("POST /funds/allocations", w.finance, "/funds/allocations", body, 201,
                      on_done=lambda answer: c.allocations.append(answer["id"]))

    def arrangement(w: World, r: random.Random) -> Request:
        c = _county(w, r)
        body = {"county_code": c.code, "project_id": r.choice(c.projects), "amount_fen": r.randint(1, 10_000)}
        return _write("POST /funds/arrangements", c.finance, "/funds/arrangements", body, 201)

    def disbursement(w: World, r: random.Random) -> Request:
        c = _county(w, r)
        h = r.choice(c.households)
        body = {"project_id": r.choice(c.projects), "amount_fen": r.randint(1, 10_000),
                "voucher_no": f"凭证-{uuid.uuid4().hex[:12]}", "payee": {
                    "kind": "household", "id": h["household_id"], "name": h["head_name"],
                    "account_no": h["card_account"]}, "basis": {"kind": "wages"}}
        return _write("POST /funds/disbursements", c.finance, "/funds/disbursements", body, 201)

    def new_project(w: World, r: random.Random) -> Request:
        c = _county(w, r)
        body = project_body(c.code, [h["household_id"] for h in r.sample(c.households, 3)])
        return _write("POST /projects", c.pm, "/projects", body, 201,
                      on_done=lambda answer: c.drafts.append(answer["id"]))

    def submit(w: World, r: random.Random) -> Request | None:
        c = _county(w, r)
        if not c.drafts:
            return None
        project = c.drafts.pop()
        return _write("POST /projects/{id}/submit", c.pm, f"/projects/{project}/submit", None, 200)

    def loan(w: World, r: random.Random) -> Request | None:
        c = _county(w, r)
        if not c.fresh:
            return None
        h = c.fresh.pop()
        body = loan_body(h["household_id"], h["head_id_number"], amount_fen=r.randint(100_000, 5_000_000))
        return _write("POST /loans", c.lender, "/loans", body, 201, on_done=lambda answer: c.loans.append(answer["id"]))

    def repayment(w: World, r: random.Random) -> Request:
        c = _county(w, r)
        body = {"principal_fen": r.randint(1, 100), "interest_fen": r.randint(0, 100), "paid_on": "2018-06-01"}
        return _write("POST /loans/{id}/repayments", c.lender, f"/loans/{r.choice(c.loans)}/repayments", body, 201)

    def roster(w: World, r: random.Random) -> Request:
        c = _county(w, r)
        rows = [dict(h, members=str(r.randint(1, 8))) for h in r.sample(c.households, 5)]
        return Request("POST /registry/households/import", w.admin, "POST", "/registry/households/import",
                       content=_csv(rows), content_type="text/csv", key=uuid.uuid4().hex)

    def again(same_body: bool) -> Build:
        """A write answered before, sent again with its key: the same body gets the first answer again; another
        body is refused 409 IDEMPOTENCY_CONFLICT (expected: counted apart)."""
        def build(w: World, r: random.Random) -> Request | None:
            if not w.sent:
                return None
            first, status, answer = r.choice(w.sent[-500:])
            if same_body:
                return Request("(a write again: same key, same body)", first.api, "POST", first.path,
                               json=first.json, key=first.key, expect=(status,), replay_of=answer)
            other = dict(first.json or {})
            money = next((k for k in ("amount_fen", "principal_fen") if k in other), None)
            if money is None:
                return None
            other[money] += 1
            return Request("(a write again: same key, another body)", first.api, "POST", first.path, json=other,
                           key=first.key, expect=(409,), refusal=True)
        return build

    return [(3, allocation), (3, arrangement), (4, disbursement), (2, new_project), (1, submit), (2, loan),
            (3, repayment), (1, roster), (0.5, again(True)), (0.5, again(False))]


# --- the run -----------------------------------------------------------------------------------------------------

@dataclass
class Route:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)


def _pct(ordered: list[float], q: float) -> float:
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if ordered else 0.0


def figures(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"p50_ms": _pct(ordered, 0.5), "p95_ms": _pct(ordered, 0.95), "p99_ms": _pct(ordered, 0.99),
            "max_ms": round(ordered[-1], 2) if ordered else 0.0}


def processes(stack: Stack) -> dict[str, psutil.Process]:
    """Every process of the system: each one the stack started, and the uvicorn workers under it."""
    found: dict[str, psutil.Process] = {}
    for child in stack.children:
        parent = psutil.Process(child.process.pid)
        found[child.name] = parent
        for i, worker in enumerate(sorted(parent.children(recursive=True), key=lambda p: p.pid)):
            found[f"{child.name} child {i + 1}"] = worker  # uvicorn's workers, multiprocessing's tracker
    return found


def rss_mib(procs: dict[str, psutil.Process], part: str = "rss") -> dict[str, float]:
    """Each process's RSS (MiB); `part="shared"`: the file-backed and shared pages of it (libraries' code paged in
    as it runs), the rest being the process's own memory (heap)."""
    out = {}
    for name, proc in procs.items():
        try:
            out[name] = round(getattr(proc.memory_info(), part) / MIB, 1)
        except psutil.NoSuchProcess:
            out[name] = -1.0  # gone: a death, which the errors will show too
    return out


async def drive(w: World, gateway: str, seconds: float, clients: int, stack: Stack) -> dict[str, Any]:
    reads, writes = read_ops(), write_ops()
    read_weight, write_weight = sum(x for x, _ in reads), sum(x for x, _ in writes)
    routes: dict[str, Route] = defaultdict(Route)
    counts = {"reads": 0, "writes": 0, "expected_refusals": 0, "replays": 0}
    procs = processes(stack)
    memory: list[dict[str, Any]] = [{"at_s": 0, "rss_mib": rss_mib(procs), "shared_mib": rss_mib(procs, "shared")}]
    warm_up = min(60.0, seconds / 5)
    started = time.perf_counter()
    deadline = started + seconds
    stopping = asyncio.Event()

    async def sample() -> None:
        marks = sorted({warm_up, *range(60, int(seconds), 60)})
        for mark in marks:
            try:
                await asyncio.wait_for(stopping.wait(), max(0.0, started + mark - time.perf_counter()))
                return
            except TimeoutError:
                memory.append({"at_s": round(time.perf_counter() - started), "rss_mib": rss_mib(procs),
                               "shared_mib": rss_mib(procs, "shared"),
                               **({"warm_up_end": True} if mark == warm_up else {})})

    async def client(n: int, session: aiohttp.ClientSession) -> None:
        r = random.Random(n)
        while time.perf_counter() < deadline:
            is_write = r.random() < 0.2
            ops = writes if is_write else reads
            build = r.choices([b for _, b in ops], weights=[x for x, _ in ops])[0]
            request = build(w, r)
            if request is None:
                continue
            headers = dict(request.api.headers())
            if request.key:
                headers["idempotency-key"] = request.key
            data: Any = None
            if request.content is not None:
                headers["content-type"] = request.content_type
                data = request.content
            elif request.json is not None:
                headers["content-type"] = "application/json"
                data = json.dumps(request.json)
            t0 = time.perf_counter()
            async with session.request(request.method, gateway + request.path, params=request.params,
                                       headers=headers, data=data) as response:
                raw = await response.read()
                status = response.status
            elapsed = (time.perf_counter() - t0) * 1000
            route = routes[request.route]
            route.latencies_ms.append(elapsed)
            route.statuses[status] += 1
            counts["writes" if request.key else "reads"] += 1
            if status not in request.expect:
                route.errors += 1
                if len(route.examples) < 3:
                    route.examples.append(f"{status} {request.path}: {raw[:300].decode(errors='replace')}")
                continue
            if request.refusal:
                counts["expected_refusals"] += 1
                continue
            answer = json.loads(raw) if raw else None
            if request.replay_of is not None:
                counts["replays"] += 1
                if answer != request.replay_of:  # not the first answer again
                    route.errors += 1
                    if len(route.examples) < 3:
                        route.examples.append(f"{request.path}: {answer} is not {request.replay_of}")
                continue
            if request.on_done is not None:
                request.on_done(answer)
            if request.key and request.json is not None:
                w.sent.append((request, status, answer))

    sampler = asyncio.create_task(sample())
    connector = aiohttp.TCPConnector(limit=clients * 2)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
        await asyncio.gather(*(client(n, session) for n in range(clients)))
    elapsed = time.perf_counter() - started
    stopping.set()
    await sampler
    memory.append({"at_s": round(elapsed), "rss_mib": rss_mib(procs), "shared_mib": rss_mib(procs, "shared")})
    total = sum(len(r.latencies_ms) for r in routes.values())
    errors = sum(r.errors for r in routes.values())
    per_route = {name: {"count": len(r.latencies_ms), **figures(r.latencies_ms), "errors": r.errors,
                        "statuses": dict(r.statuses), **({"examples": r.examples} if r.examples else {})}
                 for name, r in sorted(routes.items())}
    return {"seconds": round(elapsed, 1), "clients": clients, "requests": total,
            "throughput_rps": round(total / elapsed, 1), "errors": errors,
            "error_rate": round(errors / total, 6) if total else None, **counts,
            "write_share": round(counts["writes"] / total, 3) if total else None,
            "mix_weights": {"reads": read_weight, "writes": write_weight}, "without": sorted(w.without),
            "all_routes": figures([x for r in routes.values() for x in r.latencies_ms]),
            "routes": per_route, "memory": memory}


def memory_growth(memory: list[dict[str, Any]]) -> dict[str, float]:
    """Each process's RSS growth (MiB) from the end of the warm-up to the end."""
    base = next((m for m in memory if m.get("warm_up_end")), memory[0])["rss_mib"]
    end = memory[-1]["rss_mib"]
    return {name: round(end[name] - base[name], 1) for name in base if name in end}


# The same reads as SQL on the same data (the baseline): what PostgreSQL itself takes for them.
BASELINE_SQL: list[tuple[str, str, Callable[[World, random.Random], list[Any]]]] = [
    ("GET /funds/sources", "SELECT * FROM funds.fund_sources ORDER BY code LIMIT 50", lambda w, r: []),
    ("GET /funds/allocations", "SELECT * FROM funds.allocations WHERE to_region = $1 ORDER BY id LIMIT 21",
     lambda w, r: [_county(w, r).code]),
    ("GET /funds/balances", "SELECT * FROM funds.accounts WHERE region_code = $1 ORDER BY id LIMIT 500",
     lambda w, r: [_county(w, r).code]),
    ("GET /projects/{id}", "SELECT * FROM projects.projects WHERE id = $1",
     lambda w, r: [r.choice(_county(w, r).projects)]),
    ("GET /registry/households", "SELECT * FROM registry.households WHERE county_code = $1 "
                                 "ORDER BY household_id LIMIT 21", lambda w, r: [_county(w, r).code]),
    ("GET /registry/households/{id}", "SELECT h.* FROM registry.household_ids d JOIN registry.households h "
                                      "ON h.county_code = d.county_code AND h.household_id = d.household_id "
                                      "WHERE d.household_id = $1",
     lambda w, r: [r.choice(_county(w, r).households)["household_id"]]),
    ("GET /loans", "SELECT * FROM loans.loans WHERE county_code = $1 ORDER BY id LIMIT 21",
     lambda w, r: [_county(w, r).code]),
    ("GET /loans/{id}", "SELECT * FROM loans.loans WHERE id = $1", lambda w, r: [r.choice(_county(w, r).loans)]),
    ("GET /audit", "SELECT * FROM gateway.audit_log WHERE region_code = $1 ORDER BY seq DESC LIMIT 21",
     lambda w, r: [_county(w, r).code]),
]


async def baseline(url: str, w: World, seconds: float, clients: int) -> dict[str, Any]:
    pool = await asyncpg.create_pool(plain_url(url), min_size=clients, max_size=clients)
    assert pool is not None
    latencies: dict[str, list[float]] = defaultdict(list)
    deadline = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        r = random.Random(1000 + n)
        while time.perf_counter() < deadline:
            name, sql, args = r.choice(BASELINE_SQL)
            t0 = time.perf_counter()
            await pool.fetch(sql, *args(w, r))
            latencies[name].append((time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(n) for n in range(clients)))
    finally:
        await pool.close()
    elapsed = time.perf_counter() - started
    total = sum(len(v) for v in latencies.values())
    return {"seconds": round(elapsed, 1), "clients": clients, "queries": total,
            "throughput_qps": round(total / elapsed, 1),
            "routes": {name: {"count": len(v), **figures(v)} for name, v in sorted(latencies.items())}}


@dataclass
class Seeded:
    database: Any
    stack: Stack
    world: World
    seed_s: float


@asynccontextmanager
async def seeded_stack(households: int) -> AsyncIterator[Seeded]:
    """A throwaway database, migrated; the stack on half the server's connections (as the suite's: other stacks may
    share the server), seeded through the gateway; at the end the stack stopped (again: stopping is idempotent) and
    the database dropped. mixed_load and memory_probe both run in it."""
    directory = workdir()
    database = await create_test_database(directory)
    stack = None
    try:
        stack = await asyncio.to_thread(start_stack, database, directory, pool_fraction=0.5)
        async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=120) as client:
            t0 = time.perf_counter()
            world = await seed(stack, client, households)
        yield Seeded(database, stack, world, round(time.perf_counter() - t0, 1))
    finally:
        if stack is not None:
            stop_all(stack.children)
        await database.drop()
        shutil.rmtree(directory, ignore_errors=True)


async def main(seconds: float, clients: int, households: int, baseline_seconds: float, without: set[str]) -> int:
    async with seeded_stack(households) as run:
        run.world.without = without
        load_before = os.getloadavg()
        result = await drive(run.world, run.stack.gateway_url, seconds, clients, run.stack)
        load_after = os.getloadavg()
        growth = memory_growth(result["memory"])
        over = {name: mib for name, mib in growth.items() if mib > RSS_GROWTH_BOUND_MIB}
        stop_all(run.stack.children)  # the baseline has the server's connections the stack's pools held
        raw = await baseline(run.database.url, run.world, baseline_seconds, clients)
        out = {"machine": {"cores": os.cpu_count(), "load_average_before": load_before,
                           "load_average_after": load_after},
               "seed_s": run.seed_s, **result, "rss_growth_after_warm_up_mib": growth,
               "rss_growth_bound_mib": RSS_GROWTH_BOUND_MIB, "rss_over_bound": over, "raw_postgresql": raw}
        print(json.dumps(out, ensure_ascii=False, indent=1), flush=True)
        return 1 if result["errors"] or over else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--households", type=int, default=1500, help="households per county on the roster")
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    parser.add_argument("--without", default="", help="read routes to leave out, comma-separated ('GET /funds/trace')")
    args = parser.parse_args()
    raise SystemExit(run_fast(main(args.seconds, args.clients, args.households, args.baseline_seconds,
                                  {r.strip() for r in args.without.split(",") if r.strip()})))
