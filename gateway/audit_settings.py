"""The settings of the trail's Merkle tree and checkpoints (issue #13), read by the gateway only (environment
`FUNDTRACK_AUDIT_*`; README lists them)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.kernel.settings import get_settings


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUNDTRACK_AUDIT_", extra="ignore")

    # The Ed25519 signer key (Go's note format, `PRIVATE+KEY+<origin>+…`): a file outside the database. Unset, it is
    # `<data dir>/audit-signing.key`, made on first start (development only: production refuses to start without it).
    signing_key_file: str = ""
    # The log's name: the first line of every checkpoint, and the name of the key that signs them.
    origin: str = Field(default="fundtrack.example/audit", min_length=1, max_length=200, pattern=r"^[^\s+]+$")
    # While entries arrive, a checkpoint is signed at most this often.
    checkpoint_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Where every checkpoint is published outside the database (`checkpoint-<size>.txt` and `latest`).
    witness_dir: str = ""
    # Processes that recompute the trail's hashes for GET /audit/verify and the full check, off the gateway's event
    # loop (0: in the gateway's process, blocking its requests while it runs). Unset: the cores, at most 4.
    verify_workers: int = Field(default_factory=lambda: min(4, os.cpu_count() or 1), ge=0, le=64)

    def key_path(self) -> Path:
        return Path(self.signing_key_file or Path(get_settings().data_dir) / "audit-signing.key")

    def witness_path(self) -> Path:
        return Path(self.witness_dir or Path(get_settings().data_dir) / "witness")


@lru_cache
def get_audit_settings() -> AuditSettings:
    return AuditSettings()
