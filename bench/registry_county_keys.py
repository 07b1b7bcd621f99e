"""How long registry_0013 (the roster and its status history keyed by county, issue #15) takes on a database with
data, and how long a writer of the version before waits meanwhile.

A database of its own on DATABASE_URL's server (else on an embedded one of its own) is made as an older FundTrack
left it (tests/platform/before_baseline), brought to registry_0012, filled with `--households` households of two
counties and `--history` status rows each as tests/registry/test_county_keys.py fills them, then upgraded while a
writer of the version before (from a second before) registers a household and records a status change (no county on
it) in a transaction of its own, over and over, until the revision ends (refused, once the filling trigger is gone,
for the county it does not write). Prints JSON; the database is dropped after.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.registry_county_keys \\
        --households 100000 --history 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

import asyncpg

from bench.upgrade_under_writes import OldWriter, row_counts, scratch_database, seconds_to_fill, upgrade_while_writing
from tests.platform import before_baseline
from tests.registry.test_county_keys import FILL_0012, OLD_HISTORY, OLD_HOUSEHOLD


async def _household_and_change(conn: asyncpg.Connection, n: int) -> None:
    async with conn.transaction():
        await conn.execute(OLD_HOUSEHOLD, f"W{n:08d}")
        await conn.execute(OLD_HISTORY, f"W{n:08d}")


async def _register(writer: OldWriter, n: int) -> None:
    """A registry of the version before: a household and its status change (no county on it), in a transaction."""
    await writer.attempt(_household_and_change(writer.conn, n))


def _written(writer: OldWriter) -> dict[str, object]:
    """What the writer recorded, its longest write, and whether it was refused for the county it does not write
    (once the filling trigger is gone); a refusal of another kind fails the bench."""
    refusals = [error for _, error in writer.failures]
    if not all(isinstance(error, asyncpg.NotNullViolationError) for error in refusals):
        raise SystemExit(f"the writer of the version before was refused otherwise: {refusals}")
    return {"written": len(writer.times), "longest_wait_s": round(max(writer.times, default=0), 2),
            "refused_once_done": bool(refusals)}


async def run(households: int, history: int) -> dict[str, object]:
    async with scratch_database("ft_regkeys_bench") as (url, conn):
        await before_baseline.restore_at(conn, url, "registry", "registry_0012_changed_since")
        filled = await seconds_to_fill(conn, FILL_0012, {"households": households, "each": history})
        rows = await row_counts(conn, ("households", "household_status_history"))
        upgrade = await upgrade_while_writing(url, "registry", "registry_0013_county_keys", _register, every=0.01)
        unfilled = await conn.fetchval("SELECT count(*) FROM household_status_history WHERE county_code IS NULL")
        wrong = await conn.fetchval(
            "SELECT count(*) FROM household_status_history x JOIN households h ON h.household_id = x.household_id "
            "WHERE h.county_code <> x.county_code")
    return {"rows": rows, "fill_s": filled, "upgrade_s": upgrade.seconds, "writer": _written(upgrade.writer),
            "history_without_county": unfilled, "history_of_another_county": wrong,
            "load_average": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.households, args.history)), indent=2))


if __name__ == "__main__":
    main()
