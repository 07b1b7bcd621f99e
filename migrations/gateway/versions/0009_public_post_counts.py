"""gateway: the public's submissions counted per client address in a store every gateway shares (S16, issue #16)

Generated against the models, then UNLOGGED added by hand (autogenerate does not see a table's persistence): an
ephemeral counter, not a record; rows are keyed by an HMAC of the address and its time slice and deleted once the
slice leaves the window (gateway/ratelimit.py).

Revision ID: gateway_0009_public_post_counts
Revises: gateway_0008_organisations
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0009_public_post_counts"
down_revision: str | None = "gateway_0008_organisations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "public_post_counts",
        sa.Column("client_tag", sa.String(length=64), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_tag"),
        prefixes=["UNLOGGED"],
    )
    op.create_index("ix_public_post_counts_expires_at", "public_post_counts", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_public_post_counts_expires_at", table_name="public_post_counts")
    op.drop_table("public_post_counts")
