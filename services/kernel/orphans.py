"""Processes that must not outlive the process that started them (a supervisor's children, the gateway's verifier
processes): killed or stopped, the parent takes them with it, so nothing is left holding a port, a connection or a
database session."""

from __future__ import annotations

import ctypes
import os
import signal

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
