"""API keys: issued once, stored only as SHA-256 (keys are 256-bit random, so a fast hash is enough), revoked
at once (every request looks the key up; there is no cache to outlive a revocation)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.models import principal_revocations, principals
from services.kernel.identity import Principal

KEY_PREFIX = "ft_"
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


class Authenticator:
    def __init__(self, engine: AsyncEngine, admin_token: str) -> None:
        self.engine = engine
        self.admin_digest = key_digest(admin_token)

    async def principal_for(self, api_key: str) -> Principal | None:
        digest = key_digest(api_key)
        if hmac.compare_digest(digest, self.admin_digest):
            return Principal(id=ADMIN_PRINCIPAL_ID, role="admin", region_code="000000", name="built-in admin")
        query = (
            select(principals.c.id, principals.c.role, principals.c.region_code, principals.c.name)
            .select_from(principals.outerjoin(principal_revocations))
            .where(principals.c.key_sha256 == digest, principal_revocations.c.principal_id.is_(None))
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return Principal(id=row.id, role=row.role, region_code=row.region_code, name=row.name)


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
