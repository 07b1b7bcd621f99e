"""What the benchmarks that call through the gateway share: the whole system started on a database they loaded
(tests/stack.py), a key of a role and jurisdiction made through the admin API, a GET timed `repeat` times, and a
list of documented reads (`Read`) each timed by a key of its own (`measure_gateway`) and shown as a table."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from tests.stack import Stack, TestDatabase, start_stack, stop_all, workdir


@contextmanager
def stack_on(database: TestDatabase) -> Iterator[Stack]:
    """The four services and the gateway on `database`, their pools sharing all of the server's connections; stopped
    (and their working directory removed) when the block ends. The database itself is left as it is."""
    directory = workdir()
    stack = start_stack(database, directory, pool_fraction=1.0)
    try:
        yield stack
    finally:
        stop_all(stack.children)
        shutil.rmtree(directory, ignore_errors=True)


def kept_database(url: str) -> TestDatabase:
    """A database a benchmark did not create (`--reuse URL`): the stack runs on it; nothing drops it."""
    return TestDatabase(url=url, admin_url=url, name="")


async def issue_key(client: httpx.AsyncClient, admin_token: str, *, name: str, role: str, region: str) -> str:
    """An API key of `role` in `region`, made by the admin (`POST /admin/principals`)."""
    issued = await client.post("/admin/principals", headers={"authorization": f"Bearer {admin_token}"},
                               json={"name": name, "role": role, "region_code": region})
    assert issued.status_code == 201, issued.text[:300]
    return str(issued.json()["api_key"])


async def timed(client: httpx.AsyncClient, path: str, repeat: int, *, warmup: int = 0, **kw: Any) -> dict[str, Any]:
    """`warmup` requests (their times apart, as `warmup_ms`), then `repeat` timed ones: p50, p95, max in ms and the
    last status."""
    seconds: list[float] = []
    status = 0
    for _ in range(warmup + repeat):
        started = time.perf_counter()
        response = await client.get(path, **kw)
        seconds.append(time.perf_counter() - started)
        status = response.status_code if status in (0, 200) else status  # the first that was not 200 stays
    ms = sorted(s * 1000 for s in seconds[warmup:])
    figures: dict[str, Any] = {"status": status, "p50_ms": round(statistics.median(ms), 1),
               "p95_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 1), "max_ms": round(ms[-1], 1)}
    if warmup:
        figures["warmup_ms"] = [round(s * 1000, 1) for s in seconds[:warmup]]
    return figures


@dataclass(frozen=True)
class Read:
    """A documented GET, asked through the gateway by a key of `role` in `region` (none: a public route)."""

    label: str
    role: str
    region: str
    path: str
    target_ms: int = 100  # issue #20 point 2: a list or detail read 100 ms p95, a report 1 s, the trace 300 ms a page
    pages: int = 0  # follow next_cursor this many pages first: the page timed is a later one
    in_process: str = ""  # the label of the same work timed in-process by the benchmark
    expect: int = 200
    repeat: int = 0  # at most this many timed requests (0: the run's own number): a read of a whole province's rows


def with_cursor(path: str, cursor: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}cursor={quote(cursor)}"


async def measure_gateway(stack: Stack, reads: list[Read], *, repeat: int,
                          in_process: Callable[[str], str]) -> list[dict[str, Any]]:
    """Each of `reads` through the gateway: one request to warm up (its time kept apart), then `repeat` timed;
    `in_process(label)` is the in-process figure of the same work ('' when there is none)."""
    rows: list[dict[str, Any]] = []
    keys: dict[tuple[str, str], dict[str, str]] = {("", ""): {}}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=120) as client:
        for read in reads:
            who = (read.role, read.region)
            if who not in keys:
                key = await issue_key(client, stack.admin_token, name=f"bench-{read.role}-{read.region}-{os.getpid()}",
                                      role=read.role, region=read.region)
                keys[who] = {"authorization": f"Bearer {key}"}
            path, page_no = read.path, 1
            while page_no <= read.pages:  # to that page, or the last one if there are fewer (a small --scale)
                page = await client.get(path, headers=keys[who])
                assert page.status_code == 200, (path, page.text[:300])
                if page.json()["next_cursor"] is None:
                    break
                path, page_no = with_cursor(read.path, page.json()["next_cursor"]), page_no + 1
            figures = await timed(client, path, min(repeat, read.repeat or repeat), warmup=1, headers=keys[who])
            rows.append({"route": read.label, "path": read.path, "page": page_no,
                         "requests": min(repeat, read.repeat or repeat),
                         "key": " ".join(who).strip() or "none (public)",
                         **figures, "expected_status": read.expect, "target_ms": read.target_ms,
                         "met": figures["p95_ms"] < read.target_ms,
                         "in_process_ms": in_process(read.in_process) if read.in_process else ""})
            print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """`measure_gateway`'s rows as a Markdown table (for bench/RESULTS.md)."""
    lines = ["| route | key | page | status | p50 / p95 / max ms (warm-up) | in-process ms | target p95 ms |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['route']} | {r['key']} | {r['page']} | {r['status']} | "
              f"{r['p50_ms']} / {r['p95_ms']} / {r['max_ms']} "
              f"({r['warmup_ms'][0]}) | {r['in_process_ms']} | {r['target_ms']}: {'met' if r['met'] else 'OVER'} |"
              for r in rows]
    return "\n".join(lines)
