"""Which evidence store a process uses (E1), from FUNDTRACK_EVIDENCE_*: the filesystem under the data directory by
default, an S3-compatible bucket when FUNDTRACK_EVIDENCE_S3_URL is set."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.kernel.evidence import EvidenceStore
from services.kernel.evidence_fs import FilesystemStore
from services.kernel.evidence_s3 import S3Store
from services.kernel.settings import get_settings

MIB = 1024 * 1024


class EvidenceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUNDTRACK_EVIDENCE_", extra="ignore")

    # The filesystem store's root (unset: <data dir>/evidence); with S3, where uploads are staged and downloads
    # checked before they are served (unset: <data dir>/evidence-staging).
    dir: str = ""
    # The largest document accepted, in bytes (413 above it).
    max_bytes: int = Field(default=20 * MIB, ge=1024, le=1024 * MIB)
    # An S3-compatible endpoint (https://s3.cn-north-1.amazonaws.com.cn, https://minio.example:9000); unset: the
    # filesystem store.
    s3_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    s3_bucket: str = ""
    s3_prefix: str = "evidence/"
    s3_region: str = ""
    # Unset: boto's own chain (AWS_ACCESS_KEY_ID…, a shared credentials file, an instance role).
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""

    @model_validator(mode="after")
    def _bucket_with_url(self) -> EvidenceSettings:
        if self.s3_url and not self.s3_bucket:
            raise ValueError("FUNDTRACK_EVIDENCE_S3_BUCKET must be set with FUNDTRACK_EVIDENCE_S3_URL")
        return self

    @property
    def mode(self) -> str:
        return "s3" if self.s3_url else "filesystem"


def open_store(settings: EvidenceSettings, data_dir: Path | None = None) -> EvidenceStore:
    """The store the settings name; `data_dir` defaults to FUNDTRACK_DATA_DIR."""
    base = data_dir if data_dir is not None else Path(get_settings().data_dir)
    if not settings.s3_url:
        return FilesystemStore(Path(settings.dir) if settings.dir else base / "evidence", max_bytes=settings.max_bytes)
    return S3Store(
        url=settings.s3_url, bucket=settings.s3_bucket, prefix=settings.s3_prefix,
        staging=Path(settings.dir) if settings.dir else base / "evidence-staging", max_bytes=settings.max_bytes,
        region=settings.s3_region, access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )


@lru_cache
def get_evidence_store() -> EvidenceStore:
    return open_store(EvidenceSettings())
