"""The audit outboxes are permanent (S4, A1): an entry is acknowledged by an insert naming its chain seq, never
deleted; an acknowledgement cannot be replayed (S5); and what is acknowledged but absent from the chain is found."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from gateway.audit_chain import unchained_acknowledgements
from gateway.sequencer import _chained, _stage
from services.kernel.identity import Principal
from services.kernel.outbox import Pending
from services.kernel.topology import ALL_SCHEMAS
from tests.conftest import Api, signed
from tests.platform.test_alerts import _store_alert
from tests.stack import Stack

# the gateway's sequencer, as its ServiceClient signs: the only caller of a service's outbox routes
SEQUENCER = Principal(id="service:gateway", role="service", region_code="000000", name="gateway")


def _json_headers(stack: Stack, url: str, body: bytes, principal: Principal | None = None) -> dict[str, str]:
    return {**signed(stack, "POST", url, principal, body=body), "content-type": "application/json"}


async def _direct_change(stack: Stack, db: asyncpg.Pool) -> tuple[int, str]:
    """A change made on the loans service's own port: its outbox entry (id) and its request id."""
    alert_id = await _store_alert(db, "loans", "430523")
    url = f"{stack.service_urls['loans']}/internal/alerts/{alert_id}/acknowledge"
    body = b'{"note": "outbox"}'
    headers = {**signed(stack, "POST", url, body=body), "content-type": "application/json"}
    async with httpx.AsyncClient() as client:
        assert (await client.post(url, content=body, headers=headers)).status_code == 200
    outbox_id = await db.fetchval("SELECT id FROM loans.audit_outbox WHERE request_id = $1", headers["x-request-id"])
    return int(outbox_id), headers["x-request-id"]


async def _acknowledged_seq(db: asyncpg.Pool, outbox_id: int) -> int:
    for _ in range(100):  # the sequencer reads service outboxes every 0.2-0.8 s
        seq = await db.fetchval("SELECT seq FROM loans.audit_outbox_acks WHERE outbox_id = $1", outbox_id)
        if seq is not None:
            return int(seq)
        await asyncio.sleep(0.1)
    raise AssertionError(f"loans outbox entry {outbox_id} was not acknowledged")


async def test_a_chained_entry_is_acknowledged_with_its_seq_and_kept(stack: Stack, db: asyncpg.Pool) -> None:
    outbox_id, request_id = await _direct_change(stack, db)
    seq = await _acknowledged_seq(db, outbox_id)
    chained = await db.fetchrow("SELECT origin, origin_id, request_id FROM gateway.audit_log WHERE seq = $1", seq)
    assert dict(chained) == {"origin": "loans", "origin_id": outbox_id, "request_id": request_id}
    assert await db.fetchval("SELECT count(*) FROM loans.audit_outbox WHERE id = $1", outbox_id) == 1  # still there
    async with db.acquire() as conn:
        assert await unchained_acknowledgements(conn, ALL_SCHEMAS) == []


async def test_a_replayed_acknowledgement_is_refused(stack: Stack, db: asyncpg.Pool) -> None:
    outbox_id, _ = await _direct_change(stack, db)
    seq = await _acknowledged_seq(db, outbox_id)
    url = f"{stack.service_urls['loans']}/internal/audit-outbox/ack"
    body = json.dumps({"items": [{"id": outbox_id, "seq": seq}]}).encode()
    headers = _json_headers(stack, url, body, SEQUENCER)
    async with httpx.AsyncClient() as client:
        first = await client.post(url, content=body, headers=headers)
        assert first.status_code == 200 and first.json() == {"acknowledged": 0}  # acknowledged once already
        replay = await client.post(url, content=body, headers=headers)
        assert replay.status_code == 401 and replay.json()["code"] == "REPLAYED_REQUEST"
        old_form = json.dumps({"ids": [outbox_id]}).encode()  # the acknowledgement that used to delete
        old = await client.post(url, content=old_form, headers=_json_headers(stack, url, old_form, SEQUENCER))
        assert old.status_code == 422
        unknown = json.dumps({"items": [{"id": 2**62, "seq": 1}]}).encode()
        refused = await client.post(url, content=unknown, headers=_json_headers(stack, url, unknown, SEQUENCER))
        assert refused.status_code == 422 and refused.json()["field"] == "items"
    assert await db.fetchval("SELECT count(*) FROM loans.audit_outbox WHERE id = $1", outbox_id) == 1


