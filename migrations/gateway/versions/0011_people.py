"""gateway: people sign in (issue #19): users, their passwords, sessions and sign-in attempts

A user is a principal without a key: `principals.key_sha256` and `key_prefix` become nullable (a catalogue change;
no row is rewritten). users, user_passwords, sessions, session_ends and sign_in_attempts are new tables, all
append-only (a new password is a new row; a session ends by a row in session_ends; a lockout is read from the
attempts). Written as autogenerate writes it against the models (checked by tests/platform/test_schema.py), with
the append-only triggers the models' `append_only` attaches.

Revision ID: gateway_0011_people
Revises: gateway_0010_alert_orgs
Create Date: 2026-12-05 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0011_people"
down_revision: str | None = "gateway_0010_alert_orgs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")


def upgrade() -> None:
    op.alter_column("principals", "key_sha256", existing_type=sa.String(length=64), nullable=True)
    op.alter_column("principals", "key_prefix", existing_type=sa.String(length=16), nullable=True)
    op.create_table(
        "users",
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("login = lower(login)", name="ck_users_login_lower"),
        sa.ForeignKeyConstraint(["principal_id"], ["principals.id"]),
        sa.PrimaryKeyConstraint("principal_id"),
        sa.UniqueConstraint("login"),
    )
    op.create_table(
        "user_passwords",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["principal_id"], ["users.principal_id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_user_passwords_principal", "user_passwords", ["principal_id", "id"], unique=False)
    op.create_table(
        "sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["principal_id"], ["principals.id"]),
        sa.PrimaryKeyConstraint("token_sha256"),
    )
    op.create_index("ix_sessions_principal", "sessions", ["principal_id"], unique=False)
    op.create_table(
        "session_ends",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["token_sha256"], ["sessions.token_sha256"]),
        sa.PrimaryKeyConstraint("token_sha256"),
    )
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_attempts_login_at", "sign_in_attempts", ["login", "at"], unique=False)
    for table in ("users", "user_passwords", "sessions", "session_ends", "sign_in_attempts"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
        )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
