"""How long projects_0009 … 0011 (the project library keyed by county, issue #15) take on a database with data.

A database of its own on DATABASE_URL's server (else on an embedded one of its own) is made as an older FundTrack left
it (tests/platform/before_baseline), brought to projects_0008, filled with `--projects` projects and their children as
tests/projects/test_county_keys.py fills them (`--events` events each; an announcement, an asset, a dividend each; an
objection every second project, a resolution every fourth; three shares and three payouts each), then upgraded one
revision at a time, each timed. Prints JSON; the database is dropped after.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.projects_county_keys \\
        --projects 100000 --events 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

from alembic import command

from bench.upgrade_under_writes import row_counts, scratch_database, seconds_to_fill
from deploy.migrate import alembic_config
from tests.platform import before_baseline
from tests.projects.test_county_keys import FILL_0008

REVISIONS = ("projects_0009_county_keys_events", "projects_0010_keys_objections", "projects_0011_keys_assets")
TABLES = ("projects", "project_events", "announcements", "objections", "objection_resolutions", "assets",
          "asset_shares", "dividends", "dividend_payouts")


async def run(projects: int, events: int) -> dict[str, object]:
    async with scratch_database("ft_projkeys_bench") as (url, conn):
        await before_baseline.restore_at(conn, url, "projects", "projects_0008_revisions")
        filled = await seconds_to_fill(conn, FILL_0008, {"projects": projects, "events": events})
        rows = await row_counts(conn, TABLES)
        seconds = {}
        for revision in REVISIONS:
            started = time.perf_counter()
            await asyncio.to_thread(command.upgrade, alembic_config("projects", url), revision)
            seconds[revision] = round(time.perf_counter() - started, 1)
        unfilled = sum([await conn.fetchval(f"SELECT count(*) FROM {t} WHERE county_code IS NULL") for t in TABLES])
    return {"rows": rows, "fill_s": filled, "upgrade_s": seconds, "rows_without_county": unfilled,
            "load_average": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.projects, args.events)), indent=2))


if __name__ == "__main__":
    main()
