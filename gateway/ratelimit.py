"""S16: a per-client limit on what the public may POST without a key (objections to announcements, complaints),
counted in a store every gateway process shares (the gateway schema's `public_post_counts`), so several gateways
behind one address hold one limit. And who the client is (S11): the direct peer, unless that peer is one of the
proxies the operator configured (FUNDTRACK_TRUSTED_PROXIES), whose X-Forwarded-For is then believed.

The window is cut into SLICES time slices; a client's count is the sum of its rows of the slices still inside the
window. A row is keyed by an HMAC (a key derived from the gateway's service secret) of the window, the slice and the
address, never by the address, and is deleted once its slice has left the window: this is an ephemeral counter, not
a record (nothing about a member of the public outlives the window). The slices are taken from each gateway's clock:
gateways kept in time (NTP) count alike.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Network, IPv6Network, ip_address

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kernel.errors import ServiceUnavailable

log = logging.getLogger("fundtrack.ratelimit")
SLICES = 6
FORGET_AT_ONCE = 1000  # expired rows each admission deletes at most (those another gateway is deleting are skipped)

_LOCK = text("SELECT pg_advisory_xact_lock(:lock)")
_FORGET = text(
    "DELETE FROM public_post_counts WHERE ctid IN (SELECT ctid FROM public_post_counts WHERE expires_at <= :now "
    "LIMIT :most FOR UPDATE SKIP LOCKED)"
)
_COUNTS = text("SELECT client_tag, hits FROM public_post_counts WHERE client_tag = ANY(:tags) AND expires_at > :now")
_HIT = text(
    "INSERT INTO public_post_counts (client_tag, hits, expires_at) VALUES (:tag, 1, :expires_at) "
    "ON CONFLICT (client_tag) DO UPDATE SET hits = public_post_counts.hits + 1"
)


@dataclass(frozen=True)
class Admission:
    allowed: bool
    retry_after_s: int = 0  # refused: whole seconds until the oldest counted submission leaves the window


class SharedWindow:
    """S16: at most `limit` public POSTs per client address in any `window` seconds, across every gateway process
    on the database (admissions of one address are serialised by an advisory lock on its keyed hash)."""

    def __init__(
        self,
        engine: AsyncEngine,
        secret: str,
        *,
        limit: int,
        window: float,
        purpose: str = "public-rate",
    ) -> None:
        self.engine = engine
        self.limit = limit
        self.window = window
        self.slice_seconds = window / SLICES
        # one key per purpose: two windows (the public's posts, S16; sign-ins, S19) count apart in the same table
        self._key = hashlib.sha256(f"fundtrack-{purpose}\n".encode() + secret.encode()).digest()

    def tag(self, client: str, slice_no: int) -> str:
        """The row key of `client` in slice `slice_no` of this window: the address cannot be read back from it."""
        message = f"{self.window:g}|{slice_no}|{client}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _lock_id(self, client: str) -> int:
        digest = hmac.new(self._key, f"lock|{client}".encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def _expiry(self, slice_no: int) -> float:
        """When a slice's row leaves the window: SLICES slices after the slice began."""
        return (slice_no + SLICES) * self.slice_seconds

    async def admit(self, client: str, now: float | None = None) -> Admission:
        """Count one submission of `client`, or refuse it (not counted) when its window is full."""
        now = time.time() if now is None else now
        current = math.floor(now / self.slice_seconds)
        slices = {self.tag(client, n): n for n in range(current - SLICES + 1, current + 1)}
        moment = datetime.fromtimestamp(now, UTC)
        try:
            async with self.engine.begin() as conn:
                await conn.execute(_LOCK, {"lock": self._lock_id(client)})
                await conn.execute(_FORGET, {"now": moment, "most": FORGET_AT_ONCE})
                rows = (await conn.execute(_COUNTS, {"tags": list(slices), "now": moment})).all()
                counted = sorted((slices[row.client_tag], int(row.hits)) for row in rows)
                if sum(hits for _, hits in counted) >= self.limit:
                    return Admission(False, self._retry_after(counted, now))
                expires_at = datetime.fromtimestamp(self._expiry(current), UTC)
                await conn.execute(_HIT, {"tag": self.tag(client, current), "expires_at": expires_at})
        except (DBAPIError, SQLAlchemyError, OSError) as exc:
            raise ServiceUnavailable(
                "暂时无法受理，请稍后再试 / submissions cannot be counted just now (database unavailable); "
                "nothing was changed, try again later"
            ) from exc
        return Admission(True)

    async def forget(self, now: float | None = None) -> int:
        """Delete the rows whose slice has left the window (at most FORGET_AT_ONCE); how many were deleted."""
        moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
        async with self.engine.begin() as conn:
            result = await conn.execute(_FORGET, {"now": moment, "most": FORGET_AT_ONCE})
        return int(getattr(result, "rowcount", 0) or 0)

    async def sweep(self) -> None:
        """Forget expired rows every slice even when nobody posts (an admission forgets them too), so that no
        address's row outlives its window by more than a slice. Runs until cancelled; a failure is retried."""
        while True:
            await asyncio.sleep(self.slice_seconds)
            try:
                while await self.forget() >= FORGET_AT_ONCE:
                    pass
            except (DBAPIError, SQLAlchemyError, OSError):
                log.warning("could not forget the public's expired rate counts; trying again", exc_info=True)

    def _retry_after(self, counted: list[tuple[int, int]], now: float) -> int:
        """Seconds until enough of the oldest counted submissions leave the window for one more to fit."""
        excess = sum(hits for _, hits in counted) - self.limit + 1
        for slice_no, hits in counted:
            excess -= hits
            if excess <= 0:
                return max(1, math.ceil(self._expiry(slice_no) - now))
        return max(1, math.ceil(self.window))


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


def over_tls(scheme: str, peer: str, forwarded_proto: str | None, proxies: Sequence[IPv4Network | IPv6Network]) -> bool:
    """Whether the client reached us over TLS: directly, or through a configured proxy that says so
    (X-Forwarded-Proto, read only from such a proxy, as X-Forwarded-For is)."""
    if scheme == "https":
        return True
    return forwarded_proto == "https" and _trusted(peer, proxies)


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True
