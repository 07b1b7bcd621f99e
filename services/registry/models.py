"""Tables of the registry and the view the reads use. `metadata` is the registry schema (the view is created with
it; `Household`, the view's model, is not a table of it)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Sequence,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlmodel import Field, SQLModel

from services.kernel.models import KERNEL_TABLES
from services.kernel.schema import (
    after_create,
    append_only,
    organisation_column,
    recorded_xid_column,
    schema_metadata,
    table_of,
)
from services.registry import codes

# L1: the standing of a household that may not receive poverty support (not an eligible status, or a village
# cadre): the predicate of the partial indexes that find such households and history rows by household id (the
# registry's scans of the households ineligible on a day read only these). Literal SQL, from the same statuses as
# rules.ineligibility: a change of codes.ELIGIBLE_STATUSES needs a revision rebuilding both indexes.
NOT_ELIGIBLE = "status NOT IN ({}) OR village_cadre".format(", ".join(f"'{s}'" for s in codes.ELIGIBLE_STATUSES))

# The dates and ids of the imports that registered and last changed a household, which its row refers to by number
# (a COPY of a million new households parses two numbers, not two dates and two ids: importer.py).
_HOUSEHOLD_RECORDS = """
CREATE VIEW household_records AS
SELECT h.household_id, h.head_id_number, h.head_name, h.county_code, h.village_code, h.status, h.members,
       h.village_cadre, h.card_account, r.effective_on AS registered_on, u.effective_on AS updated_on,
       r.id AS registered_import_id, h.registered_line, u.id AS import_id
FROM households h
JOIN household_imports r ON r.number = h.registered_by
JOIN household_imports u ON u.number = h.updated_by
"""


class HouseholdImport(SQLModel, table=True):
    """One CSV import: who sent it, the date its statuses took effect, and what it did. `number` is what a household
    record refers to; taken from household_import_numbers when the import starts."""

    __tablename__ = "household_imports"
    __table_args__ = (UniqueConstraint("number", name="uq_household_imports_number"),)
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    region_code: str = Field(sa_column=Column(String(12), nullable=False))
    effective_on: date = Field(sa_column=Column(Date, nullable=False))
    at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    imported: int = Field(sa_column=Column(Integer, nullable=False))
    updated: int = Field(sa_column=Column(Integer, nullable=False))
    unchanged: int = Field(sa_column=Column(Integer, nullable=False))
    rejected: int = Field(sa_column=Column(Integer, nullable=False))
    number: int = Field(
        sa_column=Column(
            BigInteger,
            Sequence("household_import_numbers", data_type=BigInteger),
            nullable=False,
            server_default=text("nextval('household_import_numbers')"),
        )
    )
    # issue #16 (O13): the importing organisation, which also answers for the import; null on imports made before
    # (last: added by a revision, which puts a column after the others)
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    responsible_org: str | None = Field(default=None, sa_column=organisation_column())
    # issue #20: the transaction that recorded it, and registered its households (kernel/marks.py); null before
    xid: int | None = Field(default=None, sa_column=recorded_xid_column())


class HouseholdRow(SQLModel, table=True):
    """The table behind `household_records`: a household as registered and last changed, the imports that did so by
    number (`registered_by`, `updated_by`), and the line of the file it was registered from (`registered_line`:
    also how a line repeated later in the same file is told which line it repeats)."""

    __tablename__ = "households"
    __table_args__ = (
        CheckConstraint("status IN ('poor', 'exited', 'returned', 'not_poor')", name="ck_households_status"),
        CheckConstraint("members > 0", name="ck_households_members"),
        # issue #15: distributed by county; also a county's page of the roster in household id order
        # (households_within with a county)
        PrimaryKeyConstraint("county_code", "household_id"),
        # No index on the household id alone: a household is found by its id through the directory
        # `household_ids` (repository.located, the import's statements), which also keeps it one across counties.
        Index("ix_households_ineligible", "household_id", postgresql_where=text(NOT_ELIGIBLE)),
        # the households registered by the imports of a time (repository.CHANGED_SINCE): BRIN, households are
        # appended import by import, so its ranges follow the import numbers and the COPY of a roster pays nothing
        Index("ix_households_registered_by", "registered_by", postgresql_using="brin"),
    )
    household_id: str = Field(sa_column=Column(String(64), nullable=False))
    head_id_number: str = Field(sa_column=Column(String(18), nullable=False))
    head_name: str = Field(sa_column=Column(String(100), nullable=False))
    county_code: str = Field(sa_column=Column(String(6), nullable=False))
    village_code: str = Field(sa_column=Column(String(12), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    members: int = Field(sa_column=Column(SmallInteger, nullable=False))
    village_cadre: bool = Field(sa_column=Column(Boolean, nullable=False))
    card_account: str = Field(sa_column=Column(String(64), nullable=False))
    registered_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    registered_line: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class HouseholdId(SQLModel, table=True):
    """Derived, not recorded: the directory of household ids, each with the county whose roster holds it now (issue
    #15). The roster's ids come from the national 建档立卡 system, not from here, and a household moves to another
    county when a re-import says so (its record is updated in place, key included), so nothing in the roster's key
    (county_code, household_id) keeps a household one across counties: this table's key does. It refuses the COPY
    of a chunk of new households that names a household of any county (the chunk is then staged and merged, which
    finds it and moves it), and the second of two counties' imports registering one new id at once.

    Kept by triggers on `households` (DIRECTORY_FUNCTION), in the statement that registers or moves a household:
    every writer of the roster (the import's COPY and merge, a bulk load, a repair by hand) keeps it. Keyed by the
    household id alone, which is its distribution column on Citus (deploy/SCALING.md). Every read by household id
    alone goes through it to the roster's key (`repository.located`, the import's merge and refusals): the roster has
    no index on the id alone, so an import writes as many indexes as before the directory.
    tests/registry/test_household_ids.py checks it always equals the roster (`repository.household_ids_differing`,
    which `fundtrack doctor` runs too)."""

    __tablename__ = "household_ids"
    household_id: str = Field(sa_column=Column(String(64), primary_key=True))
    county_code: str = Field(sa_column=Column(String(6), nullable=False))


# The directory's change of each statement on the roster: a household registered is added (a second of one id,
# in any county, is refused by the directory's key: a unique violation, as the roster's own key gives), a move
# sets its county, an id a statement changes or deletes (by hand: the service never does, and its role may not
# delete from the directory) is taken out. A move upserts: the revision that fills the directory (registry_0015)
# may hold that household's entry uncommitted, and the move then waits for it and sets the county over the one it
# copied. The search_path is the schema's, whoever's session writes; hash joins are on whatever the writer set (the
# import turns them off for its own statements: this function's joins of two transition tables of a chunk's
# households would be nested loops, 28,500 moved households in 99.5 s).
DIRECTORY_FUNCTION = """
CREATE OR REPLACE FUNCTION household_ids_kept() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT
SET enable_hashjoin = on SET enable_mergejoin = on AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                DELETE FROM household_ids;
            ELSIF TG_OP = 'INSERT' THEN
                INSERT INTO household_ids (household_id, county_code) SELECT household_id, county_code FROM new_rows;
            ELSIF TG_OP = 'DELETE' THEN
                DELETE FROM household_ids d USING old_rows o WHERE d.household_id = o.household_id;
            ELSE
                IF EXISTS (SELECT 1 FROM old_rows o
                           WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.household_id = o.household_id)) THEN
                    DELETE FROM household_ids d USING old_rows o
                    WHERE d.household_id = o.household_id
                      AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.household_id = o.household_id);
                    INSERT INTO household_ids (household_id, county_code)
                    SELECT n.household_id, n.county_code FROM new_rows n
                    WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.household_id = n.household_id);
                END IF;
                INSERT INTO household_ids AS d (household_id, county_code)
                SELECT n.household_id, n.county_code FROM new_rows n JOIN old_rows o USING (household_id)
                WHERE n.county_code <> o.county_code
                ON CONFLICT (household_id) DO UPDATE SET county_code = excluded.county_code;
            END IF;
            RETURN NULL;
        END $$
