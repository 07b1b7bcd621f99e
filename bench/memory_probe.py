"""Benchmark (issue #14, the funds workers' memory): bench/mixed_load.py's seed and mix, but only the routes whose
name holds `--routes` (default "/funds": every funds read and write), with tracemalloc on in every process
(services/kernel/memdebug.py) and a dump of each one's Python-level allocations every `--every` seconds.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.memory_probe \
        [--seconds 300] [--every 60] [--routes "/funds"] [--out /tmp/memprobe]

Prints (JSON) each process's RSS at every dump and the requests sent per route; the dumps (per process: traced
MiB, gc type counts that changed, the allocation sites that grew since the last dump) are left in `--out`. Under
tracemalloc the processes run several times slower: the figures are for where memory goes, not for speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from bench.load import run_fast
from bench.mixed_load import processes, read_ops, rss_mib, seeded_stack, write_ops
from services.kernel.memdebug import ENV_DIR


async def hammer(world: Any, gateway: str, seconds: float, clients: int, routes: list[str], every: float,
                 procs: dict[str, Any], out: Path) -> dict[str, Any]:
    ops = read_ops() + write_ops()
    sent: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    memory: list[dict[str, Any]] = []
    started = time.perf_counter()
    deadline = started + seconds

    def dump() -> None:
        # only the processes that installed the handler (a file each): SIGUSR2 kills any other
        for traced in out.glob("*-*.txt"):
            try:
                os.kill(int(traced.stem.rsplit("-", 1)[1]), signal.SIGUSR2)
            except ProcessLookupError:
                pass
        memory.append({"at_s": round(time.perf_counter() - started), "rss_mib": rss_mib(procs)})

    async def client(n: int, session: aiohttp.ClientSession) -> None:
        r = random.Random(n)
        while time.perf_counter() < deadline:
            request = r.choices([b for _, b in ops], weights=[x for x, _ in ops])[0](world, r)
            if request is None or request.refusal or request.replay_of is not None \
                    or not any(x in request.route for x in routes):
                continue
            headers = dict(request.api.headers())
            if request.key:
                headers["idempotency-key"] = request.key
            data = None
            if request.json is not None:
                headers["content-type"] = "application/json"
                data = json.dumps(request.json)
            async with session.request(request.method, gateway + request.path, params=request.params,
                                       headers=headers, data=data) as response:
                raw = await response.read()
            sent[request.route] += 1
            if response.status not in request.expect:
                failed[f"{request.route} {response.status}"] += 1
            elif request.on_done is not None:
                request.on_done(json.loads(raw))

    async def dumper() -> None:
        while time.perf_counter() < deadline:
            dump()
            await asyncio.sleep(min(every, max(0.0, deadline - time.perf_counter())))

    ticking = asyncio.create_task(dumper())
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        await asyncio.gather(*(client(n, session) for n in range(clients)))
    await ticking
    await asyncio.sleep(1)
    dump()
    return {"seconds": round(time.perf_counter() - started), "sent": dict(sent), "failed": dict(failed),
            "memory": memory}


async def main(seconds: float, clients: int, households: int, routes: list[str], every: float, out: Path) -> int:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    os.environ[ENV_DIR] = str(out)  # the stack's processes inherit it
    async with seeded_stack(households) as run:
        result = await hammer(run.world, run.stack.gateway_url, seconds, clients, routes, every,
                              processes(run.stack), out)
        print(json.dumps({"load_average": os.getloadavg(), "routes": routes, **result, "dumps": str(out)},
                         ensure_ascii=False, indent=1), flush=True)
        return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--households", type=int, default=200, help="households per county on the roster")
    parser.add_argument("--routes", default="/funds", help="comma-separated parts of route names to send")
    parser.add_argument("--every", type=float, default=60.0)
    parser.add_argument("--out", default="/tmp/memprobe")
    args = parser.parse_args()
    raise SystemExit(run_fast(main(args.seconds, args.clients, args.households,
                                  [r.strip() for r in args.routes.split(",") if r.strip()], args.every,
                                  Path(args.out))))
