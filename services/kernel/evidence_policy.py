"""E1 what the evidence store accepts: the size limit, the media types and their magic bytes, the name; and the
staging of an upload, which checks all of it while the bytes stream in (never whole in memory) and hashes them.

Codes and the rule id of E1 are here, once, for the store (`evidence.py`), its router and the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import unicodedata
import uuid
import zipfile
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from services.kernel.errors import PAYLOAD_TOO_LARGE, Problem, ValidationProblem

UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
EVIDENCE_TAMPERED = "EVIDENCE_TAMPERED"
EVIDENCE_STORE_UNAVAILABLE = "EVIDENCE_STORE_UNAVAILABLE"
UNKNOWN_EVIDENCE = "UNKNOWN_EVIDENCE"
RULE = "E1"

CHUNK_BYTES = 64 * 1024
# A PDF's header may follow up to 1 KiB of other bytes (ISO 32000-1 §7.5.2); every other magic is at the start.
HEAD_BYTES = 1024
MAX_NAME_CHARS = 255
# Temporary files of the staging directory: uploads being received, downloads being checked (evidence_s3).
INCOMING, OUTGOING = "incoming-", "outgoing-"
STAGING_PREFIXES = (INCOMING, OUTGOING)


class PayloadTooLarge(Problem):
    status = 413
    code = PAYLOAD_TOO_LARGE
    title = "Document too large"


class UnsupportedMediaType(Problem):
    status = 415
    code = UNSUPPORTED_MEDIA_TYPE
    title = "Document type not accepted"


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


class Receiver:
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
    path = directory / f"{INCOMING}{uuid.uuid4().hex}"
    out = path.open("xb")
    stream = aiter(chunks)
    try:
        receiver = Receiver(out, kind, limit)
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


def check_kept(handle: IO[bytes], kind: DocumentType) -> None:
    """The checks of the way in, over a kept document's bytes."""
    receiver = Receiver(None, kind, limit=2**62)
    handle.seek(0)
    while chunk := handle.read(CHUNK_BYTES):
        receiver.take(chunk)
    receiver.finish()
    handle.seek(0)
    check_container(kind, handle)
    handle.seek(0)
