"""Request and response shapes of the projects API (API.md "Projects")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, ValidationInfo, field_validator

from services.kernel.evidence import Sha256
from services.kernel.organisations import OrganisationId
from services.kernel.regions import in_county
from services.kernel.types import (
    WORD_PATTERN,
    CountyCode,
    Fen,
    Happened,
    Input,
    RegionCode,
    ShortText,
    Text,
    VillageCode,
)
from services.projects.rules import Category

HouseholdId = Annotated[str, Field(min_length=1, max_length=64, pattern=WORD_PATTERN)]
AssetKind = Literal["income_generating", "public_benefit", "household"]
MAX_BENEFICIARIES = 20_000


def _no_duplicates(values: list[str], what: str) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} 重复 / {what} listed twice: {value}")
        seen.add(value)
    return values


class PerformanceTarget(Input):
    indicator: ShortText
    target: ShortText


class FundSource(Input):
    source: ShortText
    amount_fen: Fen


class _ProjectBody(Input):
    """What a project's registration and a draft's edit (P14) both say of it, with their checks, declared once."""

    name: ShortText
    category: Category
    budget_fen: Fen
    start_on: date
    end_on: date
    beneficiary_household_ids: list[HouseholdId] = Field(default_factory=list, max_length=MAX_BENEFICIARIES)
    benefit_mechanism: Text
    performance_targets: list[PerformanceTarget] = Field(default_factory=list, max_length=100)
    description: str = Field(default="", max_length=4000)
    responsible_unit: ShortText | None = None
    fund_sources: list[FundSource] = Field(default_factory=list, max_length=50)

    @field_validator("end_on")
    @classmethod
    def _end_after_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_on")
        if start is not None and value < start:
            raise ValueError("结束日期早于开始日期 / end_on is before start_on")
        return value

    @field_validator("beneficiary_household_ids")
    @classmethod
    def _distinct_households(cls, value: list[str]) -> list[str]:
        return _no_duplicates(value, "household")


class ProjectCreate(_ProjectBody):
    county_code: CountyCode
    village_code: VillageCode
    # O13: the organisation that is the project's owner unit and answers for it (its region covers the county);
    # none: the recording principal's organisation answers
    owner_org: OrganisationId | None = None

    @field_validator("village_code")
    @classmethod
    def _village_in_county(cls, value: str, info: ValidationInfo) -> str:
        county = info.data.get("county_code")
        if county is not None and not in_county(value, county):
            raise ValueError(f"村代码应以县代码 {county} 开头 / the village code must start with its county {county}")
        return value


class ProjectEdit(_ProjectBody):
    """P14: a draft's editable fields, whole (POST /projects/{id}/revisions), with the types and checks of
    ProjectCreate. Not the county (a project stays in its county), nor the owner unit (O13: who answers for it is
    settled when it is recorded)."""

    village_code: VillageCode

    def stored(self) -> dict[str, Any]:
        """The values as the project row keeps them (JSONB lists of plain dicts; no responsible unit is "")."""
        values = self.model_dump(exclude={"performance_targets", "fund_sources", "responsible_unit"})
        values["performance_targets"] = [t.model_dump() for t in self.performance_targets]
        values["fund_sources"] = [s.model_dump() for s in self.fund_sources]
        values["responsible_unit"] = self.responsible_unit or ""
        return values


EDITABLE_FIELDS = tuple(ProjectEdit.model_fields)


class RevisionRead(BaseModel):
    """P14: the version of a draft before one edit: its editable fields as they were, who edited it and when."""

    revision: int
    previous: dict[str, Any]
    principal_id: str
    at: datetime


class ReviewIn(Input):
    passed: StrictBool
    opinion: Text


class AnnouncementEvidence(Input):
    """P13: who posted a back-dated announcement on the board, and the SHA-256 of the photo of the posted notice."""

    posted_by: ShortText
    photo_sha256: Sha256


class AnnounceIn(Input):
    start_on: date
    days: StrictInt = Field(le=366)
    scope: Literal["village", "township", "county"]
    evidence: AnnouncementEvidence | None = None  # P13: required when recorded more than 3 days after start_on


class ReasonIn(Input):
    reason: Text


class ReportIn(Input):
    report: Text


class NoteIn(Input):
    note: str = Field(default="", max_length=2000)


class ObjectionIn(Input):
    text: Text


class ResolveIn(Input):
    resolution: Text


class ShareIn(Input):
    household_id: HouseholdId
    shares: StrictInt = Field(gt=0, le=10**9)


class AssetCreate(Input):
    kind: AssetKind
    value_fen: Fen
    description: Text
    shares: list[ShareIn] = Field(default_factory=list, max_length=MAX_BENEFICIARIES)

    @field_validator("shares")
    @classmethod
    def _distinct_shareholders(cls, value: list[ShareIn]) -> list[ShareIn]:
        _no_duplicates([s.household_id for s in value], "household")
        return value


class DividendCreate(Input):
    amount_fen: Fen
    paid_on: Happened


class EventRead(BaseModel):
    action: str
    from_status: str | None
    to_status: str
    principal_id: str
    role: str
    note: str
    at: datetime


class EvidenceRead(BaseModel):
    posted_by: str
    photo_sha256: str


class AnnouncementRead(BaseModel):
    start_on: date
    days: int
    ends_on: date
    scope: str
    recorded_on: date | None = None  # P13: the day (in China) it was recorded; the stated start is `start_on`
    evidence: EvidenceRead | None = None  # P13: the evidence of a back-dated announcement


class ObjectionRead(BaseModel):
    id: str
    project_id: str
    text: str
    channel: str
    raised_at: datetime
    status: Literal["open", "resolved"]
    resolution: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    blocks_approval: bool = True  # S8: the public's objections beyond the first codes.PUBLIC_BLOCKING do not


class ProjectRead(BaseModel):
    id: str
    county_code: str
    village_code: str
    name: str
    description: str
    category: str
    budget_fen: int
    start_on: date
    end_on: date
    beneficiary_household_ids: list[str]
    benefit_mechanism: str
    performance_targets: list[dict[str, str]]
    fund_sources: list[dict[str, Any]]
    responsible_unit: str
    status: str
    allowed_actions: list[str]
    created_by: str
    created_at: datetime
    # issue #16 (O13): the recording principal's organisation and the owner unit answering for the project (null:
    # recorded before organisations were)
    recorded_by_org: str | None = None
    responsible_org: str | None = None
    announcement: AnnouncementRead | None = None
    history: list[EventRead] = Field(default_factory=list)
    objections: list[ObjectionRead] = Field(default_factory=list)


class ProjectInternal(BaseModel):
    """What funds needs of a project (brief: GET /internal/projects/{id}), nothing more."""

    id: str
    county_code: str
    village_code: str
    name: str
    category: str
    status: str
    budget_fen: int
    # F5/P4: the projects service owns the categories; funds asks rather than keeping its own copy of the list.
    negative_list: bool


LOOKUP_LIMIT = 1000  # projects asked in one internal call (a report asks a page of ids at a time)


class ProjectLookup(Input):
    """Funds' batch question (F15-F18): these projects, as far as they lie in `region_code` (its jurisdiction's
    prefix: a county, a city, a province, or 000000 for the country)."""

    region_code: RegionCode
    project_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(max_length=LOOKUP_LIMIT)


class ProjectLookupResult(BaseModel):
    """The projects found, in the order asked (each once); `missing`: the ids unknown or of another region, told
    apart no more than GET /internal/projects/{id} tells another county's project from none (A5)."""

    items: list[ProjectInternal]
    missing: list[str]


