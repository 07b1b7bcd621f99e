"""What an inspector checks the trail with, without trusting our database (issue #13, A6): the public key, the signed
checkpoints, an entry with its inclusion proof in a checkpoint, and the consistency proof between two tree sizes.
Each answer reads O(log n) stored hashes by primary key (gateway/tree_store.py): milliseconds at any trail size.
Hashes are standard base64, as in the checkpoints themselves."""

from __future__ import annotations

import base64
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import and_, select

from gateway import checkpoints, note, tlog, tree_store
from gateway.audit_chain import leaf_data
from gateway.audit_records import entry_json
from gateway.checkpoints import CheckpointRefused, SignedCheckpoint
from gateway.models import AUDIT_FIELDS, audit_log, utc
from services.kernel import rawsql
from services.kernel.errors import Conflict, NotFound, ValidationProblem
from services.kernel.scope import within_reach
from services.kernel.uow import PrincipalDep

router = APIRouter(prefix="/audit", tags=["audit"])
TREE_INCONSISTENT = "AUDIT_TREE_INCONSISTENT"
MAX_CHECKPOINTS = 1000
MAX_SIZE = 2**63 - 1  # PostgreSQL bigint: a larger seq or size reaches no query (a problem, not a 500)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def checkpoint_json(cp: SignedCheckpoint) -> dict[str, Any]:
    return {"size": cp.size, "root": b64(cp.root), "at": utc(cp.at), "note": cp.note}


async def _proved(proof: Awaitable[list[bytes]]) -> list[bytes]:
    """A proof from the stored tree; a tree that lacks a hash the proof needs (rows gone) is the A6 problem."""
    try:
        return await proof
    except tree_store.TreeError as exc:
        detail = f"审计树缺少证明所需的哈希 / the stored tree cannot give this proof: {exc}"
        raise Conflict(detail, code=TREE_INCONSISTENT, rule="A6") from exc


@router.get("/public-key", response_class=PlainTextResponse)
async def public_key(request: Request) -> str:
    """The verifier key of the log (Go's note format): what an inspector keeps, away from us, in `key.pub`."""
    return f"{request.app.state.checkpointer.signer.verifier_key}\n"


@router.get("/checkpoints/latest", response_class=PlainTextResponse)
async def latest_checkpoint(request: Request) -> str:
    """The latest signed checkpoint, as the signed note an inspector saves (`cp.txt`)."""
    async with request.app.state.engine.connect() as conn:
        cp = await checkpoints.latest(await rawsql.connection(conn))
    witnessed = _witnessed(request)
    if witnessed is not None and (cp is None or witnessed[0] > cp.size):
        return witnessed[1]  # the database lost its newest checkpoints: never serve an older one than published
    if cp is None:
        raise NotFound("还没有签名的检查点 / no checkpoint has been signed yet")
    return cp.note


def _published(request: Request, size: int) -> SignedCheckpoint | None:
    """The witness's checkpoint of `size`, when it is the log's."""
    checkpointer = request.app.state.checkpointer
    published = checkpointer.witness.published(size)
    if published is None:
        return None
    try:
        cp = note.open_checkpoint(published, [checkpointer.signer.verifier_key])
    except note.NoteError:
        return None
    if cp.size != size or cp.time is None:
        return None
    return SignedCheckpoint(cp.size, cp.root, datetime.fromtimestamp(cp.time, UTC), published)


def _witnessed(request: Request) -> tuple[int, str] | None:
    """The size and note of the witness's latest checkpoint (outside the database), when it is the log's."""
    checkpointer = request.app.state.checkpointer
    published = checkpointer.witness.latest()
    if published is None:
        return None
    try:
        return note.open_checkpoint(published, [checkpointer.signer.verifier_key]).size, published
    except note.NoteError:
        return None  # said by the checkpointer (its `problem`)


