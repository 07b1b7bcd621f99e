"""A2 and A7: GET /audit/verify checks the trail from the last point it verified, not from its genesis (issue #13):
that point's root against the stored tree, the stored roots of the signed checkpoints, then only the entries chained
since (their chain links, leaves and tree hashes, gateway/tree_verify.py). A process's first point is the witness's
latest checkpoint (signed by the key outside the database, published outside it), or the genesis when there is none.
One verification runs at a time; inspectors asking while it runs share its result.

What this does not re-read is an entry before the point: GET /audit/entries/{seq} gives its inclusion proof (an
inspector's check of it fails for a changed entry), and the full check (`FullChecks`, POST /audit/verify/full) reads
the whole trail again in the background.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway import checkpoints, note, tree_check
from gateway.audit_settings import AuditSettings
from gateway.checkpoints import Checkpointer
from gateway.metrics import VERIFICATIONS
from gateway.tree_verify import GENESIS, TreeState, TreeVerification, state_at, verify_from
from services.kernel import rawsql
from services.kernel.errors import ServiceUnavailable

log = logging.getLogger("fundtrack.audit")
PUBLISHED = 1000  # signed checkpoints whose roots a verification compares, the latest first


class RestartingPool(Executor):
    """A process pool made again when it is broken (a worker that died: the OOM killer, a kill, a crash): the
    verification running then fails, the next one runs on new processes instead of failing until a restart."""

    def __init__(self, make: Callable[[], ProcessPoolExecutor]) -> None:
        self._make = make
        self._pool = make()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        try:
            return self._pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool:
            log.error("an audit verifier process died: its pool is made again")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._make()
            return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def verify_pool(settings: AuditSettings, url: str, server_settings: dict[str, str]) -> Executor | None:
    """The processes of `verify_workers`, each with its own connection to `url`: fresh interpreters (spawned: the
    gateway's threads and sockets are not forked) that die with the gateway, however it ends; made again if one
    dies."""
    if settings.verify_workers == 0:
        return None
    return RestartingPool(
        lambda: ProcessPoolExecutor(
            settings.verify_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=tree_check.start_worker,
            initargs=(url, server_settings, os.getpid()),
        )
    )


@dataclass(frozen=True)
class Verified:
    result: TreeVerification
    verified_at: datetime  # when this verification started


class SharedVerification:
    def __init__(self, engine: AsyncEngine, checkpointer: Checkpointer, pool: Executor | None = None) -> None:
        self.engine = engine
        self.checkpointer = checkpointer
        self.pool = pool
        self.running: asyncio.Task[Verified] | None = None
        self.point: TreeState | None = None  # the last verified point

    async def result(self) -> Verified:
        """The running verification's result, or a new one's. A caller that goes away does not cancel it for the
        others (shield); one that failed fails its callers, and the next call starts afresh."""
        if self.running is None or self.running.done():
            self.running = asyncio.create_task(self._run())
        return await asyncio.shield(self.running)

    async def _run(self) -> Verified:
        VERIFICATIONS.inc()
        started = datetime.now(UTC)
        async with self.engine.connect() as conn:
            raw = await rawsql.connection(conn)
            published = await signed_checkpoints(raw, self.checkpointer)
            point = self.point
            if point is None:
                witnessed = self.witnessed()
                point = GENESIS if witnessed is None else await state_at(raw, witnessed)
            try:
                result = await verify_from(raw, point, published, pool=self.pool)
            except BrokenProcessPool as exc:  # a verifier died mid-way; the pool is made again for the next one
                raise ServiceUnavailable(
                    "审计校验进程中断 / a verifier process died during this verification: nothing is known of the "
                    "entries it was checking; ask again (its pool has been started again)"
                ) from exc
        if result.ok:
            self.point = TreeState(result.entries, result.root, result.head_hash)
        else:
            log.error("!!! AUDIT TAMPERING: %s (first bad entry %s)", result.problem, result.first_bad_seq)
        return Verified(result, started)

    def witnessed(self) -> note.Checkpoint | None:
        published = self.checkpointer.witness.latest()
        if published is None:
            return None
        try:
            return note.open_checkpoint(published, [self.checkpointer.signer.verifier_key])
        except note.NoteError:
            return None  # said by the checkpointer (its `problem`); the verification starts from the genesis


class OpenedNotes:
    """The signed checkpoints of the last verification's window, opened with the log's key: the same text and key
    open to the same checkpoint every time (a refused one is not kept), so a verification does not verify again the
    signatures of up to PUBLISHED notes on the event loop. It keeps exactly the last window (issue #14, memory): a
    note that left the window is dropped at the next verification, so what it holds is bounded by the window and
    does not build up as checkpoints are signed (an LRU of 4 × PUBLISHED filled for hours, one note every 5 s)."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], note.Checkpoint] = {}

    def __len__(self) -> int:
        return len(self._kept)

    def open(self, texts: list[str], key: str) -> list[note.Checkpoint]:
        window: dict[tuple[str, str], note.Checkpoint] = {}
        opened = []
        for text in texts:
            known = self._kept.get((text, key)) or window.get((text, key))
            if known is None:
                try:
                    known = note.open_checkpoint(text, [key])
                except note.NoteError:
                    log.error("!!! AUDIT TAMPERING: a stored checkpoint is not signed by the log's key")
                    continue
            window[(text, key)] = known
            opened.append(known)
        self._kept = window  # no await above: two verifications never interleave here
        return opened


OPENED = OpenedNotes()


async def signed_checkpoints(raw: asyncpg.Connection, checkpointer: Checkpointer) -> list[note.Checkpoint]:
    """The latest signed checkpoints of the database whose signature is the log's, and the witness's latest."""
    found = await checkpoints.latest_ones(raw, PUBLISHED)
    notes = [cp.note for cp in found]
    if (witnessed := checkpointer.witness.latest()) is not None:
        notes.append(witnessed)
    return OPENED.open(notes, checkpointer.signer.verifier_key)


@dataclass
class FullCheck:
    id: str
    started_at: datetime
    done: int = 0
    total: int = 0
    result: TreeVerification | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class FullChecks:
    """POST /audit/verify/full: the whole trail recomputed from its genesis in the background, with progress."""

    def __init__(self, engine: AsyncEngine, checkpointer: Checkpointer, pool: Executor | None = None) -> None:
        self.engine = engine
        self.checkpointer = checkpointer
        self.pool = pool
        self.checks: dict[str, FullCheck] = {}
        self._ids = itertools.count(1)

    def start(self) -> FullCheck:
        """Start a full check, or answer the one already running: one at a time per gateway, so that asking again
        (or many admins asking at once) never stacks whole-trail reads on the database and the process."""
        running = next((c for c in self.checks.values() if c.task is not None and not c.task.done()), None)
        if running is not None:
            return running
        check = FullCheck(f"full-{next(self._ids)}-{int(datetime.now(UTC).timestamp())}", datetime.now(UTC))
        check.task = asyncio.create_task(self._run(check))
        self.checks[check.id] = check
        return check

    async def _run(self, check: FullCheck) -> None:
        def progress(done: int, total: int) -> None:
            check.done, check.total = done, total

        try:
            async with self.engine.connect() as conn:
                raw = await rawsql.connection(conn)
                published = await signed_checkpoints(raw, self.checkpointer)
                check.result = await verify_from(raw, GENESIS, published, progress, self.pool)
        except Exception as exc:
            log.exception("full audit check %s failed", check.id)
            check.error = str(exc)