class ShareRead(BaseModel):
    household_id: str
    shares: int


class PayoutRead(BaseModel):
    household_id: str
    shares: int
    amount_fen: int


class DividendRead(BaseModel):
    id: str
    asset_id: str
    project_id: str
    amount_fen: int
    paid_on: date
    payouts: list[PayoutRead]


class AssetRead(BaseModel):
    id: str
    project_id: str
    kind: str
    value_fen: int
    description: str
    total_shares: int
    shares: list[ShareRead]
    dividends: list[DividendRead] = Field(default_factory=list)


class PublicPeriod(BaseModel):
    start_on: date  # as stated: the day it was posted
    days: int
    ends_on: date
    current: bool
    scope: str
    recorded_on: date | None = None  # P13: the day (in China) it was recorded in the system


class PublicStep(BaseModel):
    """One step of an announced project's life as the public sees it: no one's name, no note (U2)."""

    action: str
    status: str
    at: datetime


class PublicProject(BaseModel):
    """U2: an announced project as the public sees it: its money (budget; arranged and paid, from funds), its
    status, its beneficiaries as a count, its announcement and its history since."""

    project_id: str
    name: str
    county_code: str
    village_code: str
    category: str
    budget_fen: int
    arranged_fen: int
    paid_fen: int
    status: str
    beneficiary_households: int
    responsible_unit: str | None
    announcement: PublicPeriod
    objections_open: int
    history: list[PublicStep]


