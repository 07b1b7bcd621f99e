"""S5: a signed state-changing request is used once. Every such request (but a batch lookup, which changes nothing)
claims its nonce in `signed_nonces` in its own transaction, at its end (services/kernel/uow.py); a replay is
refused by the table's key: it waits for the original's transaction, then finds the nonce.

The claim is taken only within `window_seconds` of the signature's own timestamp (the same for a request and its
replays: it is signed), and a nonce is forgotten only `memory_seconds` after it, longer than the window by more than
any statement runs: within the window the original's nonce is still known, after it the claim itself is refused, so
a replay is refused whenever it runs. A request that outlives the window is rolled back (503
REQUEST_OUTLIVED_SIGNATURE), nothing written. Forgetting is bounded and never waited for: the transaction that gets
the schema's advisory lock (tried, never waited for) deletes at most FORGET_AT_ONCE forgotten nonces, so claims do
not queue behind each other's deletes; each claim adds one row, a turn removes up to FORGET_AT_ONCE.

An audited change's claim is the same statement as its outbox entry (`claimed_then`): one round trip, as when the
outbox's unique nonce was the guard (until issue #15: a table partitioned by id cannot keep that index).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import rawsql
from services.kernel.errors import REQUEST_OUTLIVED_SIGNATURE, ReplayedRequest, ServiceUnavailable
from services.kernel.settings import get_settings

FORGET_AT_ONCE = 64
# $1 the nonce, $2 its signature's timestamp (Unix seconds), $3 the window, $4 the memory (seconds), $5 how many
# forgotten nonces a turn deletes at most; `claimed` holds one row if the claim was taken.
_CLAIMED = """
    WITH turn AS (
        SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.signed_nonces forgetting')) AS mine
    ), forgotten AS (
        DELETE FROM signed_nonces
        WHERE (SELECT mine FROM turn)
          AND nonce = ANY(ARRAY(SELECT f.nonce FROM signed_nonces f
                                WHERE f.signed_at < clock_timestamp() - make_interval(secs => $4)
                                ORDER BY f.signed_at LIMIT $5))
    ), claimed AS (
        INSERT INTO signed_nonces (nonce, signed_at)
        SELECT $1, to_timestamp($2) WHERE to_timestamp($2) > clock_timestamp() - make_interval(secs => $3)
        RETURNING 1
    )
"""
CLAIM = _CLAIMED + "SELECT 1 FROM claimed"


def window_seconds() -> float:
    """How long after its signature a state-changing request may still claim its nonce (at its end): the signature's
    lifetime (when it may arrive), a body's longest arrival (a staged upload takes its transaction only once its body
    is whole) and a long statement, and five minutes more (80.5 minutes with the defaults). A request whose work after
    its body runs longer than a long statement and five minutes (several long statements in a row: nothing bounds a
    transaction as a whole) is rolled back at its end; none does so today (a million-line import: seconds)."""
    settings = get_settings()
    return (settings.signature_ttl_seconds + settings.body_timeout_seconds
            + settings.db_long_statement_timeout_seconds + 300.0)


def memory_seconds() -> float:
    """How long after its signature a claimed nonce is kept: the window, then a long statement's time and five
    minutes more, so a claim checked within the window never runs past the forgetting of its original."""
    return window_seconds() + get_settings().db_long_statement_timeout_seconds + 300.0


def claimed_then(statement: str) -> str:
    """`statement` (an INSERT … SELECT … whose arguments start at $6) run only if the claim was taken: add
    `WHERE EXISTS (SELECT 1 FROM claimed)` to its SELECT, and RETURNING 1."""
    return _CLAIMED + statement


async def claim(session: AsyncSession, nonce: str, *, signed_at: int, then: str = CLAIM, args: tuple[Any, ...] = (),
                forget: int = FORGET_AT_ONCE) -> None:
    """Claim `nonce` (and run `then`, a `claimed_then` statement, with `args`): ReplayedRequest if it was claimed
    before, ServiceUnavailable (REQUEST_OUTLIVED_SIGNATURE) if the window has ended; either way the request's
    transaction is rolled back by the unit of work."""
    try:
        done = await rawsql.fetchrow(session, then, nonce, float(signed_at), window_seconds(), memory_seconds(),
                                     forget, *args)
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != "signed_nonces_pkey":
            raise
        raise ReplayedRequest(
            "重放的请求被拒绝 / refused: this signed request was already received once", rule="S5"
        ) from exc
    if done is None:
        raise ServiceUnavailable(
            "请求超过签名时限，未写入任何内容 / this request ran past its signature's window: nothing was written; "
            "send it again with the same Idempotency-Key",
            code=REQUEST_OUTLIVED_SIGNATURE,
            rule="S5",
        )
