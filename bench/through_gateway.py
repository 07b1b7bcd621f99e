"""What the benchmarks that call through the gateway share: the whole system started on a database they loaded
(tests/stack.py), a key of a role and jurisdiction made through the admin API, and a GET timed `repeat` times."""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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