_FORGE_OUTBOX = (
    "INSERT INTO loans.audit_outbox (request_id, principal_id, role, region_code, method, path, query, "
    "entity_ids, body_sha256, status) VALUES ($1, 'x', 'lender', '430523', 'POST', '/loans', '', '{}', '', 201) "
    "RETURNING id"
)
_LOG_ROW = (
    "INSERT INTO gateway.audit_log (seq, at, principal_id, role, region_code, method, path, query, entity_ids, "
    "body_sha256, status, code, request_id, origin, origin_id, prev_hash, hash) SELECT $1, o.at, $2, o.role, "
    "o.region_code, o.method, o.path, o.query, o.entity_ids, o.body_sha256, o.status, '', o.request_id, 'loans', "
    "o.id, '', '' FROM loans.audit_outbox o WHERE o.id = $3"
)

_ACK = "INSERT INTO loans.audit_outbox_acks (outbox_id, seq) VALUES ($1, $2)"


class _Rollback(Exception):
    pass


async def test_an_entry_acknowledged_but_not_chained_is_found(stack: Stack, db: asyncpg.Pool) -> None:
    """As a forged acknowledgement would leave it: the check names the entry (the outbox still holds it). Inside a
    transaction rolled back at the end: the sequencer never sees it, and the suite's trail stays clean."""
    async with db.acquire() as conn:
        with pytest.raises(_Rollback):
            async with conn.transaction():
                forged = await conn.fetchval(_FORGE_OUTBOX, f"forged-{uuid.uuid4().hex}")
                await conn.execute("INSERT INTO loans.audit_outbox_acks (outbox_id, seq) VALUES ($1, 1)", forged)
                found = await unchained_acknowledgements(conn, ALL_SCHEMAS)
                raise _Rollback
    assert {"origin": "loans", "outbox_id": forged, "seq": 1, "problem": "missing"} in found


async def test_a_chained_row_with_other_content_is_found_and_the_same_content_is_not(
    stack: Stack, db: asyncpg.Pool
) -> None:
    """S4 (A5): a row in the chain that claims an outbox entry must carry it. An acknowledgement naming a row of other
    content is `differs`; a row claiming an entry with other content, acknowledged or not, is `forged`; the real
    entry chained as it is and acknowledged at its seq is not reported."""
    base = 10**15 + uuid.uuid4().int % 10**9  # seqs far past the suite's chain; all rolled back
    async with db.acquire() as conn:
        with pytest.raises(_Rollback):
            async with conn.transaction():
                other = await conn.fetchval(_FORGE_OUTBOX, f"other-{uuid.uuid4().hex}")
                await conn.execute(_LOG_ROW, base, "forger", other)  # the forged claim, no acknowledgement
                real = await conn.fetchval(_FORGE_OUTBOX, f"real-{uuid.uuid4().hex}")
                await conn.execute(_LOG_ROW, base + 1, "forger", real)  # the forged row it was acknowledged at
                await conn.execute(_LOG_ROW, base + 2, "x", real)  # the real entry, chained as it is
                await conn.execute(_ACK, real, base + 1)
                found = await unchained_acknowledgements(conn, ALL_SCHEMAS)
                raise _Rollback
    mine = sorted((f["outbox_id"], f["seq"], f["problem"]) for f in found if f["outbox_id"] in (other, real))
    assert mine == [(other, base, "forged"), (real, base + 1, "differs")]
    async with db.acquire() as conn:
        with pytest.raises(_Rollback):
            async with conn.transaction():
                real = await conn.fetchval(_FORGE_OUTBOX, f"real-{uuid.uuid4().hex}")
                await conn.execute(_LOG_ROW, base, "x", real)
                await conn.execute(_ACK, real, base)
                found = await unchained_acknowledgements(conn, ALL_SCHEMAS)
                raise _Rollback
    assert [f for f in found if f["outbox_id"] == real] == []


