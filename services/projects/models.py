"""Tables of the projects schema. Only `projects.status` is ever updated (with an event row in the same
transaction), and a draft's own fields while it is a draft, each edit keeping the version before it in
`project_revisions` (P14); every other table is append-only: transitions, announcements, objections and their
resolutions, revisions, assets, shares and dividends are facts recorded once (the database refuses to edit them:
`append_only`). `metadata` is the projects schema.

Distributed by county (deploy/SCALING.md, issue #15): what is recorded of a project carries its project's county
code, first in its key, and refers to its project (or its objection, asset, dividend) through both columns
(`_county_key`), so that on Citus a project and all of it are on one shard and the database refuses a row whose
county is not its project's. What keeps an id unique across counties is how it is made (services/kernel/ids.py
`new_id`: the millisecond and 80 random bits from the operating system), not an index: a distributed table can only
keep a unique index that holds its distribution column."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from services.kernel.models import KERNEL_TABLES
from services.kernel.schema import append_only, organisation_column, schema_metadata, table_of
from services.projects.rules import CATEGORIES, STATUSES


def table(model: type[SQLModel]) -> Table:
    """The SQLAlchemy table of a model, typed (for Core queries)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _county_key(name: str, column: str, parent: str) -> ForeignKeyConstraint:
    """The foreign key `(county_code, <column>) → <parent> (county_code, id)`: through the county code on both
    sides, so a row naming another county than its parent's is refused."""
    return ForeignKeyConstraint(["county_code", column], [f"{parent}.county_code", f"{parent}.id"], name=name)


def _county_column() -> Any:
    """The county code of the project a row is of, first in the row's key (added by a revision: last)."""
    return Column(String(6), nullable=False)


def _now_column() -> Any:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Project(SQLModel, table=True):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("budget_fen > 0", name="ck_projects_budget_positive"),
        CheckConstraint("end_on >= start_on", name="ck_projects_period"),
        CheckConstraint("village_code LIKE county_code || '%'", name="ck_projects_village_in_county"),
        CheckConstraint(_one_of("category", CATEGORIES), name="ck_projects_category"),
        CheckConstraint(_one_of("status", STATUSES), name="ck_projects_status"),
        # keyed by county (projects_0011). The id stays unique by how it is made (kernel/ids.new_id), not by an
        # index (module docstring); a lookup by id alone (a route names a project by its id) uses the plain
        # ix_projects_id
        PrimaryKeyConstraint("county_code", "id"),
        Index("ix_projects_id", "id"),
        Index("ix_projects_village_category", "village_code", "category"),
    )
    id: str = Field(sa_column=Column(String(40), nullable=False))
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
    # issue #16 (O13): who recorded it and the owner unit answering for it; null on projects recorded before
    # (last: added by a revision, which puts a column after the others)
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    responsible_org: str | None = Field(default=None, sa_column=organisation_column())


