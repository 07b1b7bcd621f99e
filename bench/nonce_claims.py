"""What S5's nonce claim costs each change (issue #15): an audited change's transaction as the unit of work writes it,
before and after the guard moved from the outbox's unique nonce to `signed_nonces` (services/kernel/uow.py).

    .venv/bin/python -m bench.nonce_claims [--changes 20000] [--clients 8] [--kept 500000]

On a throwaway database (the embedded PostgreSQL, or DATABASE_URL's server), the loans schema as `fundtrack migrate`
makes it; `--clients` connections each commit `--changes / --clients` transactions, one change's writes each:
- **outbox entry alone** (the raw baseline: what a change writes at the least, no replay guard);
- **before**: the entry carrying its nonce, unique in `uq_audit_outbox_nonce` (built for this row only);
- **after**: the entry written by the statement that claims its nonce (services/kernel/outbox.py, nonces.py: its
  window, its bounded turn of forgetting), with `signed_nonces` holding `--kept` nonces already (a province's 1.7
  hours of changes, in the order they were claimed), a tenth of them past the memory (a backlog, as after an
  outage), so turns of forgetting run meanwhile; and the same with forgetting off, to see what it costs.
Prints (JSON) per case the changes per second and the p50/p95/p99 of a transaction in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from deploy.migrate import migrate
from services.kernel import nonces, outbox
from services.kernel.db import plain_url
from tests.stack import create_test_database, workdir

_ENTRY = (
    "INSERT INTO audit_outbox (request_id, principal_id, role, region_code, method, path, entity_ids, body_sha256, "
    "status, nonce) VALUES ($1, 'p', 'lender', '430523', 'POST', '/loans/x/repayments', '{x}', $2, 201, $3)"
)
Change = Callable[[asyncpg.Connection, str], Awaitable[None]]


async def entry_alone(conn: asyncpg.Connection, nonce: str) -> None:
    await conn.execute(_ENTRY, nonce, "d" * 64, None)


async def entry_with_unique_nonce(conn: asyncpg.Connection, nonce: str) -> None:
    await conn.execute(_ENTRY, nonce, "d" * 64, nonce)


def entry_and_claim(forget: int) -> Change:
    """outbox.record's statement with a claim, as nonces.claim runs it."""
    async def change(conn: asyncpg.Connection, nonce: str) -> None:
        entry = (nonce, "p", "lender", "430523", "POST", "/loans/x/repayments", "", ["x"], "d" * 64, 201)
        claimed = await conn.fetchrow(outbox._CLAIMED_INSERT, nonce, time.time(), nonces.window_seconds(),
                                      nonces.memory_seconds(), forget, *entry)
        assert claimed is not None
    return change


async def measure(pool: asyncpg.Pool, change: Change, changes: int, clients: int) -> tuple[list[float], float]:
    """Each transaction's time, and the whole run's, `clients` connections committing `changes` in all."""
    times: list[float] = []

    async def client() -> None:
        async with pool.acquire() as conn:
            for _ in range(changes // clients):
                started = time.perf_counter()
                async with conn.transaction():
                    await change(conn, uuid.uuid4().hex)
                times.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return times, time.perf_counter() - started


def figures(times: list[float], elapsed: float) -> dict[str, Any]:
    cuts = statistics.quantiles(times, n=100)
    return {"changes": len(times), "per_second": round(len(times) / elapsed, 1), "p50_ms": round(cuts[49] * 1e3, 2),
            "p95_ms": round(cuts[94] * 1e3, 2), "p99_ms": round(cuts[98] * 1e3, 2),
            "mean_ms": round(statistics.fmean(times) * 1e3, 2), "max_ms": round(max(times) * 1e3, 1)}


async def main(changes: int, clients: int, kept: int, rounds: int) -> dict[str, Any]:
    directory = workdir()
    database = await create_test_database(directory)
    try:
        await asyncio.to_thread(migrate, database.url, directory)
        pool = await asyncpg.create_pool(plain_url(database.url), min_size=clients, max_size=clients,
                                         server_settings={"search_path": "loans", "jit": "off"})
        assert pool is not None
        try:
            memory = nonces.memory_seconds()
            await pool.execute(
                "INSERT INTO signed_nonces (nonce, signed_at) SELECT md5(i::text), "
                "now() - make_interval(secs => $2 * (1 - i::float8 / $1)) "
                "FROM generate_series(1, $1) AS i", kept, memory / 0.9)  # the oldest tenth past the memory
            await pool.execute("VACUUM ANALYZE signed_nonces")
            results: dict[str, Any] = {"kept_nonces": kept, "clients": clients, "rounds": rounds}
            expired = "SELECT count(*) FROM signed_nonces WHERE signed_at < now() - make_interval(secs => $1)"
            before = await pool.fetchval(expired, memory)
            cases: list[tuple[str, Change, str | None]] = [
                ("outbox entry alone (raw baseline)", entry_alone, None),
                ("before: entry with its nonce, unique in the outbox", entry_with_unique_nonce,
                 "CREATE UNIQUE INDEX uq_audit_outbox_nonce ON audit_outbox (nonce)"),
                ("after, no forgetting: the entry written by the statement that claims its nonce",
                 entry_and_claim(0), None),
                ("after: the entry written by the statement that claims its nonce", entry_and_claim(
                    nonces.FORGET_AT_ONCE), None),
            ]
            # the cases in turn, `rounds` times: the server's state (its WAL, checkpoints, the host's load) drifts
            # during a run, and each case sees the same drift
            times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
            elapsed = dict.fromkeys(times, 0.0)
            for _ in range(rounds):
                for name, change, index in cases:
                    if index is not None:
                        await pool.execute(index)
                    took, seconds = await measure(pool, change, changes // rounds, clients)
                    times[name] += took
                    elapsed[name] += seconds
                    if index is not None:
                        await pool.execute("DROP INDEX uq_audit_outbox_nonce")
            for name, took in times.items():
                results[name] = figures(took, elapsed[name])
            results["forgotten meanwhile"] = before - await pool.fetchval(expired, memory)
            return results
        finally:
            await pool.close()
    finally:
        await database.drop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--kept", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.changes, args.clients, args.kept, args.rounds)), indent=2,
                     ensure_ascii=False))
