"""One transaction per request, committed once at the edge (handlers and services only flush).

`UnitOfWorkRoute` wraps every service route: it opens the session, runs the handler, and on a 2xx answer writes the
audit outbox entry (for changes) and the idempotency record in the same transaction before committing. Anything else
rolls back, so a refused request changes nothing.

Ask first, then write (issue #14): the session takes a pooled connection only at the handler's first statement, and
the Idempotency-Key of a POST is claimed then, as the transaction begins (`_Unit.begun`). So a handler that asks
another service (the registry, projects) before its first statement holds no connection, and no key, while it
waits: a stalled dependency cannot take the pool from the service's other routes. A route that asks others
(`asks_others`: one of its dependencies is a `kernel.http.service_dependency`) first looks for an answer kept for its
key, so a replay is answered without asking again. What is asked first must be reads: a duplicate sent while the
first is still running asks too, before it waits for the first's key.

A slow client is such a wait too (issue #14): a route that reads its body as a stream (`streamed_body`) either
stages it before its first statement (`staged`: the evidence upload), and then takes its connection and claims its
key only once the body is whole (`body_staged`), or writes as the body arrives (the roster import), and then holds
its connection from the start, as one of at most `streams_at_once` such requests of a worker.

Asking another service while the request's transaction is open is refused (`kernel.context.holds_connection`,
checked by every `ServiceClient` call): release it first, or ask before the first statement (a brief read of one's
own tables in its own session: `BriefReadsDep`). The one exception is declared (`asks_while_reading`): a detector
run, one at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel
from sqlalchemy import Connection, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from starlette.responses import Response
from starlette.types import Message, Receive

from services.kernel import idempotency, nonces, outbox
from services.kernel.context import connection_check
from services.kernel.db import long_statements_sql
from services.kernel.errors import (
    BODY_DIGEST_MISMATCH,
    DATABASE_TIMEOUT,
    Problem,
    ServiceUnavailable,
    Unauthorized,
    database_unavailable,
)
from services.kernel.http import ASKS_SERVICE
from services.kernel.identity import STREAMED_BODY, Principal
from services.kernel.jsonbody import StrictJsonRoute
from services.kernel.rawsql import no_connection, sqlstate_of
from services.kernel.settings import get_settings

log = logging.getLogger("fundtrack.uow")
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUDITED_FLAG = "x-fundtrack-unaudited"
READS_ONLY_FLAG = "x-fundtrack-reads-only"
STREAMED_FLAG = "x-fundtrack-streamed-body"
STAGED_FLAG = "x-fundtrack-staged-body"
# How long a request that writes as its body arrives waits for its turn (`streams_at_once`) before it is refused: its
# body is not read meanwhile, so well under the gateway's grace before it asks a body for a minimum rate (S12, 10 s).
STREAM_TURN_SECONDS = 5.0
# Deadlock detected, serialization failure: the whole request is run again in a fresh transaction.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
# A statement cancelled by statement_timeout, a lock not granted within lock_timeout (services/kernel/db.py).
TIMEOUT_SQLSTATES = frozenset({"57014", "55P03"})
LONG_FLAG = "x-fundtrack-long-statements"
ASKS_WHILE_READING_FLAG = "x-fundtrack-asks-while-reading"
RETRY_ATTEMPTS = 3


def unaudited(*, reads_only: bool = False) -> dict[str, Any]:
    """openapi_extra for internal routes whose effect is bookkeeping, not a business change. `reads_only`: a POST
    that changes nothing (a batch lookup), whose replay is harmless, so its nonce is not kept (S5)."""
    return {AUDITED_FLAG: True, READS_ONLY_FLAG: reads_only}


def streamed_body(*, staged: bool = False) -> dict[str, Any]:
    """openapi_extra for routes that read a large body as a stream (never whole in memory); their statements may
    run long (a million-line import).

    No slow client may hold a pooled connection while its body arrives (issue #14). `staged`: the handler receives
    its whole body (into a temporary file) before its first statement, then calls `body_staged`: the request's
    connection is taken and its Idempotency-Key claimed only then, with the body's hash (a statement run before the
    body is whole is refused as a programming error). Otherwise the route writes as its body arrives, so it holds its
    connection (and its key) from the start: a worker runs at most `streams_at_once` of these at once, the others
    waiting up to STREAM_TURN_SECONDS for a turn, holding nothing, then refused 503.

    The roster import is the second kind by design: it COPYs a chunk while the next arrives, which is its speed
    (bench/RESULTS-registry.md: a million lines through the gateway), and a roster may be 1 GiB; staged first, it
    would be written and read twice and loaded only after its last byte. A bounded number of slow imports can take
    at most half a worker's pool, never the whole."""
    return {STREAMED_FLAG: True, LONG_FLAG: True, STAGED_FLAG: staged}


