"""E1 in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, OSS/COS in S3 mode), through aioboto3.

Bytes are staged on local disk first (their key is their hash, known only at the end), then put under
`<prefix><sha256>` with `If-None-Match: *` after a HEAD: an object already there is never replaced (a server that
ignores the condition is still covered by the HEAD, and by the content being the same bytes), and the put carries
the bytes' SHA-256 so the server refuses a body damaged on the way. The store needs GetObject, PutObject and
HeadObject on the prefix, never DeleteObject. A document is fetched to a local temporary file and verified whole
before a byte of it is served.
"""

from __future__ import annotations

import base64
import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from services.kernel.evidence import EvidenceStore, StoreUnavailable, check_key, not_found
from services.kernel.evidence_policy import CHUNK_BYTES, OUTGOING, Staged

MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
# If-None-Match lost to an object that is there (412), or to a concurrent put of the same key (409).
ALREADY_THERE = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
CLIENT_CONFIG = Config(
    s3={"addressing_style": "path"},
    retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=5,
    read_timeout=60,
)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Store(EvidenceStore):
    mode = "s3"

    def __init__(
        self,
        *,
        url: str,
        bucket: str,
        prefix: str,
        staging: Path,
        max_bytes: int,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        super().__init__(staging=staging, max_bytes=max_bytes)
        self.url, self.bucket, self.prefix = url, bucket, prefix
        # Unset credentials fall back to boto's own chain (AWS_* variables, a shared file, an instance role).
        self._session = aioboto3.Session(
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            region_name=region or None,
        )

    def where(self) -> str:
        return f"s3 bucket {self.bucket!r} at {self.url}, prefix {self.prefix!r}"

    def key_of(self, sha256: str) -> str:
        return self.prefix + check_key(sha256)

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[Any]:
        try:
            async with self._session.client("s3", endpoint_url=self.url, config=CLIENT_CONFIG) as client:
                yield client
        except (BotoCoreError, ClientError) as exc:
            detail = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
            raise StoreUnavailable(
                f"证据存储不可用 / the evidence store at {self.url} did not answer as expected ({detail}); "
                "nothing was kept. Try again later",
            ) from exc

    async def _head(self, client: Any, sha256: str) -> bool:
        try:
            await client.head_object(Bucket=self.bucket, Key=self.key_of(sha256))
        except ClientError as exc:
            if _code(exc) in MISSING:
                return False
            raise
        return True

    async def exists(self, sha256: str) -> bool:
        async with self._client() as client:
            return await self._head(client, sha256)

    async def _keep(self, staged: Staged) -> bool:
        checksum = base64.b64encode(bytes.fromhex(staged.sha256)).decode()
        async with self._client() as client:
            if await self._head(client, staged.sha256):
                return False
            try:
                with staged.path.open("rb") as body:
                    await client.put_object(
                        Bucket=self.bucket, Key=self.key_of(staged.sha256), Body=body, ContentLength=staged.size,
                        ContentType=staged.kind.media_type, ChecksumSHA256=checksum, IfNoneMatch="*",
                    )
            except ClientError as exc:
                if _code(exc) in ALREADY_THERE:
                    return False
                raise
        return True

    @contextlib.asynccontextmanager
    async def _open(self, sha256: str) -> AsyncIterator[IO[bytes]]:
        self.staging.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=self.staging, prefix=OUTGOING) as spool:
            async with self._client() as client:
                try:
                    answer = await client.get_object(Bucket=self.bucket, Key=self.key_of(sha256))
                except ClientError as exc:
                    if _code(exc) in MISSING:
                        raise not_found(sha256) from None
                    raise
                body = answer["Body"]
                try:
                    async for chunk in body.iter_chunks(CHUNK_BYTES):
                        spool.write(chunk)
                finally:
                    body.close()
            spool.flush()
            yield spool
