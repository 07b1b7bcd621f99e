"""The witness location (issue #13): every signed checkpoint is also written outside the database, as
`checkpoint-<size>.txt` and `latest` (each by an atomic rename), so that rewriting the database cannot rewrite what
was published. The gateway signs no checkpoint that does not extend the witness's latest (gateway/checkpoints.py)."""

from __future__ import annotations

import os
from pathlib import Path


class Witness:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def publish(self, size: int, signed_note: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write(f"checkpoint-{size}.txt", signed_note)
        self._write("latest", signed_note)

    def latest(self) -> str | None:
        """The latest checkpoint published, or None when there is none (or the directory is gone)."""
        try:
            return (self.directory / "latest").read_text()
        except FileNotFoundError:
            return None

    def published(self, size: int) -> str | None:
        try:
            return (self.directory / f"checkpoint-{size}.txt").read_text()
        except FileNotFoundError:
            return None

    def _write(self, name: str, text: str) -> None:
        temporary = self.directory / f".{name}.{os.getpid()}.tmp"
        with open(temporary, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.directory / name)
