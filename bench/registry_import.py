"""Benchmark of the roster import (issue 5): a million valid lines through the gateway, next to a raw COPY of the
same file into a plain table of the same database, in the same run.

    cd /work/main && DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        /work/main/.venv/bin/python -m bench.registry_import [--lines 1000000]

Starts its own stack (tests/stack.py: a fresh database, migrations, the services and the gateway), generates the CSV
(valid GB 11643 check digits), then measures: the raw COPY (into a plain table with no index, and into a table
shaped like the roster with its primary key); the import through the gateway (wall time, rows/s, peak
RSS of the registry process from /proc VmHWM); the same import straight to the registry's port (other household
ids, no gateway hop or gateway timeout); and a second import of the file through the gateway (every line
unchanged). Prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from services.kernel.db import plain_url
from services.kernel.identity import STREAMED_BODY
from services.kernel.types import id_number_check_char
from tests.conftest import signed
from tests.stack import Stack, create_test_database, start_stack, stop_all

HEADER = "household_id,head_id_number,head_name,county_code,village_code,status,members,village_cadre,card_account"
COUNTIES = ("430523", "430524", "430525", "430527", "431221", "431222", "433123", "433124", "433125", "433126")
STATUSES = ("poor", "poor", "poor", "exited", "exited", "returned", "not_poor")
CHUNK = 1024 * 1024


def generate(path: Path, lines: int) -> int:
    """A CSV of `lines` distinct, valid households; returns its size in bytes."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(HEADER + "\n")
        batch: list[str] = []
        for i in range(lines):
            county = COUNTIES[i % len(COUNTIES)]
            birth = f"{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}"
            first17 = f"{county}{birth}{i % 1000:03d}"
            batch.append(
                f"HH{i:09d},{first17}{id_number_check_char(first17)},户主{i % 9973},{county},"
                f"{county}{100 + i % 20:03d}{i % 300:03d},{STATUSES[i % len(STATUSES)]},{1 + i % 7},"
                f"{1 if i % 97 == 0 else 0},62170000{i:011d}\n"
            )
            if len(batch) == 10000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    return path.stat().st_size


def memory_of(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak resident set since the process started), in KiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


PLAIN_TABLE = (
    "CREATE TABLE public.bench_raw_copy (household_id text, head_id_number text, head_name text, county_code text,"
    " village_code text, status text, members integer, village_cadre boolean, card_account text)"
)
# The roster's columns and primary key (services/registry/models.py: households), without its import numbers.
ROSTER_SHAPED_TABLE = (
    "CREATE TABLE public.bench_raw_copy (household_id varchar(64) PRIMARY KEY, head_id_number varchar(18) NOT NULL,"
    " head_name varchar(100) NOT NULL, county_code varchar(6) NOT NULL, village_code varchar(12) NOT NULL,"
    " status varchar(16) NOT NULL, members smallint NOT NULL, village_cadre boolean NOT NULL,"
    " card_account varchar(64) NOT NULL)"
)


async def raw_copy(url: str, path: Path, table: str = PLAIN_TABLE) -> dict[str, Any]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute(table)
        started = time.perf_counter()
        status = await conn.copy_to_table("bench_raw_copy", schema_name="public", source=str(path),
                                          format="csv", header=True)
        seconds = time.perf_counter() - started
        await conn.execute("DROP TABLE public.bench_raw_copy")
    finally:
        await conn.close()
    rows = int(status.split()[-1])
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}


async def post_import(stack: Stack, path: Path, *, direct: bool) -> httpx.Response:
    """Through the gateway (the admin key), or straight to the registry's port signed as the gateway would."""
    headers = {"content-type": "text/csv"}
    if direct:
        url = stack.service_urls["registry"] + "/registry/households/import"
        headers.update(signed(stack, "POST", url, digest=STREAMED_BODY))
    else:
        url = stack.gateway_url + "/registry/households/import"
        headers["authorization"] = f"Bearer {stack.admin_token}"
    async with httpx.AsyncClient(timeout=httpx.Timeout(900.0)) as client:
        return await client.post(url, content=file_chunks(path), headers=headers)


async def timed_import(stack: Stack, path: Path, pid: int, *, direct: bool = False) -> dict[str, Any]:
    before = memory_of(pid)
    started = time.perf_counter()
    response = await post_import(stack, path, direct=direct)
    seconds = time.perf_counter() - started
    after = memory_of(pid)
    if response.status_code != 200:
        return {"status": response.status_code, "seconds": round(seconds, 2), "error": response.text[:300]}
    body = response.json()
    rows = body["imported"] + body["updated"] + body["unchanged"]
    return {
        "rows": rows,
        "imported": body["imported"],
        "updated": body["updated"],
        "unchanged": body["unchanged"],
        "rejected": body["rejected_count"],
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "registry_rss_before_mib": round(before["VmRSS"] / 1024, 1),
        "registry_rss_after_mib": round(after["VmRSS"] / 1024, 1),
        "registry_peak_rss_mib": round(after["VmHWM"] / 1024, 1),
    }


async def wait_idle(url: str) -> None:
    """Until no import transaction runs (a gateway timeout leaves the registry finishing its merge)."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        while await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fundtrack-registry'"
            " AND state <> 'idle'"
        ):
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def measure(stack: Stack, path: Path) -> dict[str, Any]:
    pid = next(child for child in stack.children if child.name == "registry").process.pid
    load_before = os.getloadavg()
    copy = await raw_copy(stack.database.url, path)
    copy_pk = await raw_copy(stack.database.url, path, ROSTER_SHAPED_TABLE)
    gateway = await timed_import(stack, path, pid)
    await wait_idle(stack.database.url)
    # The same file with other household ids, straight to the service: its own rate, without the gateway hop.
    other = path.with_name("households-direct.csv")
    other.write_bytes(path.read_bytes().replace(b"\nHH", b"\nHJ"))
    direct = await timed_import(stack, other, pid, direct=True)
    again = await timed_import(stack, path, pid)
    results = {"raw_copy": copy, "raw_copy_roster_shaped_with_primary_key": copy_pk,
               "import_via_gateway": gateway, "import_direct_to_service": direct,
               "reimport_unchanged_via_gateway": again,
               "load_average_1_5_15_min": {"before": load_before, "after": os.getloadavg()}}
    for key in ("import_via_gateway", "import_direct_to_service", "reimport_unchanged_via_gateway"):
        if "rows_per_s" in results[key]:
            results[f"{key}_vs_raw_copy"] = round(results[key]["rows_per_s"] / copy["rows_per_s"], 3)
            results[f"{key}_vs_roster_shaped_copy"] = round(results[key]["rows_per_s"] / copy_pk["rows_per_s"], 3)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    os.environ.setdefault("FUNDTRACK_LOG_LEVEL", "WARNING")
    workdir = Path(tempfile.mkdtemp(prefix="fundtrack-bench-"))
    csv_path = workdir / "households.csv"
    started = time.perf_counter()
    size = generate(csv_path, args.lines)
    print(f"generated {args.lines} lines, {size / 2**20:.1f} MiB in {time.perf_counter() - started:.1f} s", flush=True)
    database = asyncio.run(create_test_database(workdir / "db"))
    stack = None
    try:
        stack = start_stack(database, workdir / "stack", pool_fraction=1.0)
        results = asyncio.run(measure(stack, csv_path))
        results.update(lines=args.lines, file_mib=round(size / 2**20, 1), cpus=os.cpu_count())
        print(json.dumps(results, indent=2))
    finally:
        if stack is not None:
            stop_all(stack.children)
        asyncio.run(database.drop())
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
