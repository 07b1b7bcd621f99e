"""Sessions (issue #19): how a person who signed in is known on each request, as a key is for a system.

The token is 256 random bits, sent once in an HttpOnly, SameSite=Strict cookie (Secure over TLS) and kept only as
its SHA-256. A session ends at its expiry, when the person signs out, or when their principal is revoked. Its CSRF
token is an HMAC of the session token under the service secret: nothing to store, and a page can only know it by
being served to the session (S20: every state-changing request a cookie authenticates carries it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import CookieError, SimpleCookie

from sqlalchemy import func, insert, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.models import principal_revocations, principals, session_ends, sessions
from services.kernel.identity import Principal

COOKIE = "ft_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SESSION_HOURS = 10  # a working day; then sign in again
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_value(cookie_header: str | None, name: str = COOKIE) -> str | None:
    if not cookie_header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        return None
    morsel = jar.get(name)
    value = morsel.value if morsel is not None else ""
    return value if 0 < len(value) <= 128 else None


@dataclass(frozen=True)
class Signed:
    """A session as a request presents it: who, and the CSRF token its state-changing requests must carry."""

    principal: Principal
    token: str
    csrf: str


class SessionStore:
    def __init__(self, engine: AsyncEngine, secret: str) -> None:
        self.engine = engine
        self._csrf_key = hashlib.sha256(b"fundtrack-csrf\n" + secret.encode()).digest()

    def csrf_for(self, token: str) -> str:
        return hmac.new(self._csrf_key, token.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, token: str, presented: str | None) -> bool:
        """S20: the CSRF token presented with a state-changing request is this session's."""
        return presented is not None and hmac.compare_digest(self.csrf_for(token), presented)

    async def open(self, principal_id: str) -> str:
        token = "fts_" + secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(hours=SESSION_HOURS)
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(sessions).values(token_sha256=token_digest(token), principal_id=principal_id, expires_at=expires)
            )
        return token

    async def end(self, token: str, reason: str = "signed_out") -> None:
        """Sign out (or end for `reason`): an unknown or already ended token changes nothing."""
        async with self.engine.begin() as conn:
            await conn.execute(
                pg_insert(session_ends)
                .from_select(
                    ["token_sha256", "reason"],
                    select(sessions.c.token_sha256, literal(reason)).where(
                        sessions.c.token_sha256 == token_digest(token)
                    ),
                )
                .on_conflict_do_nothing()
            )

    async def signed(self, token: str) -> Signed | None:
        """The live session of this token: not expired, not ended, its principal not revoked."""
        query = (
            select(
                principals.c.id,
                principals.c.role,
                principals.c.region_code,
                principals.c.name,
                principals.c.organisation_id,
            )
            .select_from(
                sessions.join(principals, principals.c.id == sessions.c.principal_id)
                .outerjoin(session_ends, session_ends.c.token_sha256 == sessions.c.token_sha256)
                .outerjoin(principal_revocations, principal_revocations.c.principal_id == principals.c.id)
            )
            .where(
                sessions.c.token_sha256 == token_digest(token),
                sessions.c.expires_at > func.now(),
                session_ends.c.token_sha256.is_(None),
                principal_revocations.c.principal_id.is_(None),
            )
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        principal = Principal(
            id=row.id, role=row.role, region_code=row.region_code, name=row.name, organisation_id=row.organisation_id
        )
        return Signed(principal, token, self.csrf_for(token))
