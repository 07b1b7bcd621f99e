"""gateway: principals, the audit inbox and the hash-chained audit trail (A1, A2), and the kernel tables

Revision ID: gateway_0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from services.kernel.migration_ops import append_only, create_kernel_tables

revision: str = "gateway_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _audit_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("entity_ids", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        # Who wrote the entry: 'gateway' for what came through the door, a service name for a committed change.
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("origin_id", sa.BigInteger, nullable=True),
    ]


def upgrade() -> None:
    create_kernel_tables()
    op.create_table(
        "principals",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("key_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("key_prefix", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'finance', 'project_manager', 'lender', 'inspector')", name="ck_principals_role"
        ),
    )
    op.create_table(
        "principal_revocations",
        sa.Column("principal_id", sa.String(64), sa.ForeignKey("principals.id"), primary_key=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_by", sa.String(64), nullable=False),
    )
    op.create_table("audit_inbox", sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True), *_audit_columns())
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        *_audit_columns(),
        sa.Column("sequenced_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index(
        "uq_audit_log_origin",
        "audit_log",
        ["origin", "origin_id"],
        unique=True,
        postgresql_where=sa.text("origin_id IS NOT NULL"),
    )
    op.create_index("ix_audit_log_request_id", "audit_log", ["request_id"])
    op.create_index("ix_audit_log_principal", "audit_log", ["principal_id", "seq"])
    op.create_index("ix_audit_log_entity_ids", "audit_log", ["entity_ids"], postgresql_using="gin")
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    # A2: the trail is append-only, enforced by the database itself (and the app role has no such grant).
    append_only("audit_log")


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
