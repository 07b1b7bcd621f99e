"""A small closed-loop load generator (aiohttp, bounded in time and count): N workers each send the next request
as soon as the previous one answered. Reports requests/s and latency percentiles.

It shares the machine's cores with what it measures, so it runs on uvloop (`run_fast`), as the services do:
on asyncio's own loop it spent ~0.4 ms of CPU per request, taken from the API it measures (pgbench, its
baseline, is C)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import uvloop

T = TypeVar("T")


@dataclass
class Result:
    name: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def row(self) -> str:
        return (f"| {self.name} | {self.concurrency} | {self.requests} | {self.rps:,.0f} | {self.pct(0.5):.2f} | "
                f"{self.pct(0.99):.2f} | {self.errors} |")


HEADER = "| what | clients | requests | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|---|"

RequestSpec = Callable[[int], tuple[str, str, dict[str, str], Any]]  # i → (method, url, headers, json)


async def run(name: str, spec: RequestSpec, *, concurrency: int, seconds: float = 5.0,
              max_requests: int = 200_000, ok: tuple[int, ...] = (200, 201)) -> Result:
    latencies: list[float] = []
    errors = 0
    counter = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal counter, errors
            while time.perf_counter() < deadline and counter < max_requests:
                counter += 1
                method, url, headers, body = spec(counter)
                started = time.perf_counter()
                async with session.request(method, url, headers=headers, json=body) as response:
                    await response.read()
                    if response.status not in ok:
                        errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(name, concurrency, len(latencies), errors, elapsed, latencies)


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on uvloop."""
    uvloop.install()
    return asyncio.run(main)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
