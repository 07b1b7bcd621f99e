"""E1 (issue #16 point 3): the evidence store's contract, which the filesystem store and the S3 store (against a
real moto server process) both pass."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import time
from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError

from services.kernel.errors import PAYLOAD_TOO_LARGE, VALIDATION_ERROR, NotFound, ValidationProblem
from services.kernel.evidence import EvidenceRef, EvidenceStore, EvidenceTampered, StoreUnavailable
from services.kernel.evidence_fs import FilesystemStore
from services.kernel.evidence_policy import (
    DOCX,
    EVIDENCE_TAMPERED,
    UNKNOWN_EVIDENCE,
    UNSUPPORTED_MEDIA_TYPE,
    XLSX,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from services.kernel.evidence_s3 import S3Store
from tests.evidence.support import (
    BUCKET,
    LIMIT,
    Interrupted,
    chunked,
    copies,
    cut_off,
    free_port,
    leftovers,
    ooxml,
    raw_s3,
    read_back,
    s3_store,
    samples,
    tamper,
    unique,
)

# ---- the contract both stores pass -------------------------------------------------------------------------------


async def test_every_accepted_type_is_kept_under_the_sha256_of_its_bytes(store: EvidenceStore) -> None:
    for media_type, data in samples(unique()).items():
        stored = await store.put(chunked(data), name="整改报告", media_type=f"{media_type}; charset=utf-8")
        assert (stored.sha256, stored.size, stored.media_type) == (hashlib.sha256(data).hexdigest(), len(data),
                                                                   media_type)
        assert stored.created and stored.name == "整改报告"
        assert await read_back(store, stored.sha256) == data
        assert await store.exists(stored.sha256)
    assert leftovers(store) == []


async def test_the_same_bytes_put_twice_are_kept_once_and_not_rewritten(store: EvidenceStore) -> None:
    data = samples(unique())["application/pdf"]
    first = await store.put(chunked(data), name="a.pdf", media_type="application/pdf")
    before = _version(store, first.sha256)
    again = await store.put(chunked(data, 333), name="another name.pdf", media_type="application/pdf")
    assert (first.created, again.created) == (True, False)
    assert again.sha256 == first.sha256 and again.name == "another name.pdf"
    assert copies(store, first.sha256) == 1
    assert _version(store, first.sha256) == before


def _version(store: EvidenceStore, sha256: str) -> object:
    """What would change if the stored object were written again: the inode and mtime, or the object's ETag and
    Last-Modified."""
    if isinstance(store, FilesystemStore):
        facts = store.path_of(sha256).stat()
        assert not stat.S_IMODE(facts.st_mode) & 0o222, "a kept document is read-only"
        return (facts.st_ino, facts.st_mtime_ns)
    assert isinstance(store, S3Store)
    head = raw_s3(store.url).head_object(Bucket=BUCKET, Key=store.key_of(sha256))
    return (head["ETag"], head["LastModified"])


async def test_concurrent_puts_of_the_same_bytes_keep_one_copy(store: EvidenceStore) -> None:
    data = samples(unique())["image/png"] + os.urandom(100_000)
    results = await asyncio.gather(*(store.put(chunked(data), name=f"p{i}.png", media_type="image/png")
                                     for i in range(6)))
    assert {r.sha256 for r in results} == {hashlib.sha256(data).hexdigest()}
    assert sum(r.created for r in results) == 1
    assert copies(store, results[0].sha256) == 1
    assert await read_back(store, results[0].sha256) == data
    assert leftovers(store) == []


async def test_a_document_at_the_limit_is_kept_and_one_byte_more_is_413(store: EvidenceStore) -> None:
    head = b"%PDF-1.4\n"
    at_limit = head + os.urandom(LIMIT - len(head))
    stored = await store.put(chunked(at_limit, 65536), name="big.pdf", media_type="application/pdf")
    assert stored.size == LIMIT and stored.created
    over = head + os.urandom(LIMIT + 1 - len(head))
    with pytest.raises(PayloadTooLarge) as refused:
        await store.put(chunked(over, 65536), name="bigger.pdf", media_type="application/pdf")
    assert (refused.value.status, refused.value.code, refused.value.field) == (413, PAYLOAD_TOO_LARGE, "body")
    assert copies(store, hashlib.sha256(over).hexdigest()) == 0
    assert leftovers(store) == []


@pytest.mark.parametrize("declared", ["image/gif", "application/zip", "application/octet-stream", "", None])
async def test_a_media_type_not_accepted_is_415(store: EvidenceStore, declared: str | None) -> None:
    data = samples(unique())["image/png"]
    with pytest.raises(UnsupportedMediaType) as refused:
        await store.put(chunked(data), name="x", media_type=declared)
    assert (refused.value.status, refused.value.code, refused.value.field) == (415, UNSUPPORTED_MEDIA_TYPE,
                                                                              "media_type")
    assert copies(store, hashlib.sha256(data).hexdigest()) == 0


async def test_bytes_that_are_not_what_is_declared_are_415(store: EvidenceStore) -> None:
    good = samples(unique())
    zip_of_other = ooxml("content.xml")
    lying = [
        (good["image/png"], "application/pdf"),  # a PNG called a PDF
        (good["application/pdf"], "image/jpeg"),
        (good["image/jpeg"], "image/png"),
        (good[DOCX], XLSX),  # a Word file called a spreadsheet
        (good[XLSX], DOCX),
        (zip_of_other, XLSX),  # any other zip
        (b"PK\x03\x04 not really a zip" + unique(), DOCX),
        (good["application/pdf"], "text/plain"),  # binary types do not pass as text
        (good["image/png"], "text/csv"),
        ("金额\n".encode() + b"\x00" * 3 + unique(), "text/csv"),  # a NUL byte is not text
        (b"a" * 5000 + b"\x00", "text/plain"),  # …even after the first KiB
    ]
    for data, declared in lying:
        with pytest.raises(UnsupportedMediaType):
            await store.put(chunked(data, 1000), name="x", media_type=declared)
        assert copies(store, hashlib.sha256(data).hexdigest()) == 0, declared
    assert leftovers(store) == []


async def test_an_empty_document_and_a_bad_name_are_422(store: EvidenceStore) -> None:
    with pytest.raises(ValidationProblem) as empty:
        await store.put(chunked(b""), name="empty.txt", media_type="text/plain")
    assert (empty.value.status, empty.value.field) == (422, "body")
    data = samples(unique())["text/plain"]
    for name in ("", "   ", "../etc/passwd", "a\\b", "line\nbreak", "x" * 256, "report\u202efdp.exe", "a\u2028b"):
        with pytest.raises(ValidationProblem) as bad:
            await store.put(chunked(data), name=name, media_type="text/plain")
        assert bad.value.field == "name"
    assert copies(store, hashlib.sha256(data).hexdigest()) == 0
    stored = await store.put(chunked(data), name="x" * 255, media_type="text/plain")
    assert stored.created


async def test_an_interrupted_upload_leaves_nothing_visible(store: EvidenceStore) -> None:
    data = samples(unique())["application/pdf"] + os.urandom(150_000)
    with pytest.raises(Interrupted):
        await store.put(cut_off(data, 100_000), name="half.pdf", media_type="application/pdf")
    assert copies(store, hashlib.sha256(data).hexdigest()) == 0
    assert copies(store, hashlib.sha256(data[:100_000]).hexdigest()) == 0
    assert leftovers(store) == []
    assert (await store.put(chunked(data), name="whole.pdf", media_type="application/pdf")).created


async def test_a_tampered_document_is_refused_not_served(store: EvidenceStore) -> None:
    data = samples(unique())["text/csv"]
    stored = await store.put(chunked(data), name="名单.csv", media_type="text/csv")
    same_length = bytes([data[0] ^ 1]) + data[1:]
    for changed in (same_length, data + b"extra,row\n", b""):
        tamper(store, stored.sha256, changed)
        with pytest.raises(EvidenceTampered) as refused:
            await read_back(store, stored.sha256)
        assert (refused.value.status, refused.value.code) == (500, EVIDENCE_TAMPERED)
    tamper(store, stored.sha256, data)
    assert await read_back(store, stored.sha256) == data


async def test_an_unknown_key_is_404_and_a_malformed_one_422(store: EvidenceStore) -> None:
    with pytest.raises(NotFound):
        await read_back(store, hashlib.sha256(unique()).hexdigest())
    for key in ("A" * 64, "0" * 63, "../" + "0" * 61, "g" * 64):
        with pytest.raises(ValidationProblem) as bad:
            await read_back(store, key)
        assert bad.value.field == "sha256"


async def test_a_store_that_cannot_be_reached_is_503_and_keeps_nothing(tmp_path: Path) -> None:
    unreachable = s3_store(f"http://127.0.0.1:{free_port()}", tmp_path / "staging")
    with pytest.raises(StoreUnavailable) as refused:
        await unreachable.put(chunked(samples(unique())["image/jpeg"]), name="a.jpg", media_type="image/jpeg")
    assert refused.value.status == 503
    assert leftovers(unreachable) == []


async def test_a_reference_given_to_attach_must_name_a_kept_intact_document_of_its_size_and_type(
    store: EvidenceStore,
) -> None:
    data = samples(unique())[XLSX]
    stored = await store.put(chunked(data), name="台账.xlsx", media_type=XLSX)
    ref = EvidenceRef(sha256=stored.sha256, name="台账.xlsx", media_type=XLSX, size=stored.size)
    assert await store.confirm(ref, field="documents.0") == ref
    wrong = [
        (ref.model_copy(update={"sha256": hashlib.sha256(unique()).hexdigest()}), UNKNOWN_EVIDENCE, "sha256"),
        (ref.model_copy(update={"size": ref.size + 1}), VALIDATION_ERROR, "size"),
        (ref.model_copy(update={"media_type": DOCX}), VALIDATION_ERROR, "media_type"),
        (ref.model_copy(update={"media_type": "text/plain"}), VALIDATION_ERROR, "media_type"),
    ]
    for bad, code, field in wrong:
        with pytest.raises(ValidationProblem) as refused:
            await store.confirm(bad, field="documents.0")
        assert (refused.value.status, refused.value.code, refused.value.field) == (422, code, f"documents.0.{field}")
    tamper(store, ref.sha256, data[:-1] + b"!")
    with pytest.raises(EvidenceTampered):
        await store.confirm(ref)


def test_a_reference_holds_a_hash_an_accepted_type_and_a_plain_name() -> None:
    good = {"sha256": "a" * 64, "name": "整改.pdf", "media_type": "application/pdf", "size": 1}
    assert EvidenceRef.model_validate(good).name == "整改.pdf"
    for field, value in (("sha256", "A" * 64), ("sha256", "a" * 63), ("media_type", "text/html"), ("size", 0),
                         ("name", "../x.pdf"), ("name", "x\u202efdp.exe"), ("name", "")):
        with pytest.raises(PydanticValidationError) as refused:
            EvidenceRef.model_validate({**good, field: value})
        assert refused.value.errors()[0]["loc"] == (field,)


async def test_a_change_while_a_verified_document_is_sent_cuts_it_short_or_cannot_reach_it(
    store: EvidenceStore,
) -> None:
    """The filesystem serves from the kept file, re-hashed as it is sent: changed in between, the sending fails
    at its end instead of completing. S3 serves the copy it fetched and verified: a change in the bucket after the
    check does not reach this answer (the next read refuses it)."""
    data = samples(unique())["application/pdf"] + os.urandom(200_000)
    stored = await store.put(chunked(data), name="a.pdf", media_type="application/pdf")
    async with store.open(stored.sha256) as document:
        tamper(store, stored.sha256, data[:-1] + b"!")
        if isinstance(store, FilesystemStore):
            with pytest.raises(EvidenceTampered):
                await document.read_all()
        else:
            assert await document.read_all() == data
    with pytest.raises(EvidenceTampered):
        await read_back(store, stored.sha256)


async def test_staging_left_by_a_killed_process_is_swept_when_stale_and_kept_while_fresh(
    store: EvidenceStore,
) -> None:
    kept = await store.put(chunked(samples(unique())["image/jpeg"]), name="a.jpg", media_type="image/jpeg")
    store.staging.mkdir(parents=True, exist_ok=True)
    stale, fresh = store.staging / "incoming-dead", store.staging / "outgoing-live"
    for path in (stale, fresh):
        path.write_bytes(b"partial")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    assert store.sweep_staging() == 1
    assert leftovers(store) == ["outgoing-live"]
    assert await read_back(store, kept.sha256)  # a kept document is never swept