"""
DIRECTORY_TRIGGERS = (
    "CREATE TRIGGER households_ids_insert AFTER INSERT ON households REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION household_ids_kept()",
    "CREATE TRIGGER households_ids_update AFTER UPDATE ON households REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION household_ids_kept()",
    "CREATE TRIGGER households_ids_delete AFTER DELETE ON households REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION household_ids_kept()",
    "CREATE TRIGGER households_ids_truncate AFTER TRUNCATE ON households "
    "FOR EACH STATEMENT EXECUTE FUNCTION household_ids_kept()",
)


class Household(SQLModel, table=True):
    """The current record of a registered household (建档立卡户), as the view `household_records` shows it: the table
    `households` with the dates and ids of the imports that registered it and last changed it. Re-imports
    update it, the history keeps the past; its status and cadre flag are those it was registered with until the
    history has a row (the first change writes the registration state to the history first)."""

    __tablename__ = "household_records"
    household_id: str = Field(sa_column=Column(String(64), primary_key=True))
    head_id_number: str = Field(sa_column=Column(String(18), nullable=False))
    head_name: str = Field(sa_column=Column(String(100), nullable=False))
    county_code: str = Field(sa_column=Column(String(6), nullable=False))
    village_code: str = Field(sa_column=Column(String(12), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    members: int = Field(sa_column=Column(SmallInteger, nullable=False))
    village_cadre: bool = Field(sa_column=Column(Boolean, nullable=False))
    card_account: str = Field(sa_column=Column(String(64), nullable=False))
    registered_on: date = Field(sa_column=Column(Date, nullable=False))
    updated_on: date = Field(sa_column=Column(Date, nullable=False))
    registered_import_id: str = Field(sa_column=Column(String(40), nullable=False))
    registered_line: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    import_id: str = Field(sa_column=Column(String(40), nullable=False))  # the import that last changed it


class HouseholdStatus(SQLModel, table=True):
    """A household's status and cadre flag from `effective_on` on (poor → exited → returned…); append-only. Written
    at the first change of a household (its registration state, then the change) and at each later one.
    `county_code` is the household's county the row was recorded in (issue #15: distributed by county with the
    roster): a household that moved keeps its earlier rows in the county it left. A move alone (no status or cadre
    change) writes no row, so the registration state, written at the first change, carries the county the household
    was in just before that change's import, which is not where it was registered if it moved in between (the
    history records statuses, and where a household was registered is not kept anywhere else). The key is
    (county_code, id) (an id is drawn from one sequence: distinct by construction); ix_history_household is the
    order every read needs, by household id alone (a moved household's rows are of two counties);
    ix_history_ineligible finds the households that were ever ineligible (NOT_ELIGIBLE)."""

    __tablename__ = "household_status_history"
    __table_args__ = (
        PrimaryKeyConstraint("county_code", "id"),
        Index("ix_history_household", "household_id", "effective_on", "id"),
        Index("ix_history_ineligible", "household_id", "effective_on", postgresql_where=text(NOT_ELIGIBLE)),
        # the changes recorded since a mark (repository.CHANGED_SINCE), by transaction; not the rows from before
        Index("ix_history_xid", "xid", postgresql_where=text("xid IS NOT NULL")),
    )
    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False))
    household_id: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    village_cadre: bool = Field(sa_column=Column(Boolean, nullable=False))
    effective_on: date = Field(sa_column=Column(Date, nullable=False))
    import_id: str = Field(sa_column=Column(String(40), nullable=False))
    recorded_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    # issue #20: the transaction that recorded it (kernel/marks.py); null on the rows recorded before
    xid: int | None = Field(default=None, sa_column=recorded_xid_column())
    # issue #15 (last: added by registry_0013, which puts a column after the others)
    county_code: str = Field(sa_column=Column(String(6), nullable=False))


class CadreException(SQLModel, table=True):
    """R1 (issue #17 point 11): the county's approved exception for a household with a sitting village cadre (seed
    002 §二.1 "原则上不能识别纳入": in principle): who approved it, on which day, under which document. From that day
    on the household may receive poverty support (rules.ineligibility). Append-only: an exception is recorded once
    and kept; its county code leads its key (distributed by county, like the roster)."""

    __tablename__ = "cadre_exceptions"
    __table_args__ = (
        PrimaryKeyConstraint("county_code", "id"),
        Index("ix_cadre_exceptions_household", "household_id", "approved_on"),
    )
    county_code: str = Field(sa_column=Column(String(6), nullable=False))
    id: str = Field(sa_column=Column(String(40), nullable=False))
    household_id: str = Field(sa_column=Column(String(64), nullable=False))
    approved_by: str = Field(sa_column=Column(String(200), nullable=False))
    approved_on: date = Field(sa_column=Column(Date, nullable=False))
    doc_no: str = Field(sa_column=Column(String(200), nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False, server_default=""))
    recorded_by: str = Field(sa_column=Column(String(64), nullable=False))
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    recorded_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    # issue #20: the transaction that recorded it (kernel/marks.py); null on the rows recorded before
    xid: int | None = Field(default=None, sa_column=recorded_xid_column())


class ImportProgressRow(SQLModel, table=True):
    """How far an import under way has read its body (GET /registry/imports/{key}/progress), keyed by the importing
    principal and the import's Idempotency-Key. Written outside the import's transaction, every so many lines
    (services/registry/progress.py), so any worker answers it while the import runs. A gauge, not a record: UNLOGGED
    (not in the WAL; a crash empties it, which only forgets how far some imports had gone), and rows a day old are
    deleted by the next import that starts."""

    __tablename__ = "import_progress"
    __table_args__ = (Index("ix_import_progress_updated_at", "updated_at"), {"prefixes": ["UNLOGGED"]})
    principal_id: str = Field(sa_column=Column(String(64), primary_key=True))
    idempotency_key: str = Field(sa_column=Column(String(255), primary_key=True))
    lines: int = Field(sa_column=Column(BigInteger, nullable=False))  # physical lines read, the header included
    bytes_read: int = Field(sa_column=Column(BigInteger, nullable=False))
    total_bytes: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # the upload's length
    done: bool = Field(sa_column=Column(Boolean, nullable=False))  # the whole body was read
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


after_create(table_of(HouseholdRow), DIRECTORY_FUNCTION, *DIRECTORY_TRIGGERS)
append_only(table_of(HouseholdImport))
append_only(table_of(HouseholdStatus))
append_only(table_of(CadreException))

metadata = schema_metadata(
    *KERNEL_TABLES,
    *(table_of(m) for m in (HouseholdImport, HouseholdRow, HouseholdId, HouseholdStatus, CadreException,
                           ImportProgressRow)),
)
after_create(metadata, _HOUSEHOLD_RECORDS)
