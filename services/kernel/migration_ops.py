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