@router.get("/checkpoints")
async def list_checkpoints(
    request: Request,
    after_size: Annotated[int, Query(ge=0, le=MAX_SIZE)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_CHECKPOINTS)] = 100,
) -> dict[str, Any]:
    async with request.app.state.engine.connect() as conn:
        found = await checkpoints.after(await rawsql.connection(conn), after_size, limit + 1)
    items = [checkpoint_json(cp) for cp in found[:limit]]
    return {"items": items, "next_after_size": found[limit - 1].size if len(found) > limit else None}


@router.post("/checkpoints", status_code=201)
async def sign_checkpoint(request: Request) -> dict[str, Any]:
    """Sign a checkpoint of the tree now (the latest one when nothing was chained since)."""
    try:
        cp = await request.app.state.checkpointer.sign()
    except CheckpointRefused as exc:
        detail = f"不签名: 审计树与见证的检查点不一致 / not signed: {exc}"
        raise Conflict(detail, code=TREE_INCONSISTENT, rule="A6") from exc
    if cp is None:
        raise Conflict("审计记录为空 / the trail is empty: nothing to sign", code="AUDIT_TRAIL_EMPTY")
    return checkpoint_json(cp)


@router.get("/entries/{seq}")
async def entry_with_proof(
    request: Request,
    principal: PrincipalDep,
    seq: Annotated[int, Path(le=MAX_SIZE)],
    checkpoint_size: Annotated[int | None, Query(ge=1, le=MAX_SIZE)] = None,
) -> dict[str, Any]:
    """An entry of the caller's jurisdiction, its leaf, and the proof that the checkpoint of `checkpoint_size`
    (default: the latest) holds it."""
    conditions = [audit_log.c.seq == seq, *within_reach(audit_log.c.region_code, principal, None)]
    async with request.app.state.engine.connect() as conn:
        row = (await conn.execute(select(audit_log).where(and_(True, *conditions)))).first()
        if row is None:
            raise NotFound(f"没有这条审计记录 / no audit entry {seq} in your jurisdiction")
        raw = await rawsql.connection(conn)
        cp = await (checkpoints.latest(raw) if checkpoint_size is None else checkpoints.at_size(raw, checkpoint_size))
        if cp is None and checkpoint_size is not None:
            cp = _published(request, checkpoint_size)  # the database lost it: the witness's, outside it
        if cp is None or cp.size < seq:
            raise NotFound(
                f"没有包含第 {seq} 条的检查点 / no signed checkpoint of size {checkpoint_size or 'latest'} holds entry "
                f"{seq}: ask a later one (GET /audit/checkpoints, POST /audit/checkpoints)",
                field="checkpoint_size",
            )
        proof = await _proved(tree_store.record_proof(raw, cp.size, seq - 1))
    data = leaf_data(seq, {k: getattr(row, k) for k in AUDIT_FIELDS})
    return {
        "seq": seq,
        "entry": entry_json(row),
        "leaf_data": data.decode(),
        "leaf_hash": b64(tlog.record_hash(data)),
        "checkpoint_size": cp.size,
        "checkpoint": cp.note,
        "proof": [b64(h) for h in proof],
    }


@router.get("/consistency")
async def consistency(
    request: Request,
    from_size: Annotated[int, Query(alias="from", ge=1, le=MAX_SIZE)],
    to_size: Annotated[int, Query(alias="to", ge=1, le=MAX_SIZE)],
) -> dict[str, Any]:
    """The proof that the tree of `to` entries extends the tree of `from` entries (RFC 6962 consistency)."""
    if from_size > to_size:
        raise ValidationProblem("from 不能大于 to / `from` must not be larger than `to`", field="from")
    async with request.app.state.engine.connect() as conn:
        raw = await rawsql.connection(conn)
        size = await tree_store.tree_size(raw)
        if to_size > size:
            raise NotFound(f"审计树只有 {size} 条 / the tree holds {size} entries, not {to_size}", field="to")
        proof = await _proved(tree_store.tree_proof(raw, to_size, from_size))
    return {"from": from_size, "to": to_size, "proof": [b64(h) for h in proof]}
