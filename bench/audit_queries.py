"""Benchmark: GET /audit's filters at 10,000,000 trail entries (issue #13 point 7: every filter and combination
p95 < 50 ms), for a national and a county inspector, page 1 and page 2, next to the raw SQL's own time.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.audit_queries

Makes a fresh database (tests/stack.py), migrates it (deploy.migrate), and writes N entries straight into
`gateway.audit_log` with one server-side INSERT … SELECT over generate_series per million (faster than a COPY from
Python; the trail's indexes are dropped first and made again after, from their own definitions, then VACUUM
ANALYZE): ~120 counties of Hunan, their cities, the province, the centre and a few other provinces; the roles;
the methods and paths of the real routes; codes only on refusals (~5 %); five years of `at`, chained at that time
(`sequenced_at`) but for 0.05 % chained three hours late (a service that was down: gateway/audit_scan.py finds
those by their own index). The hashes are not a valid chain: nothing here verifies it.

A time window (cases named `window`) is also followed from the newest entry, cursor by cursor, to its first entry
(`reach`: pages and milliseconds), and the plain SQL of its first page (`plain_sql_ms`: every filter, newest first,
limit 51, as PostgreSQL plans it alone) is timed beside it.

Every case runs the gateway's own list route (`gateway.audit_api.list_audit`, on an engine like the gateway's),
REPS times (first run discarded; three runs only when they take over 4 s), and the statements it sent are captured
and run once more under EXPLAIN ANALYZE on the same connection settings: `sql_ms` is PostgreSQL's own execution
time of those statements, the baseline.
`--reuse URL` runs against a database kept by an earlier `--keep` run (migrated again first).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import statistics
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import asyncpg
from sqlalchemy import event

from deploy.migrate import migrate
from services.kernel.db import plain_url
from tests.stack import TestDatabase, create_test_database, workdir

CITIES = [f"43{c:02d}" for c in range(1, 15)]
COUNTIES = [f"{city}{k:02d}" for city in CITIES for k in range(21, 30)][:120]
OTHERS = ["110000", "440300", "520121", "520000"]
REGIONS = COUNTIES + [f"{city}00" for city in CITIES] + ["430000", "000000", *OTHERS]
ROLES = ["finance", "project_manager", "lender", "inspector", "admin"]
PRINCIPALS = 3000
# (method, path; {id} is an entity id, also put in entity_ids)
ROUTES = [
    ("GET", "/funds/allocations"), ("POST", "/funds/allocations"), ("GET", "/funds/allocations/{id}"),
    ("GET", "/funds/balances"), ("POST", "/funds/arrangements"), ("POST", "/funds/disbursements"),
    ("GET", "/funds/trace"), ("GET", "/funds/reports/progress"), ("GET", "/projects"), ("POST", "/projects"),
    ("GET", "/projects/{id}"), ("POST", "/projects/{id}/submit"), ("POST", "/projects/{id}/review"),
    ("GET", "/loans"), ("POST", "/loans"), ("GET", "/loans/{id}"), ("POST", "/loans/{id}/repayments"),
    ("POST", "/registry/households/import"), ("GET", "/registry/households/{id}"), ("GET", "/audit"),
    ("GET", "/alerts"), ("POST", "/alerts/{id}/acknowledge"), ("GET", "/admin/principals"),
    ("POST", "/admin/principals"),
]
CODES = ["VALIDATION_ERROR", "NOT_IN_JURISDICTION", "INSUFFICIENT_FUNDS", "FORBIDDEN", "NEGATIVE_LIST"]
COUNTY = COUNTIES[40]
START = datetime(2021, 12, 1, tzinfo=UTC)


def _array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


def _insert(first: int, last: int, total: int) -> str:
    """Rows first..last of `total`, drawn server-side. A principal keeps one region and one role."""
    methods = _array([m for m, _ in ROUTES])
    paths = _array([p for _, p in ROUTES])
    return f"""
    INSERT INTO gateway.audit_log (seq, at, principal_id, role, region_code, method, path, query, entity_ids,
        body_sha256, status, code, request_id, origin, origin_id, sequenced_at, prev_hash, hash)
    SELECT g, at, 'prn_' || lpad(p::text, 5, '0'), ({_array(ROLES)})[1 + p % {len(ROLES)}],
        ({_array(REGIONS)})[1 + p % {len(REGIONS)}], ({methods})[1 + k],
        replace(({paths})[1 + k], '{{id}}', ent), CASE WHEN r1 < 0.5 THEN 'limit=50' ELSE '' END,
        CASE WHEN ({paths})[1 + k] LIKE '%{{id}}%' THEN ARRAY[ent] ELSE '{{}}'::text[] END,
        md5(g::text) || md5((g + 1)::text), CASE WHEN r2 < 0.05 THEN (ARRAY[422, 403, 409, 404])[1 + (g % 4)]
        WHEN ({methods})[1 + k] = 'POST' THEN 201 ELSE 200 END,
        CASE WHEN r2 < 0.05 THEN ({_array(CODES)})[1 + (g % {len(CODES)})] ELSE '' END,
        'req_' || substr(md5('r' || g), 1, 24), CASE WHEN r3 < 0.1 THEN 'funds' ELSE 'gateway' END,
        CASE WHEN r3 < 0.1 THEN g END, ts, md5((g - 1)::text) || md5(g::text), md5(g::text) || md5(g::text)
    FROM (SELECT g, p, k, r1, r2, r3, ts, ent,
                 CASE WHEN r3 BETWEEN 0.1 AND 0.1005 THEN ts - interval '3 hours' ELSE ts END AS at
          FROM (SELECT g, floor(random() * {PRINCIPALS})::int AS p, floor(random() * {len(ROUTES)})::int AS k,
                       random() AS r1, random() AS r2, random() AS r3,
                       timestamptz '{START.isoformat()}' + (g::float8 / {total}) * interval '5 years' AS ts,
                       'ent_' || floor(random() * 200000)::int AS ent
                FROM generate_series({first}, {last}) AS g) AS t) AS s
    """


async def load(url: str, entries: int) -> dict[str, Any]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        started = time.perf_counter()
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'gateway' AND tablename = 'audit_log' "
            "AND indexname <> 'audit_log_pkey'")
        for row in indexes:
            await conn.execute(f'DROP INDEX gateway."{row["indexname"]}"')
        await conn.execute("SELECT setseed(0.13)")
        for first in range(1, entries + 1, 1_000_000):
            await conn.execute(_insert(first, min(entries, first + 999_999), entries))
            print(json.dumps({"inserted": min(entries, first + 999_999),
                              "s": round(time.perf_counter() - started, 1)}), flush=True)
        inserted = time.perf_counter() - started
        for row in indexes:
            await conn.execute(row["indexdef"])
        await conn.execute("VACUUM ANALYZE gateway.audit_log")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size('gateway.audit_log'))")
    finally:
        await conn.close()
    return {"entries": entries, "insert_s": round(inserted, 1), "total_s": round(time.perf_counter() - started, 1),
            "size": size}


async def samples(url: str) -> dict[str, Any]:
    """Values that exist: a county actor, one of its request ids and entity ids."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        row = await conn.fetchrow(
            "SELECT principal_id, request_id FROM gateway.audit_log WHERE region_code = $1 "
            "AND seq > (SELECT max(seq) - 200000 FROM gateway.audit_log) ORDER BY seq DESC LIMIT 1", COUNTY)
        entity = await conn.fetchval(
            "SELECT entity_ids[1] FROM gateway.audit_log WHERE region_code = $1 AND cardinality(entity_ids) > 0 "
            "AND seq > (SELECT max(seq) - 200000 FROM gateway.audit_log) ORDER BY seq DESC LIMIT 1", COUNTY)
    finally:
        await conn.close()
    assert row is not None and entity is not None
    return {"actor": row["principal_id"], "request_id": row["request_id"], "entity_id": entity}


