"""E1 evidence documents (issue #16 point 3): scans, photos and spreadsheets kept content-addressed.

A document is known by the SHA-256 of its bytes, computed while it streams in (never whole in memory): the same
bytes put twice are kept once, and a kept document is never overwritten or deleted. What a record keeps of it is an
`EvidenceRef` (`sha256`, `name`, `media_type`, `size`). Before anything is kept the bytes are staged in a temporary
file (fsynced), checked against the size limit (413 `PAYLOAD_TOO_LARGE`) and their declared media type against
their own bytes (415 `UNSUPPORTED_MEDIA_TYPE`); a refused or interrupted upload leaves nothing under any key. A
document read back is served only when its bytes hash to its key (500 `EVIDENCE_TAMPERED` otherwise).

This module holds the policy and what every store shares; `evidence_fs.py` and `evidence_s3.py` keep the bytes.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import hashlib
import logging
import os
import unicodedata
import uuid
import zipfile
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated

from pydantic import BaseModel, Field, field_validator

from services.kernel.errors import PAYLOAD_TOO_LARGE, NotFound, Problem, ValidationProblem

log = logging.getLogger("fundtrack.evidence")

UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
EVIDENCE_TAMPERED = "EVIDENCE_TAMPERED"
EVIDENCE_STORE_UNAVAILABLE = "EVIDENCE_STORE_UNAVAILABLE"
UNKNOWN_EVIDENCE = "UNKNOWN_EVIDENCE"
RULE = "E1"

CHUNK_BYTES = 64 * 1024
# A PDF's header may follow up to 1 KiB of other bytes (ISO 32000-1 §7.5.2); every other magic is at the start.
HEAD_BYTES = 1024
MAX_NAME_CHARS = 255
SHA256_PATTERN = r"^[0-9a-f]{64}$"
Sha256 = Annotated[str, Field(pattern=SHA256_PATTERN, description="SHA-256 of the document's bytes, lower-case hex")]


class EvidenceRef(BaseModel):
    """What a record keeps of a document: enough to fetch it, check it, and serve it under its own name."""

    sha256: Sha256
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    media_type: str
    size: int = Field(gt=0)

    @field_validator("name")
    @classmethod
    def _a_file_name(cls, value: str) -> str:
        if (problem := name_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @field_validator("media_type")
    @classmethod
    def _an_accepted_type(cls, value: str) -> str:
        if value not in DOCUMENT_TYPES:
            raise ValueError("not an accepted media type: " + ", ".join(DOCUMENT_TYPES))
        return value


class StoredEvidence(EvidenceRef):
    """The answer to a put: the reference, and whether these bytes were new to the store (`false`: kept already)."""

    created: bool


class PayloadTooLarge(Problem):
    status = 413
    code = PAYLOAD_TOO_LARGE
    title = "Document too large"


class UnsupportedMediaType(Problem):
    status = 415
    code = UNSUPPORTED_MEDIA_TYPE
    title = "Document type not accepted"


class EvidenceTampered(Problem):
    """The stored bytes no longer hash to their key: someone changed them where they are kept. Never served."""

    status = 500
    code = EVIDENCE_TAMPERED
    title = "Stored document does not match its hash"


class StoreUnavailable(Problem):
    status = 503
    code = EVIDENCE_STORE_UNAVAILABLE
    title = "The evidence store cannot be reached"


@dataclass(frozen=True)
class DocumentType:
    """An accepted media type: its magic bytes (over the first HEAD_BYTES), and for an OOXML file the part its zip
    must hold; a text type has no magic, but holds no NUL byte and does not start like any binary type."""

    media_type: str
    magic: tuple[bytes, ...] = ()
    anywhere_in_head: bool = False
    zip_part: str | None = None

    @property
    def text(self) -> bool:
        return not self.magic

    def head_matches(self, head: bytes) -> bool:
        if self.text:
            return b"\0" not in head and not any(t.head_matches(head) for t in DOCUMENT_TYPES.values() if not t.text)
        if self.anywhere_in_head:
            return any(m in head for m in self.magic)
        return head.startswith(self.magic)


ZIP_MAGIC = (b"PK\x03\x04",)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCUMENT_TYPES: dict[str, DocumentType] = {
    t.media_type: t
    for t in (
        DocumentType("application/pdf", (b"%PDF-",), anywhere_in_head=True),
        DocumentType("image/jpeg", (b"\xff\xd8\xff",)),
        DocumentType("image/png", (b"\x89PNG\r\n\x1a\n",)),
        DocumentType(XLSX, ZIP_MAGIC, zip_part="xl/workbook.xml"),
        DocumentType(DOCX, ZIP_MAGIC, zip_part="word/document.xml"),
        DocumentType("text/csv"),
        DocumentType("text/plain"),
    )
}


def document_type(declared: str | None) -> DocumentType:
    """E1: the declared media type (`Content-Type`, parameters ignored) must be one we accept."""
    media_type = (declared or "").split(";")[0].strip().lower()
    found = DOCUMENT_TYPES.get(media_type)
    if found is None:
        raise UnsupportedMediaType(
            f"不接受的文件类型 / documents of type {media_type or '(none)'!r} are not accepted: send one of "
            + ", ".join(DOCUMENT_TYPES),
            field="media_type", rule=RULE,
        )
    return found


# Control characters, and format characters such as U+202E (right-to-left override: `report\u202efdp.exe` shows as
# `reportexe.pdf`), line and paragraph separators, surrogates.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def name_problem(name: str) -> str | None:
    """E1: a document's name is what a download is saved as: 1-255 characters, no path, nothing hidden."""
    bad = not name.strip() or len(name) > MAX_NAME_CHARS or any(c in name for c in "/\\")
    if bad or any(unicodedata.category(c) in HIDDEN_CATEGORIES for c in name):
        return "文件名无效 / the name must be 1-255 characters with no '/', '\\', control or format character"
    return None


