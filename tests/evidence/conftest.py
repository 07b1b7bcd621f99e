"""The evidence store's fixtures: moto's S3 server as a process (one per run, stopped at its end), and each store
on both sides."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from services.kernel.evidence import EvidenceStore
from services.kernel.evidence_fs import FilesystemStore
from tests.evidence.support import BUCKET, CREDENTIALS, LIMIT, moto_server, s3_store


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        boto3.client("s3", endpoint_url=url, **CREDENTIALS).create_bucket(Bucket=BUCKET)
        yield url


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStore:
    if request.param == "filesystem":
        return FilesystemStore(tmp_path / "evidence", max_bytes=LIMIT)
    return s3_store(request.getfixturevalue("moto_url"), tmp_path / "staging")
