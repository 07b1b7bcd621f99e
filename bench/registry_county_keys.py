"""How long registry_0013 (the roster and its status history keyed by county, issue #15) takes on a database with
data, and how long a writer of the version before waits meanwhile.

A database of its own on DATABASE_URL's server is made as an older FundTrack left it (tests/platform/before_baseline),
brought to registry_0012, filled with `--households` households of two counties and `--history` status rows each as
tests/registry/test_county_keys.py fills them, then upgraded while a writer of the version before registers a
household and records a status change (no county on it) in a transaction of its own, over and over, until the
revision ends (or a write is refused for the county it does not write: once the filling trigger is gone). Prints
JSON; the database is dropped after.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.registry_county_keys \\
        --households 100000 --history 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid

import asyncpg
from alembic import command

from deploy.migrate import alembic_config
from services.kernel.db import plain_url
from tests.platform import before_baseline
from tests.registry.test_county_keys import FILL_0012, OLD_HISTORY, OLD_HOUSEHOLD
from tests.stack import _with_database


async def _writer(url: str, upgrading: asyncio.Event) -> dict[str, object]:
    conn = await asyncpg.connect(plain_url(url))
    written, longest, refused = 0, 0.0, False
    try:
        await conn.execute("SET search_path = registry")
        while not upgrading.is_set():
            started = time.perf_counter()
            try:
                async with conn.transaction():
                    await conn.execute(OLD_HOUSEHOLD, f"W{written:08d}")
                    await conn.execute(OLD_HISTORY, f"W{written:08d}")
            except asyncpg.NotNullViolationError:
                refused = True
                break
            longest = max(longest, time.perf_counter() - started)
            written += 1
            await asyncio.sleep(0.01)
    finally:
        await conn.close()
    return {"written": written, "longest_wait_s": round(longest, 2), "refused_once_done": refused}


async def run(server: str, households: int, history: int) -> dict[str, object]:
    name = f"ft_regkeys_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain_url(server))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(server, name)
    try:
        conn = await asyncpg.connect(plain_url(url))
        try:
            await before_baseline.restore(conn)
            await asyncio.to_thread(command.upgrade, alembic_config("registry", url), "registry_0012_changed_since")
            await conn.execute("SET search_path = registry")
            started = time.perf_counter()
            for statement in FILL_0012:
                await conn.execute(statement.format(households=households, each=history))
            await conn.execute("VACUUM ANALYZE")
            filled = round(time.perf_counter() - started, 1)
            rows = {t: await conn.fetchval(f"SELECT count(*) FROM {t}")
                    for t in ("households", "household_status_history")}
            done = asyncio.Event()
            writer = asyncio.create_task(_writer(url, done))
            started = time.perf_counter()
            try:
                await asyncio.to_thread(command.upgrade, alembic_config("registry", url), "registry_0013_county_keys")
            finally:
                seconds = round(time.perf_counter() - started, 1)
                done.set()
                wrote = await writer
            unfilled = await conn.fetchval("SELECT count(*) FROM household_status_history WHERE county_code IS NULL")
            wrong = await conn.fetchval(
                "SELECT count(*) FROM household_status_history x JOIN households h ON h.household_id = x.household_id "
                "WHERE h.county_code <> x.county_code")
        finally:
            await conn.close()
        return {"rows": rows, "fill_s": filled, "upgrade_s": seconds, "writer": wrote,
                "history_without_county": unfilled, "history_of_another_county": wrong,
                "load_average": os.getloadavg()}
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=4)
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL")
    if not server:
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (a database of its own is made there)")
    print(json.dumps(asyncio.run(run(server, args.households, args.history)), indent=2))


if __name__ == "__main__":
    main()
