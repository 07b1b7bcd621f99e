"""gateway: the optional second factor (issue #19, S21): people's TOTP states and the time steps of accepted codes

user_totp: a person's TOTP states, a new row each change (pending, enabled, disabled), the latest winning; the secret
kept only encrypted under a key derived from the service secret (gateway/totp.py). totp_uses: the time step of
each code accepted, so that no code (nor an earlier one) is accepted twice. Both are new tables, append-only like
0011's. Written as autogenerate writes it against the models (checked by tests/platform/test_schema.py), with the
append-only triggers the models' `append_only` attaches.

Revision ID: gateway_0012_totp
Revises: gateway_0011_people
Create Date: 2026-12-05 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0012_totp"
down_revision: str | None = "gateway_0011_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "user_totp",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.CheckConstraint("state IN ('pending', 'enabled', 'disabled')", name="ck_user_totp_state"),
        sa.CheckConstraint("(state = 'disabled') = (secret_encrypted IS NULL)", name="ck_user_totp_secret"),
        sa.ForeignKeyConstraint(["principal_id"], ["users.principal_id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_user_totp_principal", "user_totp", ["principal_id", "id"], unique=False)
    op.create_table(
        "totp_uses",
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.ForeignKeyConstraint(["principal_id"], ["users.principal_id"]),
        sa.PrimaryKeyConstraint("principal_id", "step"),
    )
    for table in ("user_totp", "totp_uses"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
        )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