async def test_the_sequencer_does_not_take_a_forged_row_for_an_outbox_entry(
    db: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    """S4 (A5): a row claiming loans outbox entry 7 with other content does not make the sequencer skip the real
    entry, nor acknowledge it at the forged seq; it stages the real one and says so. A row with the same content
    does count as chained (the other side). In a scratch schema shaped like the gateway's."""
    schema = f"probe_{uuid.uuid4().hex[:8]}"
    at = datetime(2026, 12, 3, 8, 0, 0, 123456, tzinfo=UTC)
    item = {"id": 7, "at": at.isoformat(), "principal_id": "p", "role": "lender", "region_code": "430523",
            "method": "POST", "path": "/loans", "query": "", "entity_ids": ["L1"], "body_sha256": "", "status": 201,
            "request_id": "real"}
    async with db.acquire() as conn:
        await conn.execute(f"CREATE SCHEMA {schema}")
        try:
            for table in ("audit_log", "audit_inbox"):
                await conn.execute(f"CREATE TABLE {schema}.{table} (LIKE gateway.{table} INCLUDING ALL)")
            await conn.execute(f"SET search_path TO {schema}")
            insert = ("INSERT INTO audit_log (seq, at, principal_id, role, region_code, method, path, query, "
                      "entity_ids, body_sha256, status, code, request_id, origin, origin_id, prev_hash, hash) "
                      "VALUES ($1, $2, $3, 'lender', '430523', 'POST', '/loans', '', '{L1}', '', 201, '', 'real', "
                      "'loans', 7, '', '')")
            await conn.execute(insert, 1, at, "forger")
            await _stage(conn, "loans", [item])
            assert [r["principal_id"] for r in await conn.fetch("SELECT principal_id FROM audit_inbox")] == ["p"]
            assert await _chained(conn, "loans", [item]) == []  # not acknowledged at the forged seq
            assert "AUDIT TAMPERING" in caplog.text
            await conn.execute("DELETE FROM audit_inbox")
            await conn.execute(insert, 2, at, "p")  # the real entry chained
            await _stage(conn, "loans", [item])
            assert await conn.fetchval("SELECT count(*) FROM audit_inbox") == 0  # already chained: not staged again
            assert await _chained(conn, "loans", [item]) == [(7, 2)]
        finally:
            await conn.execute("RESET search_path")
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")


async def test_outbox_and_acknowledgements_refuse_update_and_delete(db: asyncpg.Pool, stack: Stack) -> None:
    async with db.acquire() as conn:
        for schema in ALL_SCHEMAS:
            for table in ("audit_outbox", "audit_outbox_acks"):
                for statement in (f"UPDATE {schema}.{table} SET outbox_id = outbox_id" if table.endswith("acks")
                                  else f"UPDATE {schema}.{table} SET status = status",
                                  f"DELETE FROM {schema}.{table}", f"TRUNCATE {schema}.{table} CASCADE"):
                    with pytest.raises(asyncpg.PostgresError, match="append-only"):
                        await conn.execute(statement)


async def test_an_unchained_inbox_entry_cannot_be_deleted(db: asyncpg.Pool, admin: Api) -> None:
    """The sequencer deletes chained door entries from the inbox; nobody deletes one that is not chained."""
    async with db.acquire() as conn:
        with pytest.raises(asyncpg.PostgresError, match="only once it is chained"):
            async with conn.transaction():
                inbox_id = await conn.fetchval(
                    "INSERT INTO gateway.audit_inbox (at, principal_id, role, region_code, method, path, query, "
                    "entity_ids, body_sha256, status, code, request_id, origin) VALUES (now(), 'x', 'admin', "
                    "'000000', 'GET', '/x', '', '{}', '', 200, '', 'unchained', 'gateway') RETURNING id"
                )
                await conn.execute("DELETE FROM gateway.audit_inbox WHERE id = $1", inbox_id)
        for statement in ("UPDATE gateway.audit_inbox SET status = status", "TRUNCATE gateway.audit_inbox"):
            with pytest.raises(asyncpg.PostgresError, match="only once it is chained"):
                await conn.execute(statement)
    assert (await admin.get("/audit/verify")).json()["ok"] is True


async def test_a_poll_reads_only_what_is_new_and_misses_no_late_commit(db: asyncpg.Pool, stack: Stack) -> None:
    """A poll looks only at what the last one could not see, and misses no entry whose transaction was open."""
    schema = f"probe_{uuid.uuid4().hex[:8]}"
    opened: list[Any] = []
    async with db.acquire() as conn, db.acquire() as writer:
        await conn.execute(f"CREATE SCHEMA {schema}")
        try:
            await conn.execute(f"CREATE TABLE {schema}.audit_outbox (LIKE loans.audit_outbox INCLUDING ALL)")
            await conn.execute(f"CREATE TABLE {schema}.audit_outbox_acks (LIKE loans.audit_outbox_acks INCLUDING ALL)")
            await conn.execute(f"SET search_path TO {schema}")
            await writer.execute(f"SET search_path TO {schema}")
            insert = ("INSERT INTO audit_outbox (request_id, principal_id, role, region_code, method, path, query, "
                      "entity_ids, body_sha256, status) VALUES ($1, 'x', 'r', '430523', 'POST', '/p', '', '{}', '', "
                      "201) RETURNING id")
            acked = [await conn.fetchval(insert, f"a{i}") for i in range(3)]
            await conn.execute("INSERT INTO audit_outbox_acks (outbox_id, seq) SELECT unnest($1::bigint[]), 1", acked)
            pending = Pending()
            assert await pending.read(conn, 100) == []
            written = await conn.fetchval("SELECT max(xid::text::bigint) FROM audit_outbox")
            assert int(pending.from_xid) > written  # past the acknowledged entries
            late = writer.transaction()
            await late.start()
            opened.append(late)
            late_id = await writer.fetchval(insert, "late")  # written, not committed yet
            late_xid = await writer.fetchval("SELECT pg_current_xact_id()::text")
            after = await conn.fetchval(insert, "after")  # a later transaction, committed and acknowledged
            await conn.execute("INSERT INTO audit_outbox_acks (outbox_id, seq) VALUES ($1, 1)", after)
            assert await pending.read(conn, 100) == []
            # the open transaction does not hold the next polls back to it: it is watched by its own id
            assert int(pending.from_xid) > int(late_xid) and late_xid in pending.open_xids
            await late.commit()
            assert [e["id"] for e in await pending.read(conn, 100)] == [late_id]
            assert [e["id"] for e in await pending.read(conn, 100)] == [late_id]  # pending until acknowledged
            await conn.execute("INSERT INTO audit_outbox_acks (outbox_id, seq) VALUES ($1, 2)", late_id)
            assert await pending.read(conn, 100) == []
        finally:
            for transaction in opened:  # a failed assertion must not leave it holding the schema's locks
                with contextlib.suppress(asyncpg.InterfaceError):
                    await transaction.rollback()
            await conn.execute("RESET search_path")
            await writer.execute("RESET search_path")
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")


async def test_the_outbox_answers_the_sequencer_only(stack: Stack, db: asyncpg.Pool) -> None:
    """S1: a service's outbox (what the trail has still to chain) is read and acknowledged by the gateway's sequencer,
    a service; to anyone else, a national admin's signed identity included, it is not there (404), and an
    acknowledgement sent by them marks nothing."""
    base = stack.service_urls["loans"]
    admin = Principal(id="admin", role="admin", region_code="000000")
    async with httpx.AsyncClient() as client:
        url = f"{base}/internal/audit-outbox"
        assert (await client.get(url, headers=signed(stack, "GET", url, SEQUENCER))).status_code == 200
        hidden = await client.get(url, headers=signed(stack, "GET", url, admin))
        assert hidden.status_code == 404 and hidden.json()["code"] == "NOT_FOUND", hidden.text
        outbox_id = await db.fetchval("SELECT max(id) FROM loans.audit_outbox")
        ack = f"{base}/internal/audit-outbox/ack"
        forged_seq = 2**61  # a place in the trail the sequencer will not reach
        body = json.dumps({"items": [{"id": outbox_id, "seq": forged_seq}]}).encode()
        forged = await client.post(ack, content=body, headers=_json_headers(stack, ack, body, admin))
        assert forged.status_code == 404, forged.text
    assert await db.fetchval("SELECT count(*) FROM loans.audit_outbox_acks WHERE seq = $1", forged_seq) == 0
