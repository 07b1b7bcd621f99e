"""Alembic operations shared by every schema's history: the kernel tables each service owns a copy of."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg


def create_kernel_tables() -> None:
    op.create_table(
        "audit_outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("query", sa.Text, nullable=False, server_default=""),
        sa.Column("entity_ids", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("principal_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(128), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("facts", pg.JSONB, nullable=False),
        sa.CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name="ck_alerts_status"),
    )
    # At most one alert per subject and type that is not resolved (a second scan raises no duplicate).
    op.create_index(
        "uq_alerts_open_subject",
        "alerts",
        ["type", "subject_kind", "subject_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.create_index("ix_alerts_raised", "alerts", ["raised_at", "id"])
    op.create_index("ix_alerts_region", "alerts", ["region_code"], postgresql_ops={"region_code": "text_pattern_ops"})
    op.create_table(
        "alert_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("alert_id", sa.String(64), nullable=False, index=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def append_only(*tables: str) -> None:
    """Nothing recorded is edited or deleted (DOMAIN.md; A2 for the audit trail): the database itself refuses any
    UPDATE, DELETE or TRUNCATE statement on these tables, whatever role asks. Corrections are new rows."""
    op.execute(
        """
        CREATE OR REPLACE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '%: append-only, % refused (nothing recorded is edited or deleted)', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        """
    )
    for table in tables:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
        )


def create_refusals_table() -> None:
    """services/kernel/throttle.py: refusals counted per principal, insert-only (old rows only age out of the
    window; nothing is updated)."""
    op.create_table(
        "refusals",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        # whom the refused guess was about (the household), counted too: keys are cheap to issue, households not
        sa.Column("target", sa.String(64), nullable=True),
    )
    op.create_index("ix_refusals_principal", "refusals", ["principal_id", "kind", "at"])
    op.create_index("ix_refusals_target", "refusals", ["target", "kind", "at"])


def permanent_outbox() -> None:
    """The audit outbox is kept for good and nobody edits or deletes it (A1, S4): an entry is pending until an
    acknowledgement row names the chain seq the gateway gave it; acknowledgements are insert-only too. `xid` (the
    inserting transaction) lets a poller skip what is known to be acknowledged without scanning the whole outbox
    (outbox.pending); `nonce` is the signed request's nonce, unique, so a replayed change is refused at its insert
    (S5). `signed_nonces` holds the nonces of state-changing requests that write no outbox entry (the ack)."""
    # Entries already waiting get the migration's own transaction id: pending like any other.
    op.execute("ALTER TABLE audit_outbox ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.create_index("ix_audit_outbox_xid", "audit_outbox", ["xid"])
    op.add_column("audit_outbox", sa.Column("nonce", sa.String(64), nullable=True))
    op.create_index("uq_audit_outbox_nonce", "audit_outbox", ["nonce"], unique=True)
    op.create_table(
        "audit_outbox_acks",
        sa.Column("outbox_id", sa.BigInteger, sa.ForeignKey("audit_outbox.id"), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("seq > 0", name="ck_audit_outbox_acks_seq"),
    )
    op.create_table(
        "signed_nonces",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_signed_nonces_seen_at", "signed_nonces", ["seen_at"])
    append_only("audit_outbox", "audit_outbox_acks")
