"""Signed checkpoints of the trail's Merkle tree (issue #13, rule A6): `(origin, size, root, time)` in the C2SP
checkpoint text, signed with the key outside the database (gateway/signing.py), stored in `audit_checkpoints` and
published to the witness directory (gateway/witness.py).

A checkpoint is signed at most every FUNDTRACK_AUDIT_CHECKPOINT_SECONDS while entries arrive, and on demand
(POST /audit/checkpoints). None is signed unless the tree extends the witness's latest checkpoint (a consistency
proof, or the same root at the same size): a trail rewritten in the database, or cut short, is refused loudly
instead of being signed, and `problem` says what was found until it is resolved.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway import note, tlog, tree_store
from gateway.signing import Signer
from gateway.witness import Witness
from services.kernel import rawsql

log = logging.getLogger("fundtrack.audit")
CHECKPOINT_LOCK = 0x46_54_43_48_45_43_4B  # "FTCHECK": one signer at a time, whatever the number of gateways
_LATEST = "SELECT size, root, at, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1"
_AT = "SELECT size, root, at, note FROM audit_checkpoints WHERE size = $1"
_AFTER = "SELECT size, root, at, note FROM audit_checkpoints WHERE size > $1 ORDER BY size LIMIT $2"
_LATEST_ONES = "SELECT size, root, at, note FROM audit_checkpoints ORDER BY size DESC LIMIT $1"
_INSERT = "INSERT INTO audit_checkpoints (size, root, at, note) VALUES ($1, $2, $3, $4)"


class CheckpointRefused(RuntimeError):
    """The tree does not extend what the witness published: no checkpoint is signed over it."""


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root: bytes
    at: datetime
    note: str


def _row(row: asyncpg.Record | None) -> SignedCheckpoint | None:
    if row is None:
        return None
    return SignedCheckpoint(int(row["size"]), bytes(row["root"]), row["at"], row["note"])


async def latest(raw: asyncpg.Connection) -> SignedCheckpoint | None:
    return _row(await raw.fetchrow(_LATEST))


async def at_size(raw: asyncpg.Connection, size: int) -> SignedCheckpoint | None:
    return _row(await raw.fetchrow(_AT, size))


async def latest_ones(raw: asyncpg.Connection, limit: int) -> list[SignedCheckpoint]:
    return [cp for r in await raw.fetch(_LATEST_ONES, limit) if (cp := _row(r)) is not None]


async def after(raw: asyncpg.Connection, size: int, limit: int) -> list[SignedCheckpoint]:
    return [cp for r in await raw.fetch(_AFTER, size, limit) if (cp := _row(r)) is not None]


async def extends(raw: asyncpg.Connection, size: int, root: bytes, older: note.Checkpoint) -> str | None:
    """None when the stored tree of `size` records (root `root`) extends `older`; else what is wrong."""
    if older.size > size:
        return f"the tree holds {size} entries, fewer than checkpoint {older.size}: entries are gone"
    if older.size == size or older.size == 0:
        return None if older.root == root or older.size == 0 else f"the tree's root at {size} is not the checkpoint's"
    try:
        tlog.check_tree(await tree_store.tree_proof(raw, size, older.size), size, root, older.size, older.root)
    except (tlog.ProofError, tree_store.TreeError) as exc:
        return f"the tree of {size} entries is not an extension of checkpoint {older.size} ({exc})"
    return None


class Checkpointer:
    def __init__(self, engine: AsyncEngine, signer: Signer, witness: Witness, *, interval: float) -> None:
        self.engine = engine
        self.signer = signer
        self.witness = witness
        self.interval = interval
        self.problem: str | None = None  # what stops checkpoints being signed, said loudly until resolved
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            try:
                await self.sign()
            except CheckpointRefused:
                pass  # said loudly by sign(); tried again at the next turn
            except Exception:
                log.exception("audit checkpoint failed; retrying")
            await asyncio.sleep(self.interval)

    async def witness_problem(self, raw: asyncpg.Connection, size: int, root: bytes) -> str | None:
        """What is wrong between the witness's latest checkpoint, the database's latest and the tree, if anything."""
        stored = await latest(raw)
        published = self.witness.latest()
        if published is None:
            if stored is None:
                return None
            return f"the witness {self.witness.directory} holds no checkpoint; the database's latest is {stored.size}"
        try:
            seen = note.open_checkpoint(published, [self.signer.verifier_key])
        except note.NoteError as exc:
            return f"the witness's latest checkpoint is not signed by this log's key ({exc})"
        if stored is not None and stored.size > seen.size:
            return (
                f"the witness's latest checkpoint ({seen.size}) is older than the database's ({stored.size}): "
                f"checkpoints were removed from {self.witness.directory}"
            )
        return await extends(raw, size, root, seen)

    async def sign(self) -> SignedCheckpoint | None:
        """Sign a checkpoint of the tree as it is, unless the latest one has its size already (that one is
        returned) or the tree is empty (None). CheckpointRefused when the tree does not extend the witness."""
        async with self.engine.begin() as conn:
            await conn.execute(select(func.pg_advisory_xact_lock(CHECKPOINT_LOCK)))
            raw = await rawsql.connection(conn)
            size = await tree_store.tree_size(raw)
            current = await latest(raw)
            # Checked at every call, even when nothing was chained since the latest checkpoint: a tree rewritten
            # under an unchanged size is found on the next call (every few seconds), not only at the next entry;
            # and an empty tree too (a wiped trail is not an empty one when the witness holds a checkpoint).
            root = await tree_store.root(raw, size)
            self.problem = await self.witness_problem(raw, size, root)
            if self.problem is not None:
                log.error("!!! AUDIT TAMPERING: no checkpoint signed: %s (A6)", self.problem)
                raise CheckpointRefused(self.problem)
            if size == 0:
                return current
            if current is not None and current.size == size:
                return current
            at = datetime.now(UTC)
            text = note.format_checkpoint(
                note.Checkpoint(self.signer.name, size, root, (note.time_extension(int(at.timestamp())),))
            )
            signed = self.signer.sign(text)
            await raw.execute(_INSERT, size, root, at, signed)
            self.witness.publish(size, signed)  # before the commit: nothing is in the database unpublished
        return SignedCheckpoint(size, root, at, signed)
