"""A per-client limit on what the public may POST without a key (objections to announcements): a sliding window
in memory, so nobody's address is stored. And who the client is (S11): the direct peer, unless that peer is one of
the proxies the operator configured (FUNDTRACK_TRUSTED_PROXIES), whose X-Forwarded-For is then believed."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

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


def _trusted(address: str, proxies: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in proxies)


def client_address(peer: str, forwarded_for: str | None, proxies: Sequence[IPv4Network | IPv6Network]) -> str:
    """S11: the address a limit counts. X-Forwarded-For is anyone's to write, so it is read only when the direct
    peer is a configured proxy; then from its right end (the hop our proxy added) leftwards, skipping our own
    proxies, the first address is the client. A peer outside the list counts as itself, whatever it sends."""
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop if _is_address(hop) else peer
    return hops[0] if hops else peer


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True
