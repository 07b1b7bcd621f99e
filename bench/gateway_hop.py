"""What the gateway's hop costs: the same requests sent to a service directly (signed as the gateway would) and
through the gateway (authentication, role check, signing, proxy, audit entry), in one run on one database. (The
door's proxy hop runs on aiohttp directly since 2026-12-01; the earlier comparison of httpx transports is in
RESULTS.md's history.)

    .venv/bin/python -m bench.gateway_hop [--seconds 5] [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import time
from typing import Any

import asyncpg
import httpx

from bench.load import HEADER, Result, run, run_fast
from deploy.supervisor import stop_all
from services.kernel.db import plain_url
from services.kernel.identity import Principal, body_digest, sign
from tests.stack import create_test_database, start_stack, workdir


def signed_headers(secret: str, method: str, path: str, principal: Principal, body: Any = None) -> dict[str, str]:
    """Signed for one request: its body (as aiohttp sends `json=`: json.dumps) and a fresh nonce (S5)."""
    raw = b"" if body is None else json.dumps(body).encode()
    return sign(secret, method=method, path=path, query="", request_id=secrets.token_hex(8), principal=principal,
                body_sha256=body_digest(raw), audience="funds")


async def main(seconds: float, clients: int) -> None:
    directory = workdir()
    database = await create_test_database(directory)
    stack = await asyncio.to_thread(start_stack, database, directory, pool_fraction=1.0)
    try:
        admin = {"authorization": f"Bearer {stack.admin_token}"}
        made = httpx.post(f"{stack.gateway_url}/admin/principals", headers=admin,
                          json={"name": "bench", "role": "finance", "region_code": "430000"}).json()
        key = {"authorization": f"Bearer {made['api_key']}", "content-type": "application/json"}
        source = httpx.put(f"{stack.gateway_url}/funds/sources/C01", headers=admin,
                           json={"name": "财政专项扶贫资金", "level": "central", "integrable": True})
        assert source.status_code in (200, 201), source.text
        who = Principal(id=made["id"], role="finance", region_code="430000")
        funds = stack.service_urls["funds"]
        gateway = stack.gateway_url
        results: list[Result] = []
        for concurrency in (1, clients):
            results.append(await run("service /healthz, direct", lambda i: ("GET", f"{funds}/healthz", {}, None),
                                     concurrency=concurrency, seconds=seconds))
            direct_headers = signed_headers(stack.secret, "GET", "/funds/sources", who)
            def direct_get(i: int, h: dict[str, str] = direct_headers) -> tuple[str, str, dict[str, str], Any]:
                return "GET", f"{funds}/funds/sources", h, None

            results.append(await run("GET /funds/sources, direct to the service", direct_get,
                                     concurrency=concurrency, seconds=seconds))
            results.append(await run("GET /funds/sources via gateway",
                                     lambda i: ("GET", f"{gateway}/funds/sources", key, None),
                                     concurrency=concurrency, seconds=seconds))
            tag = secrets.token_hex(4)

            def appropriation(i: int, prefix: str, tag: str = tag) -> dict[str, Any]:
                return {"fund_source": "C01", "fiscal_year": 2026, "region_code": "430000",
                        "amount_fen": 100, "doc_no": f"湘财预〔2026〕{prefix}{tag}{i}号"}

            def direct_post(payload: dict[str, Any]) -> tuple[str, str, dict[str, str], Any]:
                h = signed_headers(stack.secret, "POST", "/funds/appropriations", who, payload)
                return "POST", f"{funds}/funds/appropriations", {**h, "content-type": "application/json"}, payload

            def direct(i: int, c: int = concurrency) -> tuple[str, str, dict[str, str], Any]:
                return direct_post(appropriation(i, f"d{c}"))

            def via_gateway(i: int, c: int = concurrency) -> tuple[str, str, dict[str, str], Any]:
                return "POST", f"{gateway}/funds/appropriations", key, appropriation(i, f"g{c}")

            results.append(await run("POST /funds/appropriations, direct", direct,
                                     concurrency=concurrency, seconds=seconds))
            results.append(await run("POST /funds/appropriations via gateway", via_gateway,
                                     concurrency=concurrency, seconds=seconds))
        baseline = await raw_baseline(database.url, seconds, clients)
        print(f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {seconds:.0f} s per row\n")
        print(HEADER)
        for r in results:
            print(r.row())
        print(f"| raw asyncpg SELECT of the sources table ({clients} connections) | {clients} | "
              f"{baseline[0]} | {baseline[0] / baseline[1]:,.0f} | | | 0 |")
    finally:
        stop_all(stack.children)
        await database.drop()
        shutil.rmtree(directory, ignore_errors=True)


async def raw_baseline(url: str, seconds: float, clients: int) -> tuple[int, float]:
    pool = await asyncpg.create_pool(plain_url(url), min_size=clients, max_size=clients)
    assert pool is not None
    count = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await pool.fetch("SELECT * FROM funds.fund_sources ORDER BY code LIMIT 50")
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return count, elapsed


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    run_fast(main(args.seconds, args.clients))
