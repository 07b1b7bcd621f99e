"""How long funds_0022 (the arrangements, payments, reversals and project ledgers keyed by county, issue #15) takes on
a database with data.

A database of its own is made as an older FundTrack left it (tests/platform/before_baseline), brought to funds_0021,
filled as tests/funds/test_county_keys.py fills it at `--payments` payments (`--projects` projects, `--arrangements`
arrangements, one payment in `--payments-per-reversal` reversed, one arrangement in four, the allocations and the
appropriation), then upgraded, timed, while a funds service of the version before (it does not know the reversals'
county) records a payment and its reversal every 20 ms, and upserts a project's ledger on its old key, on its own
connection: their times (the longest is what the revision's locks held a writer off) and their failures, with when
each began against the upgrade's end. On DATABASE_URL's server if set, else on an embedded one of its own (deploy/
embedded.py), which is stopped and removed after. Prints JSON; the database is dropped after.

    .venv/bin/python -m bench.funds_county_keys --payments 5000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import time
import uuid

import asyncpg
from alembic import command

from deploy.embedded import EmbeddedPostgres
from deploy.migrate import alembic_config
from services.kernel.db import plain_url
from tests.funds.test_county_keys import ANSWERING, FILL_0021
from tests.platform import before_baseline
from tests.stack import _with_database, workdir

TABLES = ("arrangements", "disbursements", "reversals", "project_ledgers")
OLD_PAYMENT = [  # one transaction, as the version before records a payment and then reverses it (no county on it)
    "INSERT INTO funds.disbursements (id, project_id, county_code, amount_fen, voucher_no, payee_kind, payee_id, "
    "payee_name, payee_account_no, paid_on, created_by) VALUES ($1, 'prj_3', '430523', 100, $1, 'household', 'H-w', "
    "'户主', '6217', '2018-05-01', 'writer')",
    "INSERT INTO funds.reversals (id, target_id, target_kind, reason, reversed_on, created_by) "
    "VALUES ('rev_' || $1, $1, 'disbursement', '冲正', '2018-05-02', 'writer')",
]
OLD_LEDGER = ("INSERT INTO funds.project_ledgers (project_id, county_code) VALUES ('prj_1', '430524') "
              "ON CONFLICT (project_id) DO UPDATE SET county_code = excluded.county_code")


async def writer(url: str, done: asyncio.Event) -> tuple[list[float], list[tuple[float, str]]]:
    """The version before, until `done`: the time of each payment with its reversal, and each failure (of those or
    of the ledger's upsert) with when it began (perf_counter)."""
    conn = await asyncpg.connect(plain_url(url))
    times: list[float] = []
    failures: list[tuple[float, str]] = []
    try:
        n = 0
        while not done.is_set():
            n += 1
            started = time.perf_counter()
            try:
                async with conn.transaction():
                    for statement in OLD_PAYMENT:
                        await conn.execute(statement, f"dsb_w{n:08d}")
                times.append(time.perf_counter() - started)
                await conn.execute(OLD_LEDGER)
            except asyncpg.PostgresError as error:
                failures.append((started, str(error).splitlines()[0]))
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    return times, failures


def _writes(times: list[float], failures: list[tuple[float, str]], ended: float) -> dict[str, object]:
    ordered = sorted(times) or [0.0]
    kinds: dict[str, list[float]] = {}
    for at, what in failures:
        kinds.setdefault(what, []).append(round(at - ended, 2))
    return {"recorded": len(times), "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 1),
            "longest_ms": round(ordered[-1] * 1000, 1), "over_500_ms": sum(t > 0.5 for t in times),
            # each kind of failure: how many, and the first's seconds from the upgrade's end (negative: before it)
            "failures": {what: [len(at), at[0]] for what, at in kinds.items()}}


async def run(server: str, sizes: dict[str, int]) -> dict[str, object]:
    name = f"ft_fundkeys_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain_url(server))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(server, name)
    try:
        conn = await asyncpg.connect(plain_url(url))
        try:
            await before_baseline.restore(conn)
            await asyncio.to_thread(command.upgrade, alembic_config("funds", url), "funds_0021_duplicates_since")
            await conn.execute("SET search_path = funds")
            started = time.perf_counter()
            for statement in FILL_0021:
                await conn.execute(statement.format(**sizes))
            await conn.execute("VACUUM ANALYZE")
            filled = round(time.perf_counter() - started, 1)
            rows = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
            done = asyncio.Event()
            writing = asyncio.create_task(writer(url, done))
            await asyncio.sleep(1)
            started = time.perf_counter()
            await asyncio.to_thread(command.upgrade, alembic_config("funds", url), "funds_0022_county_keys")
            ended = time.perf_counter()
            done.set()
            written = _writes(*await writing, ended)
            answered = await conn.fetchval(ANSWERING)
            total = await conn.fetchval("SELECT count(*) FROM reversals")
        finally:
            await conn.close()
        return {"rows": rows, "fill_s": filled, "upgrade_s": round(ended - started, 1),
                "writer_during_upgrade": written, "reversals": total, "reversals_in_their_records_region": answered,
                "load_average": os.getloadavg()}
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main_async(sizes: dict[str, int]) -> dict[str, object]:
    server = os.environ.get("DATABASE_URL")
    if server:
        return await run(server, sizes)
    directory = workdir()
    embedded = EmbeddedPostgres(directory)
    try:
        return await run(embedded.start(), sizes)
    finally:
        embedded.stop()
        shutil.rmtree(directory)  # the cluster of its own, a few GB at a province's size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=30_500)
    parser.add_argument("--arrangements", type=int, default=150_000)
    parser.add_argument("--payments", type=int, default=5_000_000)
    parser.add_argument("--payments-per-reversal", type=int, default=5_000)
    args = parser.parse_args()
    sizes = {"projects": args.projects, "arrangements": args.arrangements, "payments": args.payments,
             "payments_per_reversal": args.payments_per_reversal}
    print(json.dumps(asyncio.run(main_async(sizes)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
