"""How far a roster import has read its body, for the progress bar of the county office's console (issue #19):
lines and bytes so far, and the upload's length when its client declared it (so a percentage). Kept by the
importing principal and the import's Idempotency-Key in the UNLOGGED table `import_progress`, written on a
connection of its own, outside the import's transaction, so any worker answers GET /registry/imports/{key}/progress
while the import runs.

Not on the import's path: the body's bytes are counted as they pass, its lines by the import's own reader (which
counts them anyway: csvstream.physical_lines), and a write is started in the background when PROGRESS_LINES lines
or PROGRESS_SECONDS have passed since the last one, never while one is still under way: a few tens of writes for a
million lines, none waited for. A write that fails (the pool busy, the database gone) is logged and skipped; the
import goes on."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

from services.registry import repository

PROGRESS_LINES = 20_000
PROGRESS_SECONDS = 0.5
# The request's headers that say how long the upload is: the gateway passes the client's Content-Length on as the
# first (its own hop to the service streams the body chunked); a client calling the service directly sends the second.
LENGTH_HEADERS = ("x-fundtrack-upload-length", "content-length")
log = logging.getLogger("fundtrack.registry.progress")
_WRITING: set[asyncio.Task[None]] = set()  # the writes under way (a task must be referenced until it ends)


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The upload's length in bytes as its client declared it, or None when it did not (or not as a number)."""
    for name in LENGTH_HEADERS:
        value = headers.get(name)
        if value is not None and value.isascii() and value.isdigit():
            return int(value)
    return None


def percent(bytes_read: int, total_bytes: int | None, *, done: bool) -> int | None:
    """Whole per cent of the upload read: 100 once the whole body was read, None when its length is unknown."""
    if done:
        return 100
    if not total_bytes:
        return None
    return min(99, bytes_read * 100 // total_bytes)


@dataclass
class Progress:
    """One import's count, and its writes (one at a time, in order)."""

    engine: repository.Engine
    principal_id: str
    key: str
    total_bytes: int | None
    lines: int = 0
    bytes_read: int = 0
    written_lines: int = 0
    written_at: float = field(default_factory=time.monotonic)
    writing: asyncio.Task[None] | None = None

    async def counted(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """The body's chunks as they come, their bytes counted (their whole lines are counted by the reader of the
        lines, csvstream.physical_lines, into `lines`); the row written at the start, now and then, and at the end."""
        self._write(done=False, starts=True)
        last = b""
        async for chunk in chunks:
            self.bytes_read += len(chunk)
            last = chunk or last
            if self._due():
                self._write(done=False)
            yield chunk
        if last and not last.endswith(b"\n"):
            self.lines += 1  # a last line without its newline
        self._write(done=True)

    def _due(self) -> bool:
        if self.writing is not None and not self.writing.done():
            return False
        return (self.lines - self.written_lines >= PROGRESS_LINES
                or time.monotonic() - self.written_at >= PROGRESS_SECONDS)

    def _write(self, *, done: bool, starts: bool = False) -> None:
        """Start a write of the count as it is now, after the one under way (the last one is never skipped)."""
        self.written_lines, self.written_at = self.lines, time.monotonic()
        task = asyncio.create_task(self._written(
            self.writing, lines=self.lines, bytes_read=self.bytes_read, done=done, starts=starts))
        self.writing = task
        _WRITING.add(task)
        task.add_done_callback(_WRITING.discard)

    async def _written(
        self, before: asyncio.Task[None] | None, *, lines: int, bytes_read: int, done: bool, starts: bool
    ) -> None:
        if before is not None:
            await asyncio.wait([before])
        try:
            await repository.write_progress(
                self.engine, principal_id=self.principal_id, key=self.key, lines=lines, bytes_read=bytes_read,
                total_bytes=self.total_bytes, done=done, starts=starts,
            )
        except Exception as exc:  # noqa: BLE001 - a gauge: its failure must never fail the import
            log.warning("import progress %s not written: %s: %s", self.key, type(exc).__name__, str(exc)[:300])