def cases(known: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every filter alone (a value that matches, and one that matches nothing), every pair of filters with values
    that match alone, the three slow cases of the issue, and everything at once."""
    hit: dict[str, Any] = {
        "actor": known["actor"], "role": "finance", "region": COUNTY, "method": "POST", "path_prefix": "/funds/",
        "status": 422, "code": "VALIDATION_ERROR", "entity_id": known["entity_id"],
        "request_id": known["request_id"], "since": datetime(2024, 1, 1, tzinfo=UTC),
        "until": datetime(2023, 1, 1, tzinfo=UTC),
    }
    miss: dict[str, Any] = {
        "actor": "prn_nobody", "role": "public", "region": "430199", "method": "PATCH", "path_prefix": "/nothing",
        "status": 418, "code": "NO_SUCH_CODE", "entity_id": "ent_nothing", "request_id": "req_nothing",
        "since": datetime(2030, 1, 1, tzinfo=UTC), "until": datetime(2020, 1, 1, tzinfo=UTC),
    }
    out: list[tuple[str, dict[str, Any]]] = [("(none)", {})]
    out += [(f"{k}=hit", {k: v}) for k, v in hit.items()]
    out += [(f"{k}=miss", {k: v}) for k, v in miss.items()]
    out += [(f"{a}+{b}", {a: hit[a], b: hit[b]}) for a, b in itertools.combinations(hit, 2)]
    out += [("region+method+path", {"region": COUNTY, "method": "POST", "path_prefix": "/loans/"}),
            ("since+until (one month)", {"since": datetime(2023, 3, 1, tzinfo=UTC),
                                         "until": datetime(2023, 4, 1, tzinfo=UTC)}),
            ("window: a county's January 2023", {"region": COUNTY, "since": datetime(2023, 1, 1, tzinfo=UTC),
                                                 "until": datetime(2023, 2, 1, tzinfo=UTC)}),
            ("window: one day a year back", {"since": datetime(2025, 11, 3, tzinfo=UTC),
                                             "until": datetime(2025, 11, 4, tzinfo=UTC)}),
            ("window: one hour four years back", {"since": datetime(2022, 2, 1, 10, tzinfo=UTC),
                                                  "until": datetime(2022, 2, 1, 11, tzinfo=UTC)}),
            ("window: since a year back", {"since": datetime(2025, 12, 1, tzinfo=UTC)}),
            ("window: until four years back", {"until": datetime(2022, 12, 1, tzinfo=UTC)}),
            ("window: POSTs of a county in 2024", {"region": COUNTY, "method": "POST",
                                                   "since": datetime(2024, 1, 1, tzinfo=UTC),
                                                   "until": datetime(2025, 1, 1, tzinfo=UTC)}),
            ("all", dict(hit))]
    return out


class Captured:
    """The statements (with their parameters) the route sent, to EXPLAIN ANALYZE them afterwards."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        self.statements.append((statement, parameters))


async def explain_ms(raw: asyncpg.Connection, statements: list[tuple[str, Any]]) -> float:
    total = 0.0
    for statement, parameters in statements:
        plan = await raw.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", *(parameters or ()))
        total += json.loads(plan)[0]["Execution Time"]
    return total


async def measure(url: str, reps: int, only: str | None) -> list[dict[str, Any]]:
    os.environ["DATABASE_URL"] = url
    os.environ["FUNDTRACK_DB_ROLES"] = "0"
    from gateway.audit_api import AuditQuery, list_audit
    from services.kernel.db import create_engine
    from services.kernel.identity import Principal

    engine = create_engine("gateway", url=url, pool_size=2)
    captured = Captured()
    event.listen(engine.sync_engine, "before_cursor_execute", captured)
    request: Any = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(engine=engine)))
    readers = {"national": Principal(id="prn_nat", role="inspector", region_code="000000"),
               "county": Principal(id="prn_cty", role="inspector", region_code=COUNTY)}
    known = await samples(url)
    raw = await asyncpg.connect(plain_url(url), server_settings={"search_path": "gateway"})
    results: list[dict[str, Any]] = []
    try:
        for (name, filters), (reader, principal) in itertools.product(cases(known), readers.items()):
            if only and not any(part in name for part in only.split(",")):
                continue
            q = AuditQuery(**filters)
            for page in (1, 2):
                times: list[float] = []
                answer: dict[str, Any] = {}
                cursor = None
                if page == 2:
                    cursor = (await list_audit(request, principal, q, 50, None))["next_cursor"]
                    if cursor is None:
                        continue
                for _ in range(reps + 1):
                    captured.statements.clear()
                    started = time.perf_counter()
                    answer = await list_audit(request, principal, q, 50, cursor)
                    times.append((time.perf_counter() - started) * 1000)
                    if len(times) >= 3 and sum(times) > 4000:  # a slow case: three runs say enough
                        break
                sql_ms = await explain_ms(raw, captured.statements)
                times = sorted(times[1:])
                results.append({
                    "case": name, "reader": reader, "page": page, "items": len(answer["items"]),
                    "more": answer["next_cursor"] is not None, "scanned_to_seq": answer.get("scanned_to_seq"),
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1),
                    "sql_ms": round(sql_ms, 1)})
                if name.startswith("window") and page == 1:
                    results[-1].update(await reach(request, principal, q, list_audit))
                    results[-1]["plain_sql_ms"] = await plain_sql_ms(raw, engine, principal, q)
                print(json.dumps(results[-1], ensure_ascii=False, default=str), flush=True)
    finally:
        await raw.close()
        await engine.dispose()
    return results


