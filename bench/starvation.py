"""Benchmark (issue #20, point 3): does one heavy request starve the others? GET /funds/sources through the gateway,
one request after another, first on a quiet system, then while a whole-trail export of N entries streams through the
same gateway (JSON Lines and CSV), each export read to the end by its own client. The baseline is the same read on
the quiet system (raw PostgreSQL plays no part: what is measured is the gateway's event loop).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.starvation [--entries N]

How: a throwaway database, migrated; N entries written server-side into gateway.audit_log (bench/audit_queries.py's
generator); the four services and the gateway started as real processes (tests/stack.py); the gateway's sequencer
first puts the N entries into the Merkle tree (backfill), and the measurements start once it has.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import time
from typing import Any

import asyncpg
import httpx

from bench.audit_queries import _insert
from deploy.migrate import migrate
from deploy.supervisor import stop_all
from services.kernel.db import plain_url
from tests.stack import create_test_database, start_stack, workdir

READS = 300


def _figures(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95)] * 1000, 2), "max_ms": round(ordered[-1] * 1000, 2)}


async def _reads(client: httpx.AsyncClient, until: asyncio.Event | None = None) -> list[float]:
    """GET /funds/sources one after another: READS of them, or until `until` is set (at least 20)."""
    times: list[float] = []
    while (until is None and len(times) < READS) or (until is not None and (not until.is_set() or len(times) < 20)):
        started = time.perf_counter()
        response = await client.get("/funds/sources")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return times


async def _export(client: httpx.AsyncClient, fmt: str, done: asyncio.Event) -> dict[str, Any]:
    started, size = time.perf_counter(), 0
    async with client.stream("GET", "/audit/export", params={"format": fmt}, timeout=600) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_bytes():
            size += len(chunk)
    done.set()
    return {"seconds": round(time.perf_counter() - started, 1), "mib": round(size / 2**20, 1)}


async def run(url: str, gateway: str, token: str, entries: int) -> dict[str, Any]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        deadline = time.monotonic() + 1800
        while (await conn.fetchval("SELECT coalesce(max(record) + 1, 0) FROM gateway.audit_tree_records")) < entries:
            assert time.monotonic() < deadline, "the tree was not built in time"
            await asyncio.sleep(1)
    finally:
        await conn.close()
    headers = {"authorization": f"Bearer {token}"}
    out: dict[str, Any] = {"entries": entries, "load_average": os.getloadavg()}
    async with httpx.AsyncClient(base_url=gateway, headers=headers, timeout=60) as reader, \
            httpx.AsyncClient(base_url=gateway, headers=headers, timeout=600) as exporter:
        await _reads(reader)  # warm
        out["quiet"] = _figures(await _reads(reader))
        for fmt in ("jsonl", "csv"):
            done = asyncio.Event()
            export = asyncio.create_task(_export(exporter, fmt, done))
            times = await _reads(reader, done)
            out[f"during_{fmt}_export"] = {**_figures(times), "export": await export}
        out["quiet_after"] = _figures(await _reads(reader))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=300_000)
    args = parser.parse_args()
    directory = workdir()
    database = asyncio.run(create_test_database(directory))
    stack = None
    try:
        migrate(database.url)

        async def load() -> None:
            conn = await asyncpg.connect(plain_url(database.url))
            try:
                await conn.execute(_insert(1, args.entries, args.entries))
            finally:
                await conn.close()

        asyncio.run(load())
        stack = start_stack(database, directory, pool_fraction=1.0)
        results = asyncio.run(run(database.url, stack.gateway_url, stack.admin_token, args.entries))
        print(json.dumps(results, indent=1))
    finally:
        if stack is not None:
            stop_all(stack.children)
        asyncio.run(database.drop())
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