def check_name(name: str) -> str:
    if (problem := name_problem(name)) is not None:
        raise ValidationProblem(problem, field="name", rule=RULE)
    return name


def _mismatch(kind: DocumentType, why: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"文件内容与声明类型不符 / the bytes are not a {kind.media_type} document ({why})",
        field="media_type", rule=RULE,
    )


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"文件过大 / the document is larger than the limit of {limit} bytes", field="body", rule=RULE, limit=limit
    )


def check_container(kind: DocumentType, path: Path | IO[bytes]) -> None:
    """An OOXML file is a zip holding its main part: a docx declared as a spreadsheet, or any other zip, is refused."""
    if kind.zip_part is None:
        return
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise _mismatch(kind, "not a readable zip archive") from exc
    if kind.zip_part not in names or "[Content_Types].xml" not in names:
        raise _mismatch(kind, f"no {kind.zip_part} in the archive")


@dataclass(frozen=True)
class Staged:
    """Bytes received whole, checked and fsynced in a temporary file, not yet kept under their key."""

    path: Path
    sha256: str
    size: int
    kind: DocumentType


class _Receiver:
    """Hashes, counts and checks a document as its chunks arrive, writing them to the staging file."""

    def __init__(self, out: IO[bytes] | None, kind: DocumentType, limit: int) -> None:
        self.out, self.kind, self.limit = out, kind, limit
        self.digest = hashlib.sha256()
        self.size = 0
        self.head = b""

    def take(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise too_large(self.limit)
        if len(self.head) < HEAD_BYTES:
            was = len(self.head)
            self.head += chunk[: HEAD_BYTES - was]
            if len(self.head) == HEAD_BYTES and not self.kind.head_matches(self.head):
                raise _mismatch(self.kind, "its first bytes say otherwise")
        if self.kind.text and b"\0" in chunk:
            raise _mismatch(self.kind, "a NUL byte in text")
        self.digest.update(chunk)
        if self.out is not None:
            self.out.write(chunk)

    def finish(self) -> None:
        if self.size == 0:
            raise ValidationProblem("文件为空 / the document is empty", field="body", rule=RULE)
        if len(self.head) < HEAD_BYTES and not self.kind.head_matches(self.head):
            raise _mismatch(self.kind, "its first bytes say otherwise")


def _fsync_close(out: IO[bytes]) -> None:
    out.flush()
    os.fsync(out.fileno())
    out.close()


async def drain(chunks: AsyncIterable[bytes]) -> None:
    """Read a refused body to its end, so the caller (the gateway streaming it) is never cut off mid-send."""
    async for _ in chunks:
        pass


@contextlib.asynccontextmanager
async def stage(
    chunks: AsyncIterable[bytes], *, kind: DocumentType, limit: int, directory: Path
) -> AsyncIterator[Staged]:
    """Receive a document into a temporary file of `directory`, checked whole; the file is gone on leaving, whatever
    happened (a refusal, the client going away, the store failing)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"incoming-{uuid.uuid4().hex}"
    out = path.open("xb")
    stream = aiter(chunks)
    try:
        receiver = _Receiver(out, kind, limit)
        try:
            async for chunk in stream:
                receiver.take(chunk)
            receiver.finish()
        except Problem:
            await drain(stream)
            raise
        await asyncio.to_thread(_fsync_close, out)
        await asyncio.to_thread(check_container, kind, path)
        yield Staged(path=path, sha256=receiver.digest.hexdigest(), size=receiver.size, kind=kind)
    finally:
        out.close()
        path.unlink(missing_ok=True)


def _check_kept(handle: IO[bytes], kind: DocumentType) -> None:
    """The checks of the way in, over a kept document's bytes."""
    receiver = _Receiver(None, kind, limit=2**62)
    handle.seek(0)
    while chunk := handle.read(CHUNK_BYTES):
        receiver.take(chunk)
    receiver.finish()
    handle.seek(0)
    check_container(kind, handle)
    handle.seek(0)


def _hash_file(handle: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    handle.seek(0)
    while chunk := handle.read(CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return digest.hexdigest(), size


def tampered(sha256: str) -> EvidenceTampered:
    log.error("evidence %s: the stored bytes do not hash to their key; refusing to serve them", sha256)
    return EvidenceTampered(
        f"存储的文件已被改动 / the stored document {sha256} no longer matches its SHA-256; it is not served. "
        "Restore it from a backup (its hash is in the record and the audit trail)",
        field="sha256", rule=RULE,
    )


def not_found(sha256: str) -> NotFound:
    return NotFound(f"没有这个文件 / no document {sha256}", field="sha256")


def check_key(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValidationProblem("sha256 须为 64 位小写十六进制 / sha256 must be 64 lower-case hex digits",
                                field="sha256")
    return sha256


@dataclass
class VerifiedDocument:
    """A kept document whose bytes were read and hashed to its key just now; `chunks()` re-hashes as it serves, so a
    change between the check and the last byte ends the answer with an error instead of completing it."""

    sha256: str
    size: int
    handle: IO[bytes]

    async def chunks(self) -> AsyncIterator[bytes]:
        digest = hashlib.sha256()
        await asyncio.to_thread(self.handle.seek, 0)
        while chunk := await asyncio.to_thread(self.handle.read, CHUNK_BYTES):
            digest.update(chunk)
            yield chunk
        if digest.hexdigest() != self.sha256:
            raise tampered(self.sha256)

    async def read_all(self) -> bytes:
        """For tests and small callers: the whole document (never for serving: use `chunks`)."""
        return b"".join([c async for c in self.chunks()])


class EvidenceStore(abc.ABC):
    """Where documents are kept. Subclasses keep staged bytes under their key (never replacing what is there) and
    hand back a local readable file of a kept document; the checks on the way in and out are here, once."""

    mode: str = ""

    def __init__(self, *, staging: Path, max_bytes: int) -> None:
        self.staging = staging
        self.max_bytes = max_bytes

    @abc.abstractmethod
    def where(self) -> str:
        """Where the documents are, for people (doctor, logs); never a credential."""

    @abc.abstractmethod
    async def _keep(self, staged: Staged) -> bool:
        """Keep the staged bytes under staged.sha256 unless something is there already; True if they were new."""

    @abc.abstractmethod
    def _open(self, sha256: str) -> contextlib.AbstractAsyncContextManager[IO[bytes]]:
        """A readable local file of the bytes kept under sha256 (NotFound if none)."""

    @abc.abstractmethod
    async def exists(self, sha256: str) -> bool: ...

    async def put(
        self, chunks: AsyncIterable[bytes], *, name: str, media_type: str | None
    ) -> StoredEvidence:
        """Stream a document in; checked (name, type, size, bytes) before anything is kept."""
        try:
            kind = document_type(media_type)
            check_name(name)
        except Problem:
            await drain(chunks)
            raise
        async with stage(chunks, kind=kind, limit=self.max_bytes, directory=self.staging) as staged:
            created = await self._keep(staged)
        return StoredEvidence(sha256=staged.sha256, name=name, media_type=kind.media_type, size=staged.size,
                              created=created)

    @contextlib.asynccontextmanager
    async def open(self, sha256: str) -> AsyncIterator[VerifiedDocument]:
        """E1: a kept document, served only once its bytes were read and found to hash to its key."""
        check_key(sha256)
        async with self._open(sha256) as handle:
            actual, size = await asyncio.to_thread(_hash_file, handle)
            if actual != sha256:
                raise tampered(sha256)
            yield VerifiedDocument(sha256=sha256, size=size, handle=handle)

    async def confirm(self, ref: EvidenceRef, *, field: str = "") -> EvidenceRef:
        """E1: a reference a caller gives to attach a document to a record. It must name a kept, intact document of
        that size whose bytes are of that type; else 422 naming `<field>.sha256`, `.size` or `.media_type`. (Reads
        the document once.)"""
        at = f"{field}." if field else ""
        try:
            async with self.open(ref.sha256) as document:
                if document.size != ref.size:
                    raise ValidationProblem(f"文件大小不符 / document {ref.sha256} is {document.size} bytes, not "
                                            f"{ref.size}", field=f"{at}size", rule=RULE)
                await asyncio.to_thread(_check_kept, document.handle, DOCUMENT_TYPES[ref.media_type])
        except NotFound:
            raise ValidationProblem(f"没有这个文件 / no document {ref.sha256} was uploaded: upload it first",
                                    code=UNKNOWN_EVIDENCE, field=f"{at}sha256", rule=RULE) from None
        except UnsupportedMediaType as exc:
            raise ValidationProblem(exc.detail, field=f"{at}media_type", rule=RULE) from None
        return ref

    async def probe(self) -> str:
        """Put a fixed small document (kept once, never removed: no delete is needed) and read it back: that the
        store is reachable, writable and answers with verified bytes. Returns where the store is."""

        async def one() -> AsyncIterator[bytes]:
            yield PROBE

        stored = await self.put(one(), name="probe.txt", media_type="text/plain")
        async with self.open(stored.sha256) as document:
            if await document.read_all() != PROBE:
                raise tampered(stored.sha256)
        return self.where()


PROBE = b"FundTrack evidence store probe: kept once, never removed.\n"
