"""Tables of the registry (migrations/registry/versions/ create them) and the view the reads use."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Identity, Integer, SmallInteger, String, func
from sqlmodel import Field, SQLModel


class HouseholdImport(SQLModel, table=True):
    """One CSV import: who sent it, the date its statuses took effect, and what it did. `number` (0005) is what a
    household record refers to; taken from household_import_numbers when the import starts."""

    __tablename__ = "household_imports"
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    number: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
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


class Household(SQLModel, table=True):
    """The current record of a registered household (建档立卡户), as the view `household_records` shows it: the table
    `households` with the dates and ids of the imports that registered it and last changed it (0005). Re-imports
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
    The primary key (household_id, effective_on, id) is the one index, the order every read needs (0003)."""

    __tablename__ = "household_status_history"
    household_id: str = Field(sa_column=Column(String(64), primary_key=True))
    effective_on: date = Field(sa_column=Column(Date, primary_key=True))
    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    village_cadre: bool = Field(sa_column=Column(Boolean, nullable=False))
    import_id: str = Field(sa_column=Column(String(40), nullable=False))
    recorded_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