def streams_at_once(pool_size: int) -> int:
    """How many requests that hold their connection while their body arrives a worker runs at once: half its pool
    (at least one), so slow clients leave the other half to the service's other routes (but a pool of one)."""
    return max(1, pool_size // 2)


def long_statements() -> dict[str, Any]:
    """openapi_extra for routes whose statements may run longer than a request's (scans, reports): the
    transaction takes the long statement timeout."""
    return {LONG_FLAG: True}


def asks_while_reading() -> dict[str, Any]:
    """openapi_extra for the one kind of route allowed to ask another service inside its transaction: a detector run
    (POST /internal/alerts/scan) streams its own tables in parts and asks the registry about each part, so it cannot
    give its connection back in between. The gateway runs one scan at a time (gateway/scan_jobs.py), so this holds
    at most one connection of the pool, never the pool."""
    return {ASKS_WHILE_READING_FLAG: True}


class _HashingReceive:
    """Hashes a request body as the handler streams it, so a streamed POST can still be idempotent."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.digest = hashlib.sha256()
        self.whole = False  # the last part of the body was received

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.digest.update(message.get("body", b""))
            self.whole = not message.get("more_body", False)
        return message


async def _drain(request: Request) -> None:
    async for _ in request.stream():
        pass


@dataclass
class _Writes:
    """What the unit of work writes for a request once its answer is known: the audit outbox entry of a change, or
    the nonce of an unaudited one (S5), and the idempotency record of a keyed POST; `written` once done."""

    request: Request
    session: AsyncSession
    principal: Principal
    audited: bool
    reads_only: bool
    key: str | None
    hashing: _HashingReceive | None
    body_sha256: str
    written: Response | None = None

    async def write(self, response: Response) -> None:
        if self.hashing is not None:
            self.body_sha256 = self.hashing.digest.hexdigest()
        request, session = self.request, self.session
        nonce: str | None = getattr(request.state, "signed_nonce", None)
        # S5 (kernel/nonces.py): a change's nonce is claimed in the statement of its outbox entry, an unaudited one's
        # on its own; a batch lookup changes nothing and claims none
        claim = None if nonce is None or self.reads_only else (nonce, int(getattr(request.state, "signed_at", 0)))
        if self.audited and request.method in MUTATING:
            await outbox.record(session, request=request, response=response, principal=self.principal,
                                body_sha256=self.body_sha256, claim=claim)
        elif request.method in MUTATING and claim is not None:
            await nonces.claim(session, claim[0], signed_at=claim[1])
        if self.key is not None:
            await idempotency.store(
                session,
                principal_id=idempotency.namespace(self.principal),
                key=self.key,
                digest=idempotency.request_digest(request.method, request.url.path, self.body_sha256),
                response=response,
                replay_body=getattr(request.state, "idempotent_replay_body", None),
            )
        self.written = response

    def check_answered(self, response: Response) -> None:
        """The answer sent is the one written ahead (Receipt.write): anything else is a programming error."""
        assert self.written is not None
        if response.status_code != self.written.status_code or bytes(response.body) != bytes(self.written.body):
            raise RuntimeError("the handler answered otherwise than the receipt it wrote ahead (uow.Receipt)")


class Receipt:
    """A verb's way to have the unit of work write the request's audit entry and idempotency record *now*, before
    its last statement, rather than after the handler returns. For a verb whose last statement locks a hot row (an
    allocation locks its issuer's treasury): the lock is then held for that statement and the commit only, and the
    verb still reads top to bottom. `write(answer)` takes the answer the route returns (serialized as FastAPI does,
    with the route's status code); the unit of work checks that the route does answer that, and writes nothing more.
    If anything after it fails, the whole transaction rolls back, these rows with it. Outside a unit of work (a
    verb called by a test or a command) it writes nothing."""

    def __init__(self, writes: _Writes | None = None, status_code: int = 200) -> None:
        self._writes = writes
        self._status_code = status_code

    async def write(self, answer: BaseModel, *, entities: Sequence[str] = ()) -> None:
        """Write the audit entry (naming `entities` besides the answer's id) and idempotency record of `answer`."""
        if self._writes is None:
            return
        outbox.name_entities(self._writes.request, entities)
        body = answer.__pydantic_serializer__.to_json(answer)
        await self._writes.write(Response(content=body, media_type="application/json", status_code=self._status_code))


NO_RECEIPT = Receipt()


def principal_of(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise Unauthorized("no signed principal on this request")
    return principal


UNIT = "fundtrack_unit"  # the session's info key of its request's `_Unit`
_BEGUN = "fundtrack_unit_begun"  # set once the unit's first transaction began (its key claimed there)


@dataclass(frozen=True)
class _Unit:
    """What a request's transaction does first, on the connection it has just taken (`_begun`): the long statement
    timeout of a route declared long, and the claim of the request's Idempotency-Key (`key`, in `namespace`). A
    staged body (`staged`) must be whole by then, and the key is claimed with its hash."""

    long: bool
    namespace: str = ""
    key: str | None = None
    digest: str | None = None  # None: a streamed body, not hashed yet
    staged: _HashingReceive | None = None
    request_line: tuple[str, str] = ("", "")  # method, path: what the digest of a staged body is taken with

    def begun(self, connection: Connection, *, first: bool) -> None:
        """On each transaction the request's session begins; the key is claimed in its first only: a later one (a
        counted refusal's record, committed alone after the request's work was rolled back: kernel/throttle.py) is
        not the request's write, and claiming there would commit an empty claim that spends the key."""
        digest = self.digest
        if self.staged is not None:
            if not self.staged.whole:
                raise RuntimeError(
                    "a route declared streamed_body(staged=True) ran a statement before its body was whole: receive "
                    "it first, then call uow.body_staged (issue #14: no connection is held while a client sends)"
                )
            digest = idempotency.request_digest(*self.request_line, self.staged.digest.hexdigest())
        if self.long:
            connection.exec_driver_sql(long_statements_sql())
        if self.key is None or not first:
            return
        try:
            kept = idempotency.claim(connection, principal_id=self.namespace, key=self.key, digest=digest)
        except Problem as problem:
            raise _Interrupted(problem=problem) from problem
        if kept is not None:
            raise _Interrupted(kept=kept)


class _Interrupted(Exception):
    """Raised out of a handler's first statement when its key was taken: by a request that has committed (`kept`:
    its answer is replayed) or by another request body (`problem`: 409). Not a Problem, so that a handler's own
    `except Problem` does not take it for one of its refusals."""

    def __init__(self, *, kept: idempotency.Kept | None = None, problem: Problem | None = None) -> None:
        super().__init__("the Idempotency-Key was taken")
        self.kept, self.problem = kept, problem


@event.listens_for(Session, "after_begin")
def _begun(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    unit = session.info.get(UNIT)
    if isinstance(unit, _Unit) and not transaction.nested:
        first = not session.info.get(_BEGUN, False)
        session.info[_BEGUN] = True
        unit.begun(connection, first=first)


def _asks_others(dependant: Dependant) -> bool:
    """Whether a route (or any of its dependencies) takes a `kernel.http.service_dependency`."""
    return any(hasattr(d.call, ASKS_SERVICE) or _asks_others(d) for d in dependant.dependencies)


def _holds_connection(request: Request, task: asyncio.Task[Any] | None) -> bool:
    session = getattr(request.state, "session", None)
    return asyncio.current_task() is task and isinstance(session, AsyncSession) and session.in_transaction()


class UnitOfWorkRoute(StrictJsonRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        extra = self.openapi_extra or {}
        audited = not extra.get(AUDITED_FLAG, False)
        reads_only = bool(extra.get(READS_ONLY_FLAG, False))
        streamed = bool(extra.get(STREAMED_FLAG, False))
        staged = streamed and bool(extra.get(STAGED_FLAG, False))
        long = bool(extra.get(LONG_FLAG, False))
        asks_others = _asks_others(self.dependant)
        checked = not extra.get(ASKS_WHILE_READING_FLAG, False)

        async def run_in_transaction(request: Request) -> Response:
            task = asyncio.current_task()
            token = connection_check.set((lambda: _holds_connection(request, task)) if checked else None)
            try:
                if streamed and not staged:
                    async with _stream_turn(request):
                        return await _attempts(request, handler, audited=audited, streamed=True, staged=False,
                                               reads_only=reads_only, long=long, asks_others=asks_others)
                return await _attempts(request, handler, audited=audited, streamed=streamed, staged=staged,
                                       reads_only=reads_only, long=long, asks_others=asks_others)
            finally:
                connection_check.reset(token)

        return run_in_transaction


@asynccontextmanager
async def _stream_turn(request: Request) -> AsyncIterator[None]:
    """One of the `streams_at_once` turns of the worker for a request that holds its connection while its body
    arrives; waited for up to STREAM_TURN_SECONDS holding nothing, then 503 (the body read to its end first, so the
    gateway sending it is not cut off)."""
    turns = getattr(request.app.state, "stream_turns", None)
    if not isinstance(turns, asyncio.Semaphore):
        turns = request.app.state.stream_turns = asyncio.Semaphore(streams_at_once(get_settings().db_pool_size))
    try:
        await asyncio.wait_for(turns.acquire(), STREAM_TURN_SECONDS)
    except TimeoutError:
        await _drain(request)
        raise ServiceUnavailable(
            "同时进行的上传已达上限，未做任何更改，请稍后用同一幂等键重试 / as many uploads as this worker takes at "
            "once are under way: nothing was done; send it again later, with the same Idempotency-Key"
        ) from None
    try:
        yield
    finally:
        turns.release()


async def _attempts(
    request: Request,
    handler: Callable[[Request], Awaitable[Response]],
    *,
    audited: bool,
    streamed: bool,
    staged: bool,
    reads_only: bool,
    long: bool,
    asks_others: bool,
) -> Response:
    sessions = request.app.state.sessions
    attempts = 1 if streamed else RETRY_ATTEMPTS  # a streamed body cannot be read twice
    for attempt in range(1, attempts + 1):
        request.state.audit_entities = []
        async with sessions() as session:
            request.state.session = session
            try:
                return await _run(request, session, handler, audited=audited, streamed=streamed, staged=staged,
                                  reads_only=reads_only, long=long, asks_others=asks_others)
            except (DBAPIError, asyncpg.PostgresError, PoolTimeout, ConnectionRefusedError) as exc:
                if no_connection(exc):  # nothing of the request ran
                    raise database_unavailable() from exc
                if sqlstate_of(exc) in TIMEOUT_SQLSTATES:
                    raise ServiceUnavailable(
                        "数据库未及时完成，未做任何更改 / the database did not finish in time (a statement or "
                        "lock timeout): nothing was changed; retry later with the same Idempotency-Key",
                        code=DATABASE_TIMEOUT,
                    ) from exc
                if sqlstate_of(exc) not in RETRYABLE_SQLSTATES:
                    raise
                log.warning("transaction %d of %d lost to a deadlock or serialization failure", attempt, attempts)
        await asyncio.sleep(0.005 * attempt)
    raise ServiceUnavailable(
        "数据库争用，请用同一幂等键重试 / the database was contended; nothing was changed, retry with the "
        "same Idempotency-Key"
    )


async def _run(
    request: Request,
    session: AsyncSession,
    handler: Callable[[Request], Awaitable[Response]],
    *,
    audited: bool,
    streamed: bool,
    staged: bool = False,
    reads_only: bool = False,
    long: bool = False,
    asks_others: bool = False,
) -> Response:
    principal = principal_of(request)
    signed_digest = getattr(request.state, "signed_body_sha256", None)
    if signed_digest == STREAMED_BODY and not streamed:
        raise Unauthorized(
            "请求体未经签名 / refused: only a streamed upload may be signed without its body's digest",
            code=BODY_DIGEST_MISMATCH,
            rule="S5",
        )
    key = request.headers.get("idempotency-key") if request.method == "POST" else None
    hashing: _HashingReceive | None = None
    body_sha256 = ""
    if streamed:
        hashing = _HashingReceive(request._receive)
        request._receive = hashing
    elif signed_digest is not None:  # the middleware compared the body with it already (kernel/signed.py)
        body_sha256 = signed_digest
    else:
        body_sha256 = hashlib.sha256(await request.body()).hexdigest()

    unit = _Unit(long)
    if key is not None:
        idempotency.check_key(key)
        # A streamed body is not known yet: a replay is recognised by the key, then confirmed by hashing the body.
        digest = None if streamed else idempotency.request_digest(request.method, request.url.path, body_sha256)
        namespace = idempotency.namespace(principal)
        if asks_others:  # a replay is answered before anyone is asked; the connection goes back at once
            kept = await idempotency.stored_answer(session, principal_id=namespace, key=key, digest=digest)
            await session.rollback()
            if kept is not None:
                return await _replayed(request, kept, hashing)
        unit = _Unit(long, namespace, key, digest)
    if staged:
        unit = replace(unit, staged=hashing, request_line=(request.method, request.url.path))
    session.info[UNIT] = unit

    writes = _Writes(request, session, principal, audited, reads_only, key, hashing, body_sha256)
    request.state.unit_writes = writes
    try:
        if streamed and not staged:  # its key is claimed before the body is read: a replay hashes the whole body
            await session.connection()
        response = await handler(request)
        if 200 <= response.status_code < 300:
            if writes.written is None:
                await writes.write(response)
            else:
                writes.check_answered(response)
    except _Interrupted as interrupted:
        await session.rollback()
        if interrupted.problem is not None:
            raise interrupted.problem from None
        assert interrupted.kept is not None
        return await _replayed(request, interrupted.kept, hashing)
    except BaseException:
        await session.rollback()
        raise
    if not 200 <= response.status_code < 300:
        await session.rollback()
        return response
    await session.commit()
    return response


async def _replayed(request: Request, kept: idempotency.Kept, hashing: _HashingReceive | None) -> Response:
    """The answer kept for the request's key; a streamed body is read whole first (unless it was, staged), to
    confirm it is the same."""
    if hashing is not None:
        if not hashing.whole:
            await _drain(request)
        digest = idempotency.request_digest(request.method, request.url.path, hashing.digest.hexdigest())
        idempotency.confirm(stored_digest=kept.request_sha256, digest=digest)
    return kept.response


async def body_staged(request: Request) -> None:
    """For a route declared `streamed_body(staged=True)`, once its body is whole (staged) and before it keeps
    anything: its transaction begins now, taking its connection and claiming its Idempotency-Key with the body's
    hash, so a replay, or a key sent with another body (409), keeps nothing. Outside a unit of work, nothing."""
    session = getattr(request.state, "session", None)
    if isinstance(session, AsyncSession):
        await session.connection()


def get_session(request: Request) -> AsyncSession:
    session = getattr(request.state, "session", None)
    if not isinstance(session, AsyncSession):
        raise RuntimeError("route is not a UnitOfWorkRoute: give its router route_class=UnitOfWorkRoute")
    return session


# Dependencies are coroutines on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread hop per
# request for what is an attribute read.
async def session_dependency(request: Request) -> AsyncSession:
    return get_session(request)


async def principal_dependency(request: Request) -> Principal:
    return principal_of(request)


async def receipt_dependency(request: Request) -> Receipt:
    route = request.scope.get("route")
    return Receipt(getattr(request.state, "unit_writes", None), getattr(route, "status_code", None) or 200)


BriefReads = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@asynccontextmanager
async def brief_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Reads of the service's own tables in a session of their own, its connection given back at the end of the
    block: for what a route must read before it asks another service (release, ask, then write), or before its
    staged body has arrived (`streamed_body(staged=True)`). Refused while the request's transaction holds its
    connection: a second connection for one request lets requests that each hold one wait on the pool for another."""
    check = connection_check.get()
    if check is not None and check():
        raise RuntimeError(
            "a brief session was opened while the request's transaction holds a connection: read before the first "
            "statement (two connections for one request can exhaust the pool)"
        )
    async with request.app.state.sessions() as session:
        try:
            yield session
        finally:
            await session.rollback()


async def brief_reads_dependency(request: Request) -> BriefReads:
    """`brief_session` as a dependency."""
    return lambda: brief_session(request)


SessionDep = Annotated[AsyncSession, Depends(session_dependency)]
BriefReadsDep = Annotated[BriefReads, Depends(brief_reads_dependency)]
ReceiptDep = Annotated[Receipt, Depends(receipt_dependency)]
PrincipalDep = Annotated[Principal, Depends(principal_dependency)]
