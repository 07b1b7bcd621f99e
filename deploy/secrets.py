"""Secrets a fresh machine lacks, generated once and kept (mode 600) in the data directory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def kept_secret(data_dir: Path, name: str, env: str) -> str:
    given = os.environ.get(env)
    if given:
        return given
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.write_text(value)
    path.chmod(0o600)
    return value
