"""E1 on the filesystem (the embedded default): `<root>/<aa>/<bb>/<sha256>`, read-only once kept.

Bytes are staged in `<root>/tmp` (the same filesystem), fsynced, then hard-linked to their key: a link never
replaces an existing name (EEXIST), so two puts of the same bytes keep one file and nothing kept is overwritten; the
directory is fsynced so the new name survives a crash. A reader sees a complete file or none.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from services.kernel.evidence import EvidenceStore, check_key, not_found
from services.kernel.evidence_policy import Staged

READ_ONLY = 0o444


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FilesystemStore(EvidenceStore):
    mode = "filesystem"

    def __init__(self, root: Path, *, max_bytes: int) -> None:
        super().__init__(staging=root / "tmp", max_bytes=max_bytes)
        self.root = root

    def where(self) -> str:
        return f"filesystem at {self.root}"

    def path_of(self, sha256: str) -> Path:
        check_key(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _link(self, staged: Staged) -> bool:
        final = self.path_of(staged.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(staged.path, READ_ONLY)
        try:
            os.link(staged.path, final)
        except FileExistsError:
            return False
        _fsync_dir(final.parent)
        return True

    async def _keep(self, staged: Staged) -> bool:
        return await asyncio.to_thread(self._link, staged)

    async def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    @contextlib.asynccontextmanager
    async def _open(self, sha256: str) -> AsyncIterator[IO[bytes]]:
        try:
            handle = self.path_of(sha256).open("rb")
        except FileNotFoundError:
            raise not_found(sha256) from None
        with handle:
            yield handle
