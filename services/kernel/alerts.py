"""Misuse alerts, as a service's detectors see them: a service registers detectors (async functions returning
`AlertDraft`s) in its `DetectorRegistry`; a scan (alerts_scan.py) runs them all as of a date and the store
(alerts_store.py) raises each alert once per (type, subject) while it is not resolved.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

Severity = Literal["low", "medium", "high", "critical"]


@dataclass(frozen=True)
class AlertDraft:
    type: str
    severity: Severity
    region_code: str
    subject_kind: str
    subject_id: str
    facts: dict[str, Any]
    # issue #16: the organisation answering for the subject (rule O13), read from the facts the detector looked at;
    # None where they were recorded before organisations were
    responsible_org: str | None = None


@dataclass
class DetectorContext:
    session: AsyncSession
    as_of: date
    state: Any  # the app's state: clients of other services, settings
    region_prefix: str = ""  # S2: the scan's jurisdiction ('' national); detectors may narrow their queries with it
    # read everything, whatever the scope's mark (kernel/marks): a reference to compare an incremental run with
    full: bool = False

Detector = Callable[[DetectorContext], Awaitable[list[AlertDraft]]]


@dataclass
class DetectorRegistry:
    detectors: dict[str, Detector] = field(default_factory=dict)

    def register(self, name: str) -> Callable[[Detector], Detector]:
        def add(fn: Detector) -> Detector:
            self.detectors[name] = fn
            return fn

        return add
