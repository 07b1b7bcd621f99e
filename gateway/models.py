"""The gateway's tables (schema `gateway`): principals, their revocations, the audit inbox and the chained trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text, func
from sqlalchemy.dialects.postgresql import ARRAY

metadata = MetaData()


def _audit_columns() -> list[Column[object]]:
    return [
        Column("at", DateTime(timezone=True), nullable=False),
        Column("principal_id", String(64), nullable=False),
        Column("role", String(32), nullable=False),
        Column("region_code", String(12), nullable=False),
        Column("method", String(8), nullable=False),
        Column("path", Text, nullable=False),
        Column("query", Text, nullable=False),
        Column("entity_ids", ARRAY(Text), nullable=False),
        Column("body_sha256", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("code", String(64), nullable=False),
        Column("request_id", String(128), nullable=False),
        Column("origin", String(16), nullable=False),
        Column("origin_id", BigInteger, nullable=True),
    ]


AUDIT_FIELDS = (
    "at",
    "principal_id",
    "role",
    "region_code",
    "method",
    "path",
    "query",
    "entity_ids",
    "body_sha256",
    "status",
    "code",
    "request_id",
    "origin",
    "origin_id",
)

principals = Table(
    "principals",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("region_code", String(12), nullable=False),
    Column("key_sha256", String(64), nullable=False, unique=True),
    Column("key_prefix", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", String(64), nullable=False),
)

principal_revocations = Table(
    "principal_revocations",
    metadata,
    Column("principal_id", String(64), ForeignKey("principals.id"), primary_key=True),
    Column("revoked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_by", String(64), nullable=False),
)

audit_inbox = Table("audit_inbox", metadata, Column("id", BigInteger, primary_key=True), *_audit_columns())

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    *_audit_columns(),
    Column("sequenced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

GENESIS_HASH = "0" * 64


def utc(value: datetime) -> str:
    """The one timestamp form that goes into a hash: UTC, microseconds."""
    from datetime import UTC

    return value.astimezone(UTC).isoformat(timespec="microseconds")
