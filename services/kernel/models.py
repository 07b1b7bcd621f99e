"""Tables every service has in its own schema (the search_path puts them there): the audit outbox and its
acknowledgements, the signed nonces, the idempotency keys, and the alerts with their events; and the refusals S6
counts (funds and loans only) and the incremental detectors' marks (funds). Each schema's MetaData
(`KERNEL_TABLES` + its own, `schema.schema_metadata`) is that schema's one declaration: `fundtrack migrate` creates
it from them and checks it against them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from services.kernel.schema import XID8, after_create, append_only, table_of


class AuditOutbox(SQLModel, table=True):
    """One row per committed change, written in the change's own transaction; kept for good and nobody edits or
    deletes it (A1, S4): an entry is pending until an acknowledgement row names the chain seq the gateway gave it.
    `xid` (the inserting transaction) lets a poller skip what is known to be acknowledged without scanning the whole
    outbox (outbox.pending). `nonce` was the signed request's nonce, unique, S5's replay guard of a change until
    issue #15: a table partitioned by id cannot keep a unique index without the id, so every change now claims its
    nonce in `signed_nonces` (kernel/nonces.py) and leaves this column empty; the rows of the version before keep
    theirs, and an entry a process of that version writes with one has it claimed there by a trigger
    (migrations/nonce_claims.py), so a rolling deploy refuses a replay on either version."""

    __tablename__ = "audit_outbox"
    __table_args__ = (Index("ix_audit_outbox_xid", "xid"),)
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
    xid: int | None = Field(
        default=None, sa_column=Column(XID8(), nullable=False, server_default=text("pg_current_xact_id()"))
    )
    nonce: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))


class AuditOutboxAck(SQLModel, table=True):
    """The gateway chained an outbox entry at `seq`; insert-only, like the outbox."""

    __tablename__ = "audit_outbox_acks"
    __table_args__ = (CheckConstraint("seq > 0", name="ck_audit_outbox_acks_seq"),)
    outbox_id: int = Field(sa_column=Column(BigInteger, ForeignKey("audit_outbox.id"), primary_key=True))
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    acked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


class SignedNonce(SQLModel, table=True):
    """S5: the nonce of each state-changing signed request, claimed in its own transaction (kernel/nonces.py):
    unique, so a replay is refused. `signed_at` is its signature's timestamp, from which the claim's window and the
    forgetting are counted; `seen_at` when it was claimed. The default of `signed_at` is for a process of the version
    before, which claims without it (and forgets by `seen_at`)."""

    __tablename__ = "signed_nonces"
    __table_args__ = (Index("ix_signed_nonces_signed_at", "signed_at"),)
    nonce: str = Field(sa_column=Column(String(64), primary_key=True))
    seen_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    signed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


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
    __table_args__ = (
        CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name="ck_alerts_status"),
        # At most one alert per subject and type that is not resolved (a second scan raises no duplicate).
        Index(
            "uq_alerts_open_subject",
            "type",
            "subject_kind",
            "subject_id",
            unique=True,
            postgresql_where=text("status <> 'resolved'"),
        ),
        Index("ix_alerts_raised", "raised_at", "id"),
        Index("ix_alerts_region", "region_code", postgresql_ops={"region_code": "text_pattern_ops"}),
    )
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
    # issue #16: the organisation that answers for the subject (O13), as the detector found it on the facts it looked
    # at; null on the alerts raised before, and where those facts were recorded before organisations were
    responsible_org: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))


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


class DetectorMark(SQLModel, table=True):
    """How far the last successful run of a detector over a scope (a region prefix, '' national) got, for a
    detector that reads only what changed since (services/kernel/marks.py): the day it was as of; the oldest
    transaction of this database its reading could not see (`read_from`: every row recorded by it or a later one is
    read again next time); and, per other service it asked what changed, that service's own such transaction. Written
    in the transaction of the run's alerts (a failed run leaves it where it was); a bookmark, not a record: each
    successful run replaces it. In the schemas of the services that keep one (funds)."""

    __tablename__ = "detector_marks"
    detector: str = Field(sa_column=Column(String(64), primary_key=True))
    region_prefix: str = Field(sa_column=Column(String(12), primary_key=True))
    as_of: date = Field(sa_column=Column(Date, nullable=False))
    read_from: int = Field(sa_column=Column(BigInteger, nullable=False))  # an xid8, the snapshot's xmin
    others: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")))
    written_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


class Refusal(SQLModel, table=True):
    """services/kernel/throttle.py: refusals counted per principal, insert-only (old rows only age out of the
    window; nothing is updated). In the schemas of the services that count them (funds, loans)."""

    __tablename__ = "refusals"
    __table_args__ = (
        Index("ix_refusals_principal", "principal_id", "kind", "at"),
        Index("ix_refusals_target", "target", "kind", "at"),
    )
    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    code: str = Field(sa_column=Column(String(64), nullable=False))
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # whom the refused guess was about (the household), counted too: keys are cheap to issue, households not
    target: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))


append_only(table_of(AuditOutbox))
# S5 in a rolling deploy (migrations/nonce_claims.py): an entry written with a nonce, which only a process of the
# version before issue #15 writes, claims it in `signed_nonces`, refused as that version's outbox index refused a
# replay (its error, its constraint's name), so a replay is refused whichever version runs it. Goes with the column.
OLD_NONCE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_outbox_claims_nonce() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.nonce IS NOT NULL THEN
                INSERT INTO signed_nonces (nonce) VALUES (NEW.nonce) ON CONFLICT (nonce) DO NOTHING;
                IF NOT FOUND THEN
                    RAISE unique_violation USING CONSTRAINT = 'uq_audit_outbox_nonce',
                        MESSAGE = 'S5: the nonce ' || NEW.nonce || ' was claimed already (a replayed request)';
                END IF;
            END IF;
            RETURN NEW;
        END $$
"""
OLD_NONCE_TRIGGER = ("CREATE TRIGGER audit_outbox_claims_nonce BEFORE INSERT ON audit_outbox "
                     "FOR EACH ROW EXECUTE FUNCTION audit_outbox_claims_nonce()")
after_create(table_of(AuditOutbox), OLD_NONCE_FUNCTION, OLD_NONCE_TRIGGER)
append_only(table_of(AuditOutboxAck))

# The kernel's tables in every schema, and S6's refusals in those of the services that count them.
KERNEL_TABLES: tuple[Table, ...] = tuple(
    table_of(model) for model in (AuditOutbox, AuditOutboxAck, SignedNonce, IdempotencyKey, Alert, AlertEvent)
)
REFUSALS_TABLE = table_of(Refusal)
DETECTOR_MARKS_TABLE = table_of(DetectorMark)
