"""Idempotency-Key on every POST, kept in PostgreSQL in the same transaction as the effect.

The key is claimed as the request's transaction begins, i.e. at its first statement (services/kernel/uow.py): after
whatever the handler asks other services first, so no connection is held while they answer. A concurrent duplicate
blocks on the unique index until the first commits (then it replays the stored response) or rolls back (then it runs
itself). A route that asks other services first looks for a stored answer before asking (`stored_answer`), so a
replay is answered without asking them again (and while they are down). A refused
request rolls back, so its key is not kept and a corrected retry is evaluated afresh.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection, Row, Select, select, update
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


@dataclass(frozen=True)
class Kept:
    """The answer kept for a key, and the digest of the request that got it (to confirm a streamed replay)."""

    request_sha256: str
    response: Response


def claim(connection: Connection, *, principal_id: str, key: str, digest: str | None) -> Kept | None:
    """Claim the key for this request on its transaction's connection, or return the stored response of the request
    that claimed it first. Synchronous: the unit of work runs it as its transaction begins (uow.py, `_Unit.begun`),
    on the connection SQLAlchemy has just taken for it.

    `digest` None: the body is streamed and not hashed yet; the caller confirms it with `confirm` before replaying.
    """
    check_key(key)
    inserted = connection.execute(
        insert(IdempotencyKey)
        .values(principal_id=principal_id, key=key, request_sha256=digest or "", status=0, media_type="", body=b"")
        .on_conflict_do_nothing()
        .returning(col(IdempotencyKey.key))
    )
    if inserted.first() is not None:
        return None
    stored = connection.execute(_stored(principal_id, key)).one()
    if digest is not None:
        confirm(stored_digest=stored.request_sha256, digest=digest)
    return _kept(stored)


async def stored_answer(session: AsyncSession, *, principal_id: str, key: str, digest: str | None) -> Kept | None:
    """The answer kept for this key, if a request holding it has committed (one in progress is not seen): a replay
    found without claiming anything. `digest` None: a streamed body, confirmed by the caller."""
    check_key(key)
    stored = (await session.execute(_stored(principal_id, key))).first()
    if stored is None:
        return None
    if digest is not None:
        confirm(stored_digest=stored.request_sha256, digest=digest)
    return _kept(stored)


def _stored(principal_id: str, key: str) -> Select[str, int, str, bytes]:
    return select(
        col(IdempotencyKey.request_sha256), col(IdempotencyKey.status), col(IdempotencyKey.media_type),
        col(IdempotencyKey.body),
    ).where(col(IdempotencyKey.principal_id) == principal_id, col(IdempotencyKey.key) == key)


def _kept(stored: Row[str, int, str, bytes]) -> Kept:
    sha256, status, media_type, body = stored
    return Kept(sha256, Response(content=body, status_code=status, media_type=media_type,
                                 headers={REPLAY_HEADER: "true"}))


def confirm(*, stored_digest: str, digest: str) -> None:
    if stored_digest != digest:
        raise Conflict(
            "同一幂等键用于不同请求 / this Idempotency-Key was used with a different request",
            code=IDEMPOTENCY_CONFLICT,
            field="Idempotency-Key",
        )


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