async def reach(request: Any, principal: Any, q: Any, list_audit: Any, most: int = 2000) -> dict[str, Any]:
    """An inspector's way to a window's first entry: the newest page, then its cursor, until a page has an entry (or
    the trail ends, or `most` pages)."""
    started, cursor, pages = time.perf_counter(), None, 0
    while pages < most:
        answer = await list_audit(request, principal, q, 50, cursor)
        pages += 1
        cursor = answer["next_cursor"]
        if answer["items"] or cursor is None:
            break
    return {"reach_pages": pages, "reach_ms": round((time.perf_counter() - started) * 1000, 1)}


async def plain_sql_ms(raw: asyncpg.Connection, engine: Any, principal: Any, q: Any) -> float:
    """The page as the obvious SQL: every filter, newest first, limit 51, planned by PostgreSQL alone."""
    from sqlalchemy import select

    from gateway.audit_api import _conditions
    from gateway.models import audit_log

    query = select(audit_log).where(*_conditions(q, principal)).order_by(audit_log.c.seq.desc()).limit(51)
    compiled = query.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
    plan = await raw.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}")
    return round(float(json.loads(plan)[0]["Execution Time"]), 1)


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    p95 = sorted(r["p95_ms"] for r in results)
    over = [f'{r["case"]} ({r["reader"]}, page {r["page"]}): {r["p95_ms"]} ms' for r in results if r["p95_ms"] >= 50]
    return {"cases": len(results), "p95_of_p95_ms": p95[int(len(p95) * 0.95)] if p95 else None,
            "worst_p95_ms": p95[-1] if p95 else None, "over_50_ms": over}


async def create() -> TestDatabase:
    return await create_test_database(workdir())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--only", help="run only the cases whose name contains this (or one of these, comma-separated)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (its URL is printed)")
    parser.add_argument("--reuse", help="the URL of a database an earlier --keep run loaded")
    args = parser.parse_args()
    database = None
    if args.reuse:
        url = args.reuse
    else:
        database = asyncio.run(create())
        url = database.url
        print(json.dumps({"database": url}), flush=True)
    try:
        migrate(url)
        if database is not None:
            print(json.dumps({"loaded": asyncio.run(load(url, args.entries))}), flush=True)
        results = asyncio.run(measure(url, args.reps, args.only))
        print(json.dumps({"summary": summary(results)}, ensure_ascii=False, indent=1))
    finally:
        if database is not None and not args.keep:
            asyncio.run(database.drop())
            shutil.rmtree(workdir(), ignore_errors=True)


if __name__ == "__main__":
    main()
