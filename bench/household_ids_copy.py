"""What the directory of household ids (registry.household_ids, issue #15) costs the roster import, in raw
PostgreSQL: 1,000,000 households of random ids COPYed in chunks of 50,000 (the import's CHUNK_LINES), in one
transaction, into bare tables shaped like the roster, with (A) a unique index on the id (before registry_0015),
(B) a plain index on the id and the directory kept by the registry's own trigger, (C) the directory by that trigger
and no index on the id (what registry_0015 keeps), (D) a plain index and the directory by a second COPY. After C,
one county's households (10,000 of a million) are moved in one UPDATE under the import's planner settings. The
variants alternate, `--rounds` times each, in a database of their own (DATABASE_URL's server, else an embedded
one), dropped at the end.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.household_ids_copy
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from collections.abc import AsyncIterator

import asyncpg

from bench.upgrade_under_writes import scratch_database
from services.registry.models import DIRECTORY_FUNCTION, DIRECTORY_TRIGGERS

CHUNK = 50_000
COLUMNS = ["household_id", "head_id_number", "head_name", "county_code", "village_code", "status", "members",
           "village_cadre", "card_account", "registered_by", "updated_by"]
ROSTER = """CREATE TABLE households (household_id varchar(64) NOT NULL, head_id_number varchar(18) NOT NULL,
 head_name varchar(100) NOT NULL, county_code varchar(6) NOT NULL, village_code varchar(12) NOT NULL,
 status varchar(16) NOT NULL, members smallint NOT NULL, village_cadre boolean NOT NULL,
 card_account varchar(64) NOT NULL, registered_by bigint NOT NULL, updated_by bigint NOT NULL,
 PRIMARY KEY (county_code, household_id))"""
DIRECTORY = "CREATE TABLE household_ids (household_id varchar(64) PRIMARY KEY, county_code varchar(6) NOT NULL)"
# the registry's own function and triggers (services/registry/models.py)
TRIGGER = [DIRECTORY_FUNCTION, *DIRECTORY_TRIGGERS]
VARIANTS = {
    "A unique index on the id (before)": ([ROSTER, "CREATE UNIQUE INDEX ON households (household_id)"], False),
    "B plain index + directory by trigger": (
        [ROSTER, "CREATE INDEX ON households (household_id)", DIRECTORY, *TRIGGER], False),
    "C directory by trigger, no index on the id (kept)": ([ROSTER, DIRECTORY, *TRIGGER], False),
    "D plain index + directory by a second COPY": (
        [ROSTER, "CREATE INDEX ON households (household_id)", DIRECTORY], True),
}


def chunks(lines: int) -> tuple[list[bytes], list[bytes]]:
    """The roster's chunks and the directory's (id, county) chunks, of households with ids in no order."""
    ids = [f"HH{i:09d}" for i in range(lines)]
    random.Random(1).shuffle(ids)  # the national system's ids are in no order the import follows
    rows = [(h, f"{430500 + i % 100}") for i, h in enumerate(ids)]
    roster = ["".join(f"{h},430523198001011234,户主,{c},{c}101001,poor,3,false,6217000000000{n % 1000000:06d},1,1\n"
                      for n, (h, c) in enumerate(rows[i:i + CHUNK], start=i)).encode()
              for i in range(0, lines, CHUNK)]
    directory = ["".join(f"{h},{c}\n" for h, c in rows[i:i + CHUNK]).encode() for i in range(0, lines, CHUNK)]
    return roster, directory


async def _source(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def one(conn: asyncpg.Connection, statements: list[str], second_copy: bool, data: tuple[list[bytes],
              list[bytes]]) -> float:
    await conn.execute("DROP SCHEMA IF EXISTS bench_household_ids CASCADE; CREATE SCHEMA bench_household_ids; "
                       "SET search_path = bench_household_ids")
    for statement in statements:
        await conn.execute(statement)
    await conn.execute("CHECKPOINT")
    started = time.perf_counter()
    async with conn.transaction():
        await conn.execute("SET LOCAL work_mem = '64MB'")  # as the import sets it
        for roster, directory in zip(*data, strict=True):
            await conn.copy_to_table("households", source=_source(roster), columns=COLUMNS, format="csv")
            if second_copy:
                await conn.copy_to_table("household_ids", source=_source(directory),
                                         columns=["household_id", "county_code"], format="csv")
    return time.perf_counter() - started


async def move_a_county(conn: asyncpg.Connection) -> float:
    """A county's households (1 in 100) moved to another in one UPDATE, under the import's planner settings (hash
    and merge joins off, repository.PREPARE), as a re-import's merge moves them: what the directory's trigger costs
    a statement of many moved households."""
    started = time.perf_counter()
    async with conn.transaction():
        await conn.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        await conn.execute("UPDATE households SET county_code = '439999', village_code = '439999101001' "
                           "WHERE county_code = '430500'")
    return time.perf_counter() - started


async def run(lines: int, rounds: int) -> dict[str, object]:
    data = chunks(lines)
    seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
    moves: list[float] = []
    async with scratch_database("ft_hhcopy_bench") as (_, conn):
        for _ in range(rounds):
            for name, (statements, second_copy) in VARIANTS.items():
                seconds[name].append(round(await one(conn, statements, second_copy, data), 2))
                if name.startswith("C"):
                    moves.append(round(await move_a_county(conn), 2))
    return {"lines": lines, "seconds": seconds, "median_s": {k: statistics.median(v) for k, v in seconds.items()},
            "moving_a_county_s": moves, "load_average": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.lines, args.rounds)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
