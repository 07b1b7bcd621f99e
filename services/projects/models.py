"""Tables of the projects schema. Only `projects.status` is ever updated (with an event row in the same
transaction); every other table is append-only: transitions, announcements, objections and their resolutions,
assets, shares and dividends are facts recorded once."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Date, DateTime, Identity, Integer, String, Table, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel


def table(model: type[SQLModel]) -> Table:
    """The SQLAlchemy table of a model, typed (for Core queries)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


def _now_column() -> Any:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Project(SQLModel, table=True):
    __tablename__ = "projects"
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    county_code: str = Field(sa_column=Column(String(6), nullable=False))
    village_code: str = Field(sa_column=Column(String(12), nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False, server_default=""))
    category: str = Field(sa_column=Column(String(40), nullable=False))
    budget_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    start_on: date = Field(sa_column=Column(Date, nullable=False))
    end_on: date = Field(sa_column=Column(Date, nullable=False))
    beneficiary_household_ids: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    benefit_mechanism: str = Field(sa_column=Column(Text, nullable=False))
    performance_targets: list[dict[str, str]] = Field(sa_column=Column(JSONB, nullable=False))
    fund_sources: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    responsible_unit: str = Field(sa_column=Column(String(200), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())


class ProjectEvent(SQLModel, table=True):
    """One lifecycle transition: who, when, from, to, and the note (opinion, reason, report)."""

    __tablename__ = "project_events"
    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    project_id: str = Field(sa_column=Column(String(40), nullable=False))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    from_status: str | None = Field(sa_column=Column(String(16), nullable=True))
    to_status: str = Field(sa_column=Column(String(16), nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    role: str = Field(sa_column=Column(String(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False, server_default=""))
    at: datetime | None = Field(default=None, sa_column=_now_column())


class Announcement(SQLModel, table=True):
    """P1: the public announcement (公示) of a project, recorded when it is announced."""

    __tablename__ = "announcements"
    project_id: str = Field(sa_column=Column(String(40), primary_key=True))
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False, unique=True))
    start_on: date = Field(sa_column=Column(Date, nullable=False))
    days: int = Field(sa_column=Column(Integer, nullable=False))
    scope: str = Field(sa_column=Column(String(16), nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    at: datetime | None = Field(default=None, sa_column=_now_column())


class Objection(SQLModel, table=True):
    """P1: an objection (异议) to an announced project, from a key holder or from the public page."""

    __tablename__ = "objections"
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    project_id: str = Field(sa_column=Column(String(40), nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    channel: str = Field(sa_column=Column(String(16), nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    role: str = Field(sa_column=Column(String(32), nullable=False))
    raised_at: datetime | None = Field(default=None, sa_column=_now_column())


class ObjectionResolution(SQLModel, table=True):
    __tablename__ = "objection_resolutions"
    objection_id: str = Field(sa_column=Column(String(40), primary_key=True))
    resolution: str = Field(sa_column=Column(Text, nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    at: datetime | None = Field(default=None, sa_column=_now_column())


class Asset(SQLModel, table=True):
    """P6: an asset a project built (资产), recorded after acceptance."""

    __tablename__ = "assets"
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    project_id: str = Field(sa_column=Column(String(40), nullable=False))
    kind: str = Field(sa_column=Column(String(24), nullable=False))
    value_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())


class AssetShare(SQLModel, table=True):
    """P6: shares of an income-generating asset quantified to a beneficiary household (股权量化)."""

    __tablename__ = "asset_shares"
    asset_id: str = Field(sa_column=Column(String(40), primary_key=True))
    household_id: str = Field(sa_column=Column(String(64), primary_key=True))
    shares: int = Field(sa_column=Column(BigInteger, nullable=False))


class Dividend(SQLModel, table=True):
    __tablename__ = "dividends"
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    asset_id: str = Field(sa_column=Column(String(40), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    paid_on: date = Field(sa_column=Column(Date, nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())


class DividendPayout(SQLModel, table=True):
    __tablename__ = "dividend_payouts"
    dividend_id: str = Field(sa_column=Column(String(40), primary_key=True))
    household_id: str = Field(sa_column=Column(String(64), primary_key=True))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
