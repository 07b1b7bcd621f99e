"""Request and response shapes of the registry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.kernel.types import Day, Happened, Input, ShortText, Text

Status = Literal["poor", "exited", "returned", "not_poor"]
HouseholdId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z._-]+$")]


class RejectedLine(BaseModel):
    line: int
    code: str
    detail: str


class ImportResult(BaseModel):
    import_id: str
    effective_on: date
    imported: int
    updated: int
    unchanged: int
    rejected: list[RejectedLine]
    rejected_count: int
    # issue #16 (O13): the importing principal's organisation, which answers for the import
    recorded_by_org: str | None = None
    responsible_org: str | None = None


class ImportProgress(BaseModel):
    """How far the caller's import under `key` (its Idempotency-Key) has read its body: `lines` and `bytes_read` so
    far, `total_bytes` when the upload declared its length, `percent` of it (100 once `done`: the whole body read;
    null while the length is unknown). Written every so many lines, not at each."""

    key: str
    lines: int
    bytes_read: int
    total_bytes: int | None
    percent: int | None
    done: bool
    started_at: datetime
    updated_at: datetime


class StatusChange(BaseModel):
    status: Status
    village_cadre: bool
    effective_on: date


class HouseholdRead(BaseModel):
    """A household as the public API shows it: `head_id_number` and `card_account` masked for every role but admin
    (A5, S7)."""

    household_id: str
    head_id_number: str
    head_name: str
    county_code: str
    village_code: str
    status: Status
    members: int
    village_cadre: bool
    card_account: str
    registered_on: date
    updated_on: date


class CadreExceptionCreate(Input):
    """R1: the county's approval of an exception for a village cadre's household: who approved it (a name and post,
    or the body: 县脱贫攻坚领导小组), the day, the document, and why."""

    approved_by: ShortText
    approved_on: Happened
    doc_no: ShortText
    reason: Text | None = None


class CadreExceptionRead(BaseModel):
    id: str
    household_id: str
    county_code: str
    approved_by: str
    approved_on: date
    doc_no: str
    reason: str
    recorded_by: str
    recorded_by_org: str | None
    recorded_at: datetime | None


class HouseholdDetail(HouseholdRead):
    status_history: list[StatusChange]
    cadre_exceptions: list[CadreExceptionRead] = []  # R1: the county's approved exceptions, if any


class HouseholdInternal(BaseModel):
    """The internal contract (helper brief): the full identity number, for the services' own checks."""

    household_id: str
    head_id_number: str
    head_name: str
    county_code: str
    village_code: str
    status: Status
    members: int
    village_cadre: bool
    card_account: str


class LookupRequest(Input):
    household_ids: list[HouseholdId] = Field(max_length=1000)


class LookupResult(BaseModel):
    items: list[HouseholdInternal]
    missing: list[str]


class StatusAt(BaseModel):
    household_id: str
    status: Status
    village_cadre: bool


class EligibilityQuery(Input):
    """One household, on one date (None: the current roster)."""

    household_id: HouseholdId
    on: Day | None = None


class EligibilityRequest(Input):
    items: list[EligibilityQuery] = Field(max_length=1000)


class Eligibility(BaseModel):
    """Whether the household may receive poverty support on `on` (L1, P3, F10), and every reason why not
    (`not_registered`, `not_poor`, `village_cadre`); `status` and `village_cadre` as they stood then (None when not
    registered)."""

    household_id: str
    on: date | None
    eligible: bool
    reasons: list[str]
    status: Status | None
    village_cadre: bool | None
    cadre_excepted: bool = False  # R1: a village cadre's household let through by the county's exception in force


class EligibilityResult(BaseModel):
    items: list[Eligibility]


class IneligibleRequest(Input):
    """The households ineligible on `on`, a page by household id after `after` ('' from the start)."""

    on: Day
    after: str = Field(default="", max_length=64)
    limit: int = Field(default=20_000, ge=1, le=50_000)


class IneligibleResult(BaseModel):
    items: list[Eligibility]
    next_after: str | None


class ChangedRequest(Input):
    """The households whose standing on some day may have changed since the transaction `since` (a registry xid8,
    as `read_from` answered; F10's incremental run), a page by household id after `after` ('' from the start)."""

    since: int = Field(ge=0, le=2**63 - 1)  # a PostgreSQL xid8 (bigint here): larger is refused, 422
    after: str = Field(default="", max_length=64)
    limit: int = Field(default=10_000, ge=1, le=50_000)


class ChangedResult(BaseModel):
    items: list[str]  # household ids, in order
    next_after: str | None
    # the oldest registry transaction this page's read could not see (kernel/marks.reading_from): what the caller
    # asks `since` next time
    read_from: int