class ProjectEvent(SQLModel, table=True):
    """One lifecycle transition: who, when, from, to, and the note (opinion, reason, report)."""

    __tablename__ = "project_events"
    __table_args__ = (
        PrimaryKeyConstraint("county_code", "id"),
        _county_key("fk_project_events_project", "project_id", "projects"),
        Index("ix_project_events_project", "project_id", "id"),
    )
    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False))
    project_id: str = Field(sa_column=Column(String(40), nullable=False))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    from_status: str | None = Field(sa_column=Column(String(16), nullable=True))
    to_status: str = Field(sa_column=Column(String(16), nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    role: str = Field(sa_column=Column(String(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False, server_default=""))
    at: datetime | None = Field(default=None, sa_column=_now_column())
    county_code: str = Field(sa_column=_county_column())


class Announcement(SQLModel, table=True):
    """P1: the public announcement (公示) of a project, recorded when it is announced."""

    __tablename__ = "announcements"
    __table_args__ = (
        CheckConstraint("days >= 10", name="ck_announcements_p1_days"),
        PrimaryKeyConstraint("county_code", "project_id"),  # one per project
        _county_key("fk_announcements_project", "project_id", "projects"),
        # `seq` orders the public page of announcements (newest first) across counties: it is drawn from one
        # sequence, so distinct by construction; the database keeps it unique per county (all a distributed table
        # can keep), and ix_announcements_seq serves the page's order
        UniqueConstraint("county_code", "seq", name="uq_announcements_seq"),
        Index("ix_announcements_seq", "seq"),
    )
    project_id: str = Field(sa_column=Column(String(40), nullable=False))
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False))
    start_on: date = Field(sa_column=Column(Date, nullable=False))
    days: int = Field(sa_column=Column(Integer, nullable=False))
    scope: str = Field(sa_column=Column(String(16), nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    at: datetime | None = Field(default=None, sa_column=_now_column())
    # P13 (issue #17): the evidence of an announcement recorded more than 3 days after its start; null otherwise
    # (last: added by a revision, which puts a column after the others)
    evidence_posted_by: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    evidence_photo_sha256: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    county_code: str = Field(sa_column=_county_column())


class Objection(SQLModel, table=True):
    """P1: an objection (异议) to an announced project, from a key holder or from the public page."""

    __tablename__ = "objections"
    __table_args__ = (
        CheckConstraint("channel IN ('public', 'principal')", name="ck_objections_channel"),
        PrimaryKeyConstraint("county_code", "id"),
        _county_key("fk_objections_project", "project_id", "projects"),
        Index("ix_objections_project", "project_id", "raised_at"),
    )
    id: str = Field(sa_column=Column(String(40), nullable=False))
    project_id: str = Field(sa_column=Column(String(40), nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    channel: str = Field(sa_column=Column(String(16), nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    role: str = Field(sa_column=Column(String(32), nullable=False))
    raised_at: datetime | None = Field(default=None, sa_column=_now_column())
    county_code: str = Field(sa_column=_county_column())


class ObjectionResolution(SQLModel, table=True):
    __tablename__ = "objection_resolutions"
    __table_args__ = (
        CheckConstraint("length(btrim(resolution)) > 0", name="ck_objection_resolutions_text"),
        PrimaryKeyConstraint("county_code", "objection_id"),  # one per objection
        _county_key("fk_objection_resolutions_objection", "objection_id", "objections"),
    )
    objection_id: str = Field(sa_column=Column(String(40), nullable=False))
    resolution: str = Field(sa_column=Column(Text, nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    at: datetime | None = Field(default=None, sa_column=_now_column())
    county_code: str = Field(sa_column=_county_column())


class Asset(SQLModel, table=True):
    """P6: an asset a project built (资产), recorded after acceptance."""

    __tablename__ = "assets"
    __table_args__ = (
        CheckConstraint("kind IN ('income_generating', 'public_benefit', 'household')", name="ck_assets_kind"),
        CheckConstraint("value_fen > 0", name="ck_assets_value"),
        PrimaryKeyConstraint("county_code", "id"),
        _county_key("fk_assets_project", "project_id", "projects"),
        Index("ix_assets_project", "project_id", "id"),
    )
    id: str = Field(sa_column=Column(String(40), nullable=False))
    project_id: str = Field(sa_column=Column(String(40), nullable=False))
    kind: str = Field(sa_column=Column(String(24), nullable=False))
    value_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())
    county_code: str = Field(sa_column=_county_column())


class AssetShare(SQLModel, table=True):
    """P6: shares of an income-generating asset quantified to a beneficiary household (股权量化)."""

    __tablename__ = "asset_shares"
    __table_args__ = (
        CheckConstraint("shares > 0", name="ck_asset_shares_positive"),
        PrimaryKeyConstraint("county_code", "asset_id", "household_id"),
        _county_key("fk_asset_shares_asset", "asset_id", "assets"),
    )
    asset_id: str = Field(sa_column=Column(String(40), nullable=False))
    household_id: str = Field(sa_column=Column(String(64), nullable=False))
    shares: int = Field(sa_column=Column(BigInteger, nullable=False))
    county_code: str = Field(sa_column=_county_column())


class Dividend(SQLModel, table=True):
    __tablename__ = "dividends"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="ck_dividends_amount"),
        PrimaryKeyConstraint("county_code", "id"),
        _county_key("fk_dividends_asset", "asset_id", "assets"),
        Index("ix_dividends_asset", "asset_id", "id"),
    )
    id: str = Field(sa_column=Column(String(40), nullable=False))
    asset_id: str = Field(sa_column=Column(String(40), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    paid_on: date = Field(sa_column=Column(Date, nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())
    county_code: str = Field(sa_column=_county_column())


class DividendPayout(SQLModel, table=True):
    __tablename__ = "dividend_payouts"
    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="ck_dividend_payouts_amount"),
        PrimaryKeyConstraint("county_code", "dividend_id", "household_id"),
        _county_key("fk_dividend_payouts_dividend", "dividend_id", "dividends"),
    )
    dividend_id: str = Field(sa_column=Column(String(40), nullable=False))
    household_id: str = Field(sa_column=Column(String(64), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    county_code: str = Field(sa_column=_county_column())


TENDER_METHODS = ("public_tender", "invited_tender", "competitive_negotiation", "direct_award")


class Contract(SQLModel, table=True):
    """P8: a contract a project signed (招投标 "五到县", seed 003): the contractor's credit code, the amount and how it
    was awarded; a direct award (直接委托) carries its reason. Keyed by county (it grows with the province); the
    project is named by id, checked in code (no key across counties)."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="ck_contracts_amount"),
        CheckConstraint(_one_of("tender_method", TENDER_METHODS), name="ck_contracts_tender_method"),
        CheckConstraint("tender_method <> 'direct_award' OR length(btrim(coalesce(direct_award_reason, ''))) > 0",
                        name="ck_contracts_direct_award_reason"),
        Index("ix_contracts_project", "county_code", "project_id", "id"),
    )
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    project_id: str = Field(sa_column=Column(String(40), nullable=False))
    contract_no: str = Field(sa_column=Column(String(200), nullable=False))
    contractor_uscc: str = Field(sa_column=Column(String(18), nullable=False))
    contractor_name: str = Field(sa_column=Column(String(200), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    tender_method: str = Field(sa_column=Column(String(32), nullable=False))
    direct_award_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    signed_on: date = Field(sa_column=Column(Date, nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())


class TenderThreshold(SQLModel, table=True):
    """P9: the county's tender threshold (招标限额), the amount above which a contract is tendered; versions are new
    rows (the one in force on a day is the latest effective by then), none means the documented default."""

    __tablename__ = "tender_thresholds"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="ck_tender_thresholds_amount"),
        Index("ix_tender_thresholds_in_force", "county_code", "effective_on", "id"),
    )
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    effective_on: date = Field(sa_column=Column(Date, nullable=False))
    doc_no: str = Field(sa_column=Column(String(200), nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now_column())
class AcceptanceResult(SQLModel, table=True):
    """P10: the actual value of one performance target (P7) as the acceptance (验收) found it; met or not."""

    __tablename__ = "acceptance_results"
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    project_id: str = Field(sa_column=Column(String(40), primary_key=True))
    position: int = Field(sa_column=Column(Integer, primary_key=True))
    indicator: str = Field(sa_column=Column(String(200), nullable=False))
    target: str = Field(sa_column=Column(String(200), nullable=False))
    actual: str = Field(sa_column=Column(String(200), nullable=False))
    met: bool = Field(sa_column=Column(Boolean, nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    recorded_at: datetime | None = Field(default=None, sa_column=_now_column())


class AssetHandover(SQLModel, table=True):
    """P11: an asset handed over (资产移交/确权): its owner, its manager (管护主体) and its value, with what funds had
    paid to the project then and the value of the project's assets handed over so far (the reconciliation)."""

    __tablename__ = "asset_handovers"
    __table_args__ = (
        CheckConstraint("owner_kind IN ('village_collective', 'households')", name="ck_asset_handovers_owner_kind"),
        CheckConstraint("value_fen > 0", name="ck_asset_handovers_value"),
        CheckConstraint("paid_fen >= 0", name="ck_asset_handovers_paid"),
        Index("ix_asset_handovers_project", "county_code", "project_id"),
    )
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    asset_id: str = Field(sa_column=Column(String(40), primary_key=True))
    project_id: str = Field(sa_column=Column(String(40), nullable=False))
    owner_kind: str = Field(sa_column=Column(String(24), nullable=False))
    owner_name: str = Field(sa_column=Column(String(200), nullable=False))
    manager: str = Field(sa_column=Column(String(200), nullable=False))
    value_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    paid_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    handed_over_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    handed_over_on: date = Field(sa_column=Column(Date, nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    at: datetime | None = Field(default=None, sa_column=_now_column())


class ProjectRevision(SQLModel, table=True):
    """P14: the version of a draft before one edit (its editable fields as they were, JSONB), numbered 1, 2, … per
    project; written in the transaction of the edit. Keyed by county first (tests/platform/test_scaling.py): a
    project lies in one county, so (project_id, revision) is unique. The project is named by id (no foreign key)."""

    __tablename__ = "project_revisions"
    __table_args__ = (CheckConstraint("revision > 0", name="ck_project_revisions_revision"),)
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    project_id: str = Field(sa_column=Column(String(40), primary_key=True))
    revision: int = Field(sa_column=Column(Integer, primary_key=True))
    previous: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    principal_id: str = Field(sa_column=Column(String(64), nullable=False))
    at: datetime | None = Field(default=None, sa_column=_now_column())


_RECORDED = (
    ProjectEvent,
    Announcement,
    Objection,
    ObjectionResolution,
    Asset,
    AssetShare,
    Dividend,
    DividendPayout,
    Contract,
    TenderThreshold,
    AcceptanceResult,
    AssetHandover,
    ProjectRevision,
)
for _recorded in _RECORDED:
    append_only(table_of(_recorded))

metadata = schema_metadata(*KERNEL_TABLES, table_of(Project), *(table_of(model) for model in _RECORDED))
