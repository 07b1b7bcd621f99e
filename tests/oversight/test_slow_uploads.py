"""Issue #14: no request holds a pooled connection while it waits, and a slow client is such a wait. More evidence
uploads than the oversight pool has connections, each body sent slowly (above the gateway's minimum rate), by an
inspector and by a member of the organisation responsible for a case (whose right to upload is read from the
database first): while their bodies arrive none of them holds a connection, and an unrelated route of the service
answers at once. Each is then kept and answered 201; the same key and bytes again replay that answer, the same key
with other bytes is 409, and uploads of one key sent at once keep one document and answer alike.

Before the unit of work took a staged upload's connection only once its body was whole, each upload held one from
its first byte on: the pool was taken, and `GET /oversight/cases` waited for a connection."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import httpx

from tests.conftest import Api
from tests.faults.stalled import held_in_transaction, pool_size
from tests.oversight.conftest import PDF, Site, ok, pdf, refused
from tests.stack import Stack

PIECES, EVERY = 8, 0.5  # a 1 KiB piece every half second: 2 KiB/s, above the gateway's 1 KiB/s, for 4 s
REPLAYED = "idempotent-replayed"


def _document() -> bytes:
    return pdf("慢速上传") + b"x" * (PIECES * 1024)


async def _slowly(data: bytes) -> AsyncIterator[bytes]:
    size = len(data) // PIECES + 1
    for i in range(0, len(data), size):
        yield data[i : i + size]
        await asyncio.sleep(EVERY)


async def _upload(api: Api, data: bytes, key: str, *, slowly: bool = True) -> httpx.Response:
    return await api.post("/oversight/evidence", params={"name": "慢速上传.pdf"},
                          content=_slowly(data) if slowly else data,
                          headers={"content-type": PDF, "idempotency-key": key}, timeout=60)


async def test_slow_uploads_hold_no_connection_while_their_bodies_arrive(
    site: Site, stack: Stack, db: asyncpg.Pool
) -> None:
    await site.assigned()  # the bureau has a case: its cashier may upload
    uploads = pool_size(stack, "oversight") + 2
    documents = [_document() for _ in range(uploads)]
    keys = [f"slow-{uuid.uuid4().hex}" for _ in documents]
    uploaders = [site.inspector if i % 2 else site.cashier for i in range(uploads)]
    sending = [asyncio.create_task(_upload(api, data, key))
               for api, data, key in zip(uploaders, documents, keys, strict=True)]
    await asyncio.sleep(1.5)  # every upload has reached the service and is sending its body
    held = await held_in_transaction(db, "oversight")
    started = time.monotonic()
    listed = await site.inspector.get("/oversight/cases", timeout=60)
    took = time.monotonic() - started
    still_sending = sum(not upload.done() for upload in sending)
    answers = await asyncio.wait_for(asyncio.gather(*sending), timeout=60)

    assert held == [], held
    assert listed.status_code == 200, listed.text
    assert took < 2.0, took
    assert still_sending == uploads
    for answer, data in zip(answers, documents, strict=True):
        stored = ok(answer, 201)
        assert (stored["sha256"], stored["size"], stored["created"]) == (hashlib.sha256(data).hexdigest(),
                                                                          len(data), True)
    # the same key and bytes again: the answer kept; the same key with other bytes: 409, and nothing kept of them
    again = await _upload(uploaders[0], documents[0], keys[0], slowly=False)
    assert again.status_code == 201 and again.headers.get(REPLAYED) == "true" and again.json() == answers[0].json()
    other = _document()
    refused(await _upload(uploaders[0], other, keys[0]), 409, "IDEMPOTENCY_CONFLICT", field="Idempotency-Key")
    assert ok(await _upload(uploaders[0], other, f"slow-{uuid.uuid4().hex}", slowly=False), 201)["created"] is True


async def test_slow_uploads_of_one_key_keep_one_document_and_answer_alike(site: Site) -> None:
    data, key = _document(), f"slow-{uuid.uuid4().hex}"
    answers = await asyncio.gather(*(_upload(site.inspector, data, key) for _ in range(4)))
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1 and answers[0].json()["created"] is True
    assert sum(a.headers.get(REPLAYED) == "true" for a in answers) == 3


async def test_an_upload_cut_off_keeps_nothing_and_its_key_is_free(site: Site, stack: Stack) -> None:
    """The client goes away half way through the body: nothing is kept under the document's hash nor under the key
    (the key was never claimed: the body never arrived whole), so the whole document sent again with the same key is
    kept, new, and not answered as a replay."""
    data, key = _document(), f"cut-{uuid.uuid4().hex}"
    gateway = urlsplit(stack.gateway_url)
    reader, writer = await asyncio.open_connection(gateway.hostname, gateway.port)
    writer.write(
        f"POST /oversight/evidence?name=cut.pdf HTTP/1.1\r\nHost: {gateway.netloc}\r\n"
        f"Authorization: Bearer {site.inspector.key}\r\nIdempotency-Key: {key}\r\nContent-Type: {PDF}\r\n"
        f"Content-Length: {len(data)}\r\n\r\n".encode() + data[: len(data) // 2]
    )
    await writer.drain()
    await asyncio.sleep(1.0)  # the first half reaches the service
    writer.transport.abort()
    await asyncio.sleep(1.0)
    whole = await _upload(site.inspector, data, key, slowly=False)
    stored = ok(whole, 201)
    assert stored["created"] is True and whole.headers.get(REPLAYED) is None, whole.headers
