"""The shapes of alerts on the wire: what the internal alerts API (alerts_api.py) reads and answers, and the
gateway merges into GET /alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.kernel.types import Happened, Input

AlertStatus = Literal["open", "acknowledged", "resolved"]


class AlertNote(BaseModel):
    action: str
    note: str
    principal_id: str
    at: datetime


class Subject(BaseModel):
    kind: str
    id: str
    # issue #16: the organisation that answers for the subject (rule O13); null for alerts raised before
    responsible_org: str | None = None


class AlertRead(BaseModel):
    id: str
    type: str
    severity: str
    region_code: str
    subject: Subject
    raised_at: datetime
    status: str
    facts: dict[str, Any]
    notes: list[AlertNote]


class AlertSummary(BaseModel):
    """How many alerts a filter selects, by type, by status and by severity (the console's counts, issue #19)."""

    total: int = 0
    by_type: dict[str, int] = Field(default_factory=dict)
    by_status: dict[str, int] = Field(default_factory=dict)
    by_severity: dict[str, int] = Field(default_factory=dict)


class AlertNoteIn(Input):
    note: str = Field(default="", max_length=4000)


class ScanIn(Input):
    as_of: Happened  # S2: not after today in China (a scan as of 2099 ages every overdue loan by decades)


class ScanOut(BaseModel):
    raised: dict[str, int]
    updated: dict[str, int] = Field(default_factory=dict)
    seconds: dict[str, float] = Field(default_factory=dict)  # each detector's time, and raise_alerts's
