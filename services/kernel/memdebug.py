"""Where a process's memory goes (issue #14), off unless FUNDTRACK_MEMDEBUG_DIR names a directory.

When it does, each process (each uvicorn worker) starts tracemalloc at its start-up and, on SIGUSR2, appends to
`<dir>/<process>-<pid>.txt`: the Python-level bytes traced now, the object count of the types whose count changed
most since the last dump (gc), and the allocation sites that grew most since the last dump (tracemalloc, grouped
by the `FUNDTRACK_MEMDEBUG_FRAMES` innermost frames, default 6; 0 leaves tracemalloc off and dumps only the
counts), with the RSS, the threads, pymalloc's blocks and glibc's malloc figures. Objects that accumulate show
there; RSS that rises while they do not is the allocator's (fragmentation), not a leak. tracemalloc slows the
process several times: never enable it in production. bench/memory_probe.py drives it.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType

ENV_DIR = "FUNDTRACK_MEMDEBUG_DIR"
ENV_FRAMES = "FUNDTRACK_MEMDEBUG_FRAMES"
ENV_REFERRERS = "FUNDTRACK_MEMDEBUG_REFERRERS"  # type names (comma-separated): what holds their oldest objects
TOP = 25


class _Dumper:
    def __init__(self, name: str, directory: Path) -> None:
        self.path = directory / f"{name}-{os.getpid()}.txt"
        self.snapshot: tracemalloc.Snapshot | None = None
        self.types: Counter[str] = Counter()

    def dump(self) -> None:
        gc.collect()
        types = Counter(type(o).__qualname__ for o in gc.get_objects())
        tracing = tracemalloc.is_tracing()
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
        ) if tracing else None
        current, peak = tracemalloc.get_traced_memory()
        lines = [f"=== {time.strftime('%H:%M:%S', time.gmtime())} UTC pid {os.getpid()} rss {_rss_mib():.1f} MiB "
                 f"threads {threading.active_count()} gc objects {sum(types.values())} python blocks "
                 f"{sys.getallocatedblocks()} {_malloc()}"
                 + (f" traced {current / 2**20:.2f} MiB (peak {peak / 2**20:.2f})" if tracing else "")]
        changed = sorted(((n - self.types.get(t, 0), t, n) for t, n in types.items()), reverse=True)[:TOP]
        lines += [f"  type {t}: {n} ({d:+d})" for d, t, n in changed if d]
        if self.snapshot is not None and snapshot is not None:
            for stat in snapshot.compare_to(self.snapshot, "traceback")[:TOP]:
                if stat.size_diff <= 0:
                    continue
                lines.append(f"  {stat.size_diff / 1024:+.1f} KiB ({stat.count_diff:+d} blocks) now "
                             f"{stat.size / 1024:.1f} KiB in {stat.count} blocks")
                lines += [f"      {frame.filename}:{frame.lineno}" for frame in stat.traceback]
        for wanted in filter(None, os.environ.get(ENV_REFERRERS, "").split(",")):
            alive = [o for o in gc.get_objects() if type(o).__qualname__ == wanted][:2]
            for obj in alive:
                lines.append(f"  held {wanted} {id(obj):x}:")
                lines += _holders(obj, depth=4, indent="    ", skip={id(alive)})
        self.snapshot, self.types = snapshot, types
        with self.path.open("a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")


def _rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _malloc() -> str:
    """glibc's own account (mallinfo2): bytes malloc holds from the system, and of them in use and free. In use
    flat while held grows is fragmentation; in use growing is a native leak (C extensions, not seen by gc)."""
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (AttributeError, OSError):
        return "malloc n/a"
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    held, used = (info.arena + info.hblkhd) / 2**20, (info.uordblks + info.hblkhd) / 2**20
    return f"malloc held {held:.1f} MiB in use {used:.1f} MiB free {info.fordblks / 2**20:.1f} MiB"


def _holders(obj: object, *, depth: int, indent: str, skip: set[int]) -> list[str]:
    """Who refers to `obj`, `depth` levels up (the first few referrers at each), frames and our own lists left out."""
    if depth == 0:
        return []
    out: list[str] = []
    referrers = gc.get_referrers(obj)
    skip = skip | {id(referrers)}
    for holder in [r for r in referrers if id(r) not in skip and not isinstance(r, FrameType)][:4]:
        out.append(f"{indent}{type(holder).__module__}.{type(holder).__qualname__} {repr(holder)[:160]}")
        out += _holders(holder, depth=depth - 1, indent=indent + "  ", skip=skip)
    return out


def install(name: str) -> bool:
    """Start tracing and answer SIGUSR2 with a dump, when FUNDTRACK_MEMDEBUG_DIR is set; else nothing (False)."""
    directory = os.environ.get(ENV_DIR)
    if not directory:
        return False
    Path(directory).mkdir(parents=True, exist_ok=True)
    frames = int(os.environ.get(ENV_FRAMES, "6"))
    if frames > 0 and not tracemalloc.is_tracing():  # 0: counts only (gc, malloc, RSS), at full speed
        tracemalloc.start(frames)
    dumper = _Dumper(name, Path(directory))
    with dumper.path.open("a", encoding="utf-8") as out:  # which pids answer SIGUSR2 (its default action kills)
        out.write(f"{name} pid {os.getpid()} tracemalloc {frames} frames\n")

    def on_signal(signum: int, frame: FrameType | None) -> None:
        dumper.dump()

    signal.signal(signal.SIGUSR2, on_signal)
    return True