class PublicObjectionRead(BaseModel):
    id: str
    project_id: str
    text: str
    raised_at: datetime
    status: Literal["open", "resolved"]


class PublicAnnouncement(BaseModel):
    """What a 公示 must show — beneficiaries only as a count, never names, identity numbers or household ids."""

    project_id: str
    name: str
    county_code: str
    village_code: str
    content: str
    category: str
    budget_fen: int
    fund_sources: list[dict[str, Any]]
    project_start_on: date
    project_end_on: date
    announcement: PublicPeriod
    responsible_unit: str | None  # the owner unit recorded on the project; None when none was (never a key's name)
    beneficiary_households: int
    benefit_mechanism: str
    performance_targets: list[dict[str, str]]
    status: str
    objections_open: int
    how_to_object: str


# Close-out (issue #17 point 3): results at acceptance (P10), handover (P11) and the asset register


class TargetResultIn(Input):
    indicator: ShortText  # the performance target's indicator, as the project declared it (P7)
    actual: ShortText  # the value the acceptance found
    met: StrictBool


class AcceptIn(Input):
    report: Text
    results: list[TargetResultIn] = Field(max_length=100)

    @field_validator("results")
    @classmethod
    def _distinct_indicators(cls, value: list[TargetResultIn]) -> list[TargetResultIn]:
        _no_duplicates([r.indicator for r in value], "indicator")
        return value


class TargetResultRead(BaseModel):
    indicator: str
    target: str
    actual: str
    met: bool


OwnerKind = Literal["village_collective", "households"]


class HandoverIn(Input):
    owner_kind: OwnerKind
    owner_name: ShortText  # the collective (e.g. 某村股份经济合作社) or the households as the deed names them
    manager: ShortText  # 管护主体: who maintains the asset
    value_fen: Fen
    handed_over_on: Happened


class HandoverRead(BaseModel):
    asset_id: str
    project_id: str
    county_code: str
    owner_kind: str
    owner_name: str
    manager: str
    value_fen: int
    handed_over_on: date
    paid_fen: int  # what funds had paid to the project when the asset was handed over
    handed_over_fen: int  # the project's assets handed over then, this one included
    tolerance_fen: int


class AssetRegisterItem(BaseModel):
    """One asset of the register (资产登记造册, seeds 000, 004): what it is, where, and to whom it was handed over."""

    id: str
    project_id: str
    project_name: str
    county_code: str
    village_code: str
    kind: str
    value_fen: int
    description: str
    total_shares: int
    shareholder_households: int
    handover: HandoverRead | None = None


class ProjectRef(Input):
    project_id: str = Field(min_length=1, max_length=64)


class VillagesRequest(Input):
    items: list[ProjectRef] = Field(max_length=1000)


class ProjectVillage(BaseModel):
    project_id: str
    village_code: str | None  # None: no such project


class VillagesResult(BaseModel):
    items: list[ProjectVillage]
