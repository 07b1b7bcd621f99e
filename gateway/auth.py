"""API keys: issued once, stored only as SHA-256 (keys are 256-bit random, so a fast hash is enough), revoked
at once.

Known keys are cached in the gateway process so that a request does not cost a database round trip. A revocation
must still take effect at once, so the cache is only trusted while it hears about revocations
(gateway/revocations.py: LISTEN on a channel that every revocation NOTIFYs in its own transaction); the process
that revokes also forgets the principal itself before answering. Without a live listener every request looks the key
up, as before. Unknown keys are never cached.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway import metrics
from gateway.models import principal_revocations, principals
from services.kernel.identity import Principal

log = logging.getLogger("fundtrack.auth")
KEY_PREFIX = "ft_"
PRINCIPAL_ID = re.compile(r"prn_[0-9a-z]{26}")  # services.kernel.ids.new_id("prn")
ADMIN_PRINCIPAL_ID = "admin"


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class KeyCache:
    """Principals by key digest, trusted only while the revocation listener is connected (`set_live`)."""

    def __init__(self, *, ttl_seconds: float = 300.0, max_entries: int = 50_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._live = False
        self.generation = 0  # bumped whenever the listener connects or drops

    def set_live(self, live: bool) -> None:
        """Going live or losing the listener both start from an empty cache: nothing heard while deaf is trusted."""
        self._entries.clear()
        self._live = live
        self.generation += 1
        metrics.KEY_CACHE_LIVE.set(1 if live else 0)

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest) if self._live else None
        if entry is None:
            return None
        principal, expires = entry
        if expires < time.monotonic():
            del self._entries[digest]
            return None
        metrics.KEY_CACHE_HITS.inc()
        return principal

    def put(self, digest: str, principal: Principal, *, generation: int) -> None:
        """Keep what a lookup found, unless the listener dropped or reconnected since the lookup began."""
        if not self._live or generation != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[digest] = (principal, time.monotonic() + self.ttl_seconds)

    def revoked(self, principal_id: str) -> None:
        """A revoked principal is forgotten, and a lookup that began before the revocation does not put it back
        (the generation moves on). Nothing is kept per revocation: any database role may NOTIFY the channel, and a
        set of every id heard grew the gateway's memory without bound (an outside probe: 2,000 notifications of
        8 KB, +16 MB each time). A payload that is no principal id is ignored."""
        if PRINCIPAL_ID.fullmatch(principal_id) is None:
            log.warning("ignored a revocation notice that names no principal (%d characters)", len(principal_id))
            return
        self.generation += 1
        for digest in [d for d, (p, _) in self._entries.items() if p.id == principal_id]:
            del self._entries[digest]


class Authenticator:
    def __init__(self, engine: AsyncEngine, admin_token: str, cache: KeyCache | None = None) -> None:
        self.engine = engine
        self.admin_digest = key_digest(admin_token)
        self.cache = cache or KeyCache()

    async def principal_for(self, api_key: str) -> Principal | None:
        digest = key_digest(api_key)
        if hmac.compare_digest(digest, self.admin_digest):
            return Principal(id=ADMIN_PRINCIPAL_ID, role="admin", region_code="000000", name="built-in admin")
        cached = self.cache.get(digest)
        if cached is not None:
            return cached
        generation = self.cache.generation
        query = (
            select(
                principals.c.id,
                principals.c.role,
                principals.c.region_code,
                principals.c.name,
                principals.c.organisation_id,
            )
            .select_from(principals.outerjoin(principal_revocations))
            .where(principals.c.key_sha256 == digest, principal_revocations.c.principal_id.is_(None))
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        principal = Principal(
            id=row.id, role=row.role, region_code=row.region_code, name=row.name, organisation_id=row.organisation_id
        )
        self.cache.put(digest, principal, generation=generation)
        return principal


ADMIN_TOKEN_FILE = "admin_token"


def admin_token(data_dir: str) -> str:
    """FUNDTRACK_ADMIN_TOKEN, or the token generated on first start and kept in the data directory."""
    given = os.environ.get("FUNDTRACK_ADMIN_TOKEN")
    if given:
        return given
    path = Path(data_dir) / ADMIN_TOKEN_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = "ft_admin_" + secrets.token_urlsafe(32)
    path.write_text(token)
    path.chmod(0o600)
    return token
