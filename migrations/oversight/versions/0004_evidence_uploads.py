"""oversight: who uploaded each evidence document (issue #16 point 3, rule E1)

evidence_uploads: one row per upload (sha256, the uploader's organisation and principal, when). A move cites only a
document its caller's organisation uploaded, or, for an inspector, one a case it sees cites already; before this
table, anyone with a case cited any kept document by its hash and then read it. Documents uploaded before it have no
row: they stay readable through the cases citing them, and are cited again only by an inspector who sees such a case
or after their organisation uploads them once more (the store keeps them once: nothing is copied).

Written as autogenerate writes it against the models (the table, its index), with the append-only trigger the
models' `append_only` attaches.

Revision ID: oversight_0004_evidence_uploads
Revises: oversight_0003_alert_orgs
Create Date: 2026-12-04 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "oversight_0004_evidence_uploads"
down_revision: str | None = "oversight_0003_alert_orgs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_uploads",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_evidence_uploads_sha256"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_evidence_uploads_sha256", "evidence_uploads", ["sha256", "organisation_id"], unique=False)
    op.execute(
        "CREATE TRIGGER evidence_uploads_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON evidence_uploads "
        "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
