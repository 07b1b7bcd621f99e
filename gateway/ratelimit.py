"""A per-client limit on what the public may POST without a key (objections to announcements): a sliding window
in memory, so nobody's address is stored."""

from __future__ import annotations

import os
import time
from collections import deque

PUBLIC_POSTS_PER_MINUTE = int(os.environ.get("FUNDTRACK_PUBLIC_POSTS_PER_MINUTE", "5"))
WINDOW_SECONDS = 60.0
MAX_CLIENTS = 100_000


class SlidingWindow:
    def __init__(self, limit: int = PUBLIC_POSTS_PER_MINUTE, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if len(self._hits) > MAX_CLIENTS:
            self._hits.clear()  # under a flood of addresses, forget rather than grow without bound
        hits = self._hits.setdefault(client, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True
