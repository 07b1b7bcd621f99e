"""Processes that must not outlive the process that started them (a supervisor's children, the gateway's verifier
processes): killed or stopped, the parent takes them with it, so nothing is left holding a port, a connection or a
database session."""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """SIGTERM this process when its parent goes (Linux PR_SET_PDEATHSIG: even when the parent is killed with -9).
    Given the `parent` it was started by and that one is already gone, exit at once."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
    if parent is not None and os.getppid() != parent:
        os._exit(0)


_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Orphans of this process's descendants (a daemon a child started, a worker whose parent died) are
    reparented to this process, not to init, so this process sees them and reaps them (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1)
    except OSError:
        pass


def reap_orphans(keep: set[int]) -> None:
    """Reap the exited children of this process that are not in `keep` (those a subprocess.Popen waits for itself):
    the orphans a subreaper was given."""
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, IndexError, ValueError):
            continue
        pid = int(stat.parent.name)
        if parent == me and state == "Z" and pid not in keep:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
