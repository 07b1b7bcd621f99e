"""Request and answer bodies of the oversight API (docs/api.md "Oversight")."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.kernel.evidence_policy import DOCUMENT_TYPES
from services.kernel.organisations import OrganisationId
from services.kernel.types import AnyRegionCode, Day, FenOrZero, Happened, Input, RegionCode, ShortText, Text
from services.oversight.rules import Severity

AlertService = Literal["funds", "projects", "loans", "registry", "oversight"]  # oversight: its own (O12)
Measure = Literal["诫勉谈话", "通报批评", "党纪处分", "政务处分", "移送司法", "other"]


ACCEPTED_TYPES = "^(" + "|".join(re.escape(t) for t in DOCUMENT_TYPES) + ")$"


class DocumentRef(Input):
    """A document a move carries, by its content hash, as POST /oversight/evidence answered it (confirmed, E1)."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    name: str = Field(min_length=1, max_length=255)
    media_type: str = Field(pattern=ACCEPTED_TYPES, max_length=100)  # E1: one of the types the store keeps
    size: int = Field(ge=1, le=10 * 1024**3)


Documents = list[DocumentRef]


class AlertRef(Input):
    service: AlertService
    alert_id: str = Field(pattern=r"^alert-[a-z]+_[0-9a-z]{26}$")


COMPLAINT_ID_PATTERN = r"^cmp_[0-9a-z]{26}$"


class CaseOpen(Input):
    region_code: AnyRegionCode
    title: ShortText
    alerts: list[AlertRef] = Field(default_factory=list, max_length=100)
    complaint_ref: str | None = Field(
        default=None, min_length=1, max_length=100,
        description="a complaint's reference: the id of a public complaint (`cmp_…`, O12: it must exist and lie in "
        "the case's region; its PUBLIC_COMPLAINT alert joins the case), or any other reference as text",
    )
    severity: Severity | None = None
    money_involved_fen: FenOrZero = 0


ReversalId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class AssignIn(Input):
    organisation_id: OrganisationId
    deadline: Day | None = None
    note: str = Field(default="", max_length=2000)


class RectificationIn(Input):
    note: Text
    documents: Documents = Field(default_factory=list, max_length=50)
    money_recovered_fen: FenOrZero | None = None
    reversal_ids: list[ReversalId] = Field(
        default_factory=list, max_length=50,
        description="the funds reversals (冲正) that recovered the money, as POST /funds/reversals answered them: "
        "each once, known to funds and of the case's region line (O10)",
    )


class DecisionIn(Input):
    note: Text


class ReferIn(Input):
    organisation_id: OrganisationId
    note: Text
    documents: Documents = Field(default_factory=list, max_length=50)


class AccountabilityIn(Input):
    person_name: str = Field(min_length=1, max_length=100)
    person_post: ShortText
    measure: Measure
    decided_on: Happened
    decision_number: str = Field(min_length=1, max_length=100)
    documents: Documents = Field(default_factory=list, max_length=50)


class CaseAlert(BaseModel):
    service: str
    alert_id: str
    type: str
    severity: str
    region_code: str


class CaseEvent(BaseModel):
    seq: int
    action: str
    state: str
    organisation_id: str
    deadline: date | None
    note: str
    documents: list[dict[str, object]]
    money_recovered_fen: int | None
    reversal_ids: list[str]
    principal_id: str
    principal_organisation_id: str
    at: datetime


class Accountability(BaseModel):
    id: str
    person_name: str
    person_post: str
    measure: str
    decided_on: date
    decision_number: str
    documents: list[dict[str, object]]
    principal_id: str
    at: datetime


class CaseRead(BaseModel):
    id: str
    region_code: str
    title: str
    complaint_ref: str
    severity: str
    money_involved_fen: int
    state: str
    responsible_organisation_id: str | None
    deadline: date | None
    opened_by: str
    opened_at: datetime
    alerts: list[CaseAlert]
    events: list[CaseEvent]
    accountability: list[Accountability]


class ReportFigures(BaseModel):
    """O11: the figures of a set of cases opened in the period, as they stand at its end."""

    opened: int = 0
    closed_on_time: int = 0
    overdue: int = 0
    referred: int = 0
    accountability: dict[str, int] = Field(description="accountability records by measure, every measure named")
    money_involved_fen: int = 0
    money_recovered_fen: int = 0


class OrganisationFigures(ReportFigures):
    organisation_id: str | None = Field(description="the responsible organisation at the period's end; null: none")


class Report(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    region_code: str
    from_: date = Field(alias="from")
    to: date
    as_of: date = Field(description="the day overdue is judged: `to`, or today when `to` is later")
    organisations: list[OrganisationFigures]
    totals: ReportFigures
class ComplaintIn(Input):
    """O12: a complaint (监督举报) from the public, no key needed."""

    region_code: RegionCode = Field(description="the region it is about: its inspectors see it")
    text: Text
    contact: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="how to reach the complainant (optional; personal data: only the region's inspectors see it)",
    )
    subject_ref: str | None = Field(
        default=None, min_length=1, max_length=100,
        description="what it is about, if known, as text: a project id, an allocation's document number "
                    "(湘财农指〔2018〕12号), a county code…",
    )


class ComplaintReceipt(BaseModel):
    """What the public is answered: the complaint's reference, never its contact."""

    id: str
    region_code: str
    subject_ref: str | None
    received_at: datetime


class ComplaintRead(ComplaintReceipt):
    """What an inspector of the region reads (O12): the text and the contact too."""

    text: str
    contact: str | None
