"""How long registry_0015 (the directory of household ids, issue #15) takes on a database with a province's roster,
while a registry of the version before registers a household and moves another every 10 ms (as
tests/registry/test_household_ids.py, at scale): the database restored as the suite's before-baseline left it
(tests/platform/before_baseline), brought to registry_0014, filled with `--households` households of two counties,
then upgraded. Prints the fill and upgrade times, the writer's writes and its longest one (each waits for the
revision's locks at most), and whether the directory ended equal to the roster.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.registry_household_ids \\
        --households 2000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

from bench.upgrade_under_writes import OldWriter, row_counts, scratch_database, seconds_to_fill, upgrade_while_writing
from deploy.doctor import household_ids_drift
from tests.platform import before_baseline
from tests.registry.test_household_ids import FILL_0014, OLD_HOUSEHOLD, OLD_MOVE


async def _register_and_move(writer: OldWriter, n: int) -> None:
    """A registry of the version before: a new household and a move of a 430524 household to 430523."""
    async def both() -> None:
        async with writer.conn.transaction():
            await writer.conn.execute(OLD_HOUSEHOLD, f"W{n:08d}")
            await writer.conn.execute(OLD_MOVE, f"H{3 * n + 1:08d}")  # 430524's (FILL_0014)
    await writer.attempt(both())


async def run(households: int) -> dict[str, object]:
    async with scratch_database("ft_hhids_bench") as (url, conn):
        await before_baseline.restore_at(conn, url, "registry", "registry_0014_nonce_claims")
        filled = await seconds_to_fill(conn, FILL_0014, {"households": households})
        rows = await row_counts(conn, ("households",))
        upgrade = await upgrade_while_writing(url, "registry", "registry_0015_household_ids", _register_and_move,
                                              every=0.01)
        entries = await conn.fetchval("SELECT count(*) FROM household_ids")
        differing = await household_ids_drift(conn)
    return {"rows": rows, "fill_s": filled, "upgrade_s": upgrade.seconds, "writer": upgrade.writer.times_summary(),
            "writer_refused": upgrade.failures(), "directory_entries": entries, "differing_from_roster": differing,
            "load_average": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.households)), indent=2))


if __name__ == "__main__":
    main()
