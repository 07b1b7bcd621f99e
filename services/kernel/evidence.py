"""E1 evidence documents (issue #16 point 3): scans, photos and spreadsheets kept content-addressed.

A document is known by the SHA-256 of its bytes, computed while it streams in (never whole in memory): the same
bytes put twice are kept once, and a kept document is never overwritten or deleted. What a record keeps of it is an
`EvidenceRef` (`sha256`, `name`, `media_type`, `size`). Before anything is kept the bytes are staged in a temporary
file (fsynced), checked against the size limit (413 `PAYLOAD_TOO_LARGE`) and their declared media type against
their own bytes (415 `UNSUPPORTED_MEDIA_TYPE`); a refused or interrupted upload leaves nothing under any key. A
document read back is served only when its bytes hash to its key (500 `EVIDENCE_TAMPERED` otherwise).

This module holds what every store shares (the reference, the checks on reading); `evidence_policy.py` what is
accepted; `evidence_fs.py` and `evidence_s3.py` keep the bytes.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated

from pydantic import BaseModel, Field, field_validator

from services.kernel.errors import NotFound, Problem, ValidationProblem
from services.kernel.evidence_policy import (
    CHUNK_BYTES,
    DOCUMENT_TYPES,
    EVIDENCE_STORE_UNAVAILABLE,
    EVIDENCE_TAMPERED,
    MAX_NAME_CHARS,
    RULE,
    STAGING_PREFIXES,
    UNKNOWN_EVIDENCE,
    Staged,
    UnsupportedMediaType,
    check_kept,
    check_name,
    document_type,
    drain,
    name_problem,
    stage,
)

log = logging.getLogger("fundtrack.evidence")
# A staged file this old belongs to no running request (the gateway's body timeout is an hour at most by default).
STALE_STAGING_SECONDS = 24 * 3600.0

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


class EvidenceTampered(Problem):
    """The stored bytes no longer hash to their key: someone changed them where they are kept. Never served."""

    status = 500
    code = EVIDENCE_TAMPERED
    title = "Stored document does not match its hash"


class StoreUnavailable(Problem):
    status = 503
    code = EVIDENCE_STORE_UNAVAILABLE
    title = "The evidence store cannot be reached"


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


def unknown_document(sha256: str, *, field: str = "") -> ValidationProblem:
    """E1: the one refusal of a cited document the store does not keep, or one the caller may not cite (the service
    decides who may, before `confirm`): the same words either way, so it tells nothing of a document not the
    caller's (that it exists, its size, its type)."""
    at = f"{field}." if field else ""
    return ValidationProblem(f"没有这个文件 / no document {sha256} that you uploaded is kept: upload it first",
                             code=UNKNOWN_EVIDENCE, field=f"{at}sha256", rule=RULE)


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
        self,
        chunks: AsyncIterable[bytes],
        *,
        name: str,
        media_type: str | None,
        before_keeping: Callable[[], Awaitable[None]] | None = None,
    ) -> StoredEvidence:
        """Stream a document in; checked (name, type, size, bytes) before anything is kept. `before_keeping` runs
        once the bytes are staged whole, before they are kept (the unit of work claims the request's key then)."""
        try:
            kind = document_type(media_type)
            check_name(name)
        except Problem:
            await drain(chunks)
            raise
        async with stage(chunks, kind=kind, limit=self.max_bytes, directory=self.staging) as staged:
            if before_keeping is not None:
                await before_keeping()
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
        the document once.) Whether the caller may cite it at all is the service's to check first (a document it
        may not cite is refused as `unknown_document`, before its size or type is compared)."""
        at = f"{field}." if field else ""
        try:
            async with self.open(ref.sha256) as document:
                if document.size != ref.size:
                    # the size kept is not told: the caller may not be one who may read the document
                    raise ValidationProblem(f"文件大小不符 / document {ref.sha256} is not {ref.size} bytes",
                                            field=f"{at}size", rule=RULE)
                await asyncio.to_thread(check_kept, document.handle, DOCUMENT_TYPES[ref.media_type])
        except NotFound:
            raise unknown_document(ref.sha256, field=field) from None
        except UnsupportedMediaType as exc:
            raise ValidationProblem(exc.detail, field=f"{at}media_type", rule=RULE) from None
        return ref

    def sweep_staging(self, *, older_than_seconds: float = STALE_STAGING_SECONDS) -> int:
        """Remove what a process killed mid-upload or mid-download left in the staging directory (never a kept
        document: those are elsewhere); for a service's startup. Returns how many files went."""
        if not self.staging.is_dir():
            return 0
        cutoff, removed = time.time() - older_than_seconds, 0
        for path in self.staging.iterdir():
            if path.name.startswith(STAGING_PREFIXES) and path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

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
