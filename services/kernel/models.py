"""Tables every service has in its own schema (the search_path puts them there): the audit outbox, the
idempotency keys, and the alerts with their events. Created by `migration_ops.create_kernel_tables`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, Integer, LargeBinary, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel


class AuditOutbox(SQLModel, table=True):
    """One row per committed change, written in the change's own transaction; the gateway's sequencer moves it
    into the hash-chained trail and then deletes it here (A1: no committed change without its audit entry)."""

    __tablename__ = "audit_outbox"
    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    request_id: str = Field(sa_column=Column(String(128), nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    role: str = Field(sa_column=Column(String(32), nullable=False))
    region_code: str = Field(sa_column=Column(String(12), nullable=False))
    method: str = Field(sa_column=Column(String(8), nullable=False))
    path: str = Field(sa_column=Column(Text, nullable=False))
    query: str = Field(sa_column=Column(Text, nullable=False, server_default=""))
    entity_ids: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    body_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    status: int = Field(sa_column=Column(Integer, nullable=False))


class IdempotencyKey(SQLModel, table=True):
    """The first response to (principal, key), stored in the same transaction as the effect it reports."""

    __tablename__ = "idempotency_keys"
    principal_id: str = Field(sa_column=Column(String(64), primary_key=True))
    key: str = Field(sa_column=Column(String(255), primary_key=True))
    request_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    status: int = Field(sa_column=Column(Integer, nullable=False))
    media_type: str = Field(sa_column=Column(String(100), nullable=False))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    id: str = Field(sa_column=Column(String(64), primary_key=True))
    type: str = Field(sa_column=Column(String(64), nullable=False))
    severity: str = Field(sa_column=Column(String(16), nullable=False))
    region_code: str = Field(sa_column=Column(String(12), nullable=False))
    subject_kind: str = Field(sa_column=Column(String(32), nullable=False))
    subject_id: str = Field(sa_column=Column(String(128), nullable=False))
    raised_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    as_of: str = Field(sa_column=Column(String(10), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    facts: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class AlertEvent(SQLModel, table=True):
    """Immutable history of an alert: raised, updated (facts changed as it ages), acknowledged, resolved."""

    __tablename__ = "alert_events"
    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    alert_id: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False, server_default=""))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
