"""For tests/evidence: a real S3-protocol server (moto's, as its own process), sample documents of
every accepted type, and the two stores built small."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3

from services.kernel.evidence import EvidenceStore
from services.kernel.evidence_fs import FilesystemStore
from services.kernel.evidence_policy import DOCX, XLSX
from services.kernel.evidence_s3 import S3Store

MOTO_START_SECONDS = 30.0
CREDENTIALS = {"aws_access_key_id": "fundtrack-test", "aws_secret_access_key": "fundtrack-test-secret",
               "region_name": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's standalone server on a free port, stopped on leaving; the URL once it accepts connections."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "1"},
    )
    try:
        deadline = time.monotonic() + MOTO_START_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto server exited with {process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def ooxml(main_part: str, filler: bytes = b"") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(main_part, b"<x/>" + filler)
    return out.getvalue()


def samples(unique: bytes) -> dict[str, bytes]:
    """One small valid document per accepted type; `unique` makes each test's bytes its own (content addressing)."""
    return {
        "application/pdf": b"%PDF-1.7\n" + unique + b"\n%%EOF\n",
        "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + unique,
        "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + unique,
        XLSX: ooxml("xl/workbook.xml", unique),
        DOCX: ooxml("word/document.xml", unique),
        "text/csv": "单位,金额\n某县财政局,1200\n".encode() + unique.hex().encode() + b"\n",
        "text/plain": "整改说明\n".encode() + unique.hex().encode() + b"\n",
    }


async def chunked(data: bytes, size: int = 7001) -> AsyncIterator[bytes]:
    """The bytes in odd-sized chunks, as a network delivers them."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


class Interrupted(ConnectionError):
    pass


async def cut_off(data: bytes, after: int) -> AsyncIterator[bytes]:
    """A body whose sender goes away after `after` bytes."""
    async for chunk in chunked(data[:after]):
        yield chunk
    raise Interrupted("the client went away")


LIMIT = 256 * 1024
BUCKET = "fundtrack-evidence"
PREFIX = "evidence/"


@lru_cache
def raw_s3(url: str) -> Any:
    return boto3.client("s3", endpoint_url=url, **CREDENTIALS)


def s3_store(url: str, staging: Path, *, limit: int = LIMIT) -> S3Store:
    return S3Store(url=url, bucket=BUCKET, prefix=PREFIX, staging=staging, max_bytes=limit,
                   region=CREDENTIALS["region_name"], access_key_id=CREDENTIALS["aws_access_key_id"],
                   secret_access_key=CREDENTIALS["aws_secret_access_key"])


def copies(store: EvidenceStore, sha256: str) -> int:
    """How many stored objects hold this key, read from the storage itself (not through the store)."""
    if isinstance(store, FilesystemStore):
        return sum(1 for p in store.root.rglob(sha256) if p.is_file())
    assert isinstance(store, S3Store)
    return int(raw_s3(store.url).list_objects_v2(Bucket=BUCKET, Prefix=store.key_of(sha256))["KeyCount"])


def tamper(store: EvidenceStore, sha256: str, data: bytes) -> None:
    """Change the stored bytes behind the store's back, as someone with access to the disk or the bucket could."""
    if isinstance(store, FilesystemStore):
        path = store.path_of(sha256)
        os.chmod(path, 0o644)
        path.write_bytes(data)
    else:
        assert isinstance(store, S3Store)
        raw_s3(store.url).put_object(Bucket=BUCKET, Key=store.key_of(sha256), Body=data)


def leftovers(store: EvidenceStore) -> list[str]:
    return sorted(p.name for p in store.staging.iterdir()) if store.staging.exists() else []


def unique() -> bytes:
    return os.urandom(16)


async def read_back(store: EvidenceStore, sha256: str) -> bytes:
    async with store.open(sha256) as document:
        return await document.read_all()
