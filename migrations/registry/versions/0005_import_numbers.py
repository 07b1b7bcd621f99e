"""registry: a household refers to the imports that registered and last changed it by number; the status history
holds changes only

A million new households are COPYed straight into `households` (services/registry/importer.py). Each value COPY
parses costs: the two dates and two import ids every record carried (registered_on, updated_on, import_id, all the
same for a whole import) cost PostgreSQL a third more than the nine fields of the line (1.5 s -> 2.1 s per million,
measured). So a record holds two import numbers instead (`registered_by`, `updated_by`: household_imports.number, a
sequence taken when the import starts), and the line of the file it was registered from (`registered_line`: also
how a line repeated later in the same file is told which line it repeats). The dates and ids are the imports': the
view `household_records` shows a household as before, with `registered_on`, `updated_on`, `registered_import_id`,
`import_id`.

The status history holds changes: a household's registration state stays in its record until the first change,
which writes it to the history first (dated registered_on, by the import that registered it). Households registered
before this migration keep their history (its first row is their registration).

Revision ID: registry_0005
Revises: registry_0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0005"
down_revision: str | None = "registry_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE household_import_numbers AS bigint")
    # A volatile default numbers the existing imports in one table rewrite (no UPDATE: the table is append-only).
    op.add_column(
        "household_imports",
        sa.Column("number", sa.BigInteger, nullable=False, server_default=sa.text("nextval('household_import_numbers')")),
    )
    op.create_unique_constraint("uq_household_imports_number", "household_imports", ["number"])
    op.add_column("households", sa.Column("registered_by", sa.BigInteger, nullable=True))
    op.add_column("households", sa.Column("updated_by", sa.BigInteger, nullable=True))
    op.add_column("households", sa.Column("registered_line", sa.Integer, nullable=True))
    op.execute(
        """
        UPDATE households h SET
            updated_by = (SELECT i.number FROM household_imports i WHERE i.id = h.import_id),
            registered_by = (SELECT i.number FROM household_imports i WHERE i.id = coalesce((
                SELECT x.import_id FROM household_status_history x WHERE x.household_id = h.household_id
                ORDER BY x.effective_on, x.id LIMIT 1), h.import_id))
        """
    )
    op.alter_column("households", "registered_by", nullable=False)
    op.alter_column("households", "updated_by", nullable=False)
    for column in ("registered_on", "updated_on", "import_id"):
        op.drop_column("households", column)
    op.execute(
        """
        CREATE VIEW household_records AS
        SELECT h.household_id, h.head_id_number, h.head_name, h.county_code, h.village_code, h.status, h.members,
               h.village_cadre, h.card_account, r.effective_on AS registered_on, u.effective_on AS updated_on,
               r.id AS registered_import_id, h.registered_line, u.id AS import_id
        FROM households h
        JOIN household_imports r ON r.number = h.registered_by
        JOIN household_imports u ON u.number = h.updated_by
        """
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
