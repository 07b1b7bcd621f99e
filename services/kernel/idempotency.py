"""Idempotency-Key on every POST, kept in PostgreSQL in the same transaction as the effect.

The key is claimed first thing in the request's transaction; a concurrent duplicate blocks on the unique index
until the first commits (then it replays the stored response) or rolls back (then it runs itself). A refused
request rolls back, so its key is not kept and a corrected retry is evaluated afresh.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.responses import Response

from services.kernel.errors import IDEMPOTENCY_CONFLICT, Conflict, ValidationProblem
from services.kernel.identity import Principal
from services.kernel.models import IdempotencyKey

MAX_KEY_LENGTH = 255
REPLAY_HEADER = "idempotent-replayed"


def namespace(principal: Principal) -> str:
    """Whose keys a key is among: the principal's, and for a keyless caller its client's too (S11), so that one
    member of the public can neither replay nor collide with another's key."""
    return f"{principal.id}@{principal.client}" if principal.client else principal.id


def request_digest(method: str, path: str, body_sha256: str) -> str:
    return hashlib.sha256(f"{method} {path} {body_sha256}".encode()).hexdigest()


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationProblem(
            f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} printable characters", field="Idempotency-Key"
        )


async def claim(session: AsyncSession, *, principal_id: str, key: str, digest: str | None) -> Response | None:
    """Claim the key for this request, or return the stored response of the request that claimed it first.

    `digest` None: the body is streamed and not hashed yet; the caller confirms it with `confirm` before replaying.
    """
    check_key(key)
    inserted = await session.execute(
        insert(IdempotencyKey)
        .values(principal_id=principal_id, key=key, request_sha256=digest or "", status=0, media_type="", body=b"")
        .on_conflict_do_nothing()
        .returning(col(IdempotencyKey.key))
    )
    if inserted.first() is not None:
        return None
    stored = (
        await session.execute(
            select(IdempotencyKey).where(
                col(IdempotencyKey.principal_id) == principal_id, col(IdempotencyKey.key) == key
            )
        )
    ).scalar_one()
    if digest is not None:
        confirm(stored_digest=stored.request_sha256, digest=digest)
    return Response(
        content=stored.body,
        status_code=stored.status,
        media_type=stored.media_type,
        headers={REPLAY_HEADER: "true"},
    )


def confirm(*, stored_digest: str, digest: str) -> None:
    if stored_digest != digest:
        raise Conflict(
            "同一幂等键用于不同请求 / this Idempotency-Key was used with a different request",
            code=IDEMPOTENCY_CONFLICT,
            field="Idempotency-Key",
        )


async def stored_digest(session: AsyncSession, *, principal_id: str, key: str) -> str:
    row = await session.execute(
        select(col(IdempotencyKey.request_sha256)).where(
            col(IdempotencyKey.principal_id) == principal_id, col(IdempotencyKey.key) == key
        )
    )
    return str(row.scalar_one())


async def store(
    session: AsyncSession,
    *,
    principal_id: str,
    key: str,
    digest: str,
    response: Response,
    replay_body: bytes | None = None,
) -> None:
    """Keep the response for replays; `replay_body` replaces a body that must not be stored (a secret in it)."""
    await session.execute(
        update(IdempotencyKey)
        .where(col(IdempotencyKey.principal_id) == principal_id, col(IdempotencyKey.key) == key)
        .values(
            request_sha256=digest,
            status=response.status_code,
            media_type=response.media_type or "application/json",
            body=replay_body if replay_body is not None else bytes(response.body),
        )
    )
