"""gateway: organisations (单位), and every principal in one (issue #16)

Generated against the models, then the data step added by hand: each principal made before organisations gets an
organisation of its own (kind `other`, named as the principal, in its county or wider region), so no principal and
no key is lost and O1 holds for all of them; an admin then makes the real organisations and issues new keys in them.
The organisations table is append-only, as the models' `after_create` makes it.

Revision ID: gateway_0008_organisations
Revises: gateway_0007_audit_time_window
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0008_organisations"
down_revision: str | None = "gateway_0007_audit_time_window"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('finance_bureau', 'poverty_office', 'bank_branch', 'discipline_commission', 'project_unit', "
            "'other')",
            name="ck_organisations_kind",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_organisations_region_code", "organisations", ["region_code"], unique=False,
        postgresql_ops={"region_code": "text_pattern_ops"},
    )
    op.execute(
        "CREATE TRIGGER organisations_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON organisations "
        "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
    )
    op.add_column("principals", sa.Column("organisation_id", sa.String(length=64), nullable=True))
    # The data step: one organisation per existing principal, its id derived from the principal's.
    op.execute(
        "INSERT INTO organisations (id, name, kind, region_code, created_at, created_by) "
        "SELECT 'org_' || substr(md5(p.id), 1, 26), p.name, 'other', substr(p.region_code, 1, 6), p.created_at, "
        "'migration:gateway_0008' FROM principals p"
    )
    op.execute("UPDATE principals SET organisation_id = 'org_' || substr(md5(id), 1, 26)")
    op.alter_column("principals", "organisation_id", nullable=False)
    op.create_foreign_key(
        "principals_organisation_id_fkey", "principals", "organisations", ["organisation_id"], ["id"]
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
