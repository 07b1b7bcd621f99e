"""The oversight service's detectors (issue #16 point 4): CASE_OVERDUE, a case past its deadline without accepted
rectification, subject the case, naming the responsible organisation; REPEATED_MISUSE (O9), an organisation with
cases of the same alert type in two or more of the last four calendar quarters, subject the organisation."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from services.kernel import clock
from services.kernel.alerts import AlertDraft, DetectorContext, DetectorRegistry
from services.kernel.regions import common_region
from services.oversight import codes, repository, rules

registry = DetectorRegistry()


@registry.register("case_overdue")
async def case_overdue(ctx: DetectorContext) -> list[AlertDraft]:
    drafts = []
    for row in await repository.past_deadline(ctx.session, ctx.region_prefix, ctx.as_of):
        if not rules.overdue(row.state, row.deadline, ctx.as_of):
            continue
        drafts.append(AlertDraft(
            type=codes.CASE_OVERDUE,
            severity="high" if row.severity in ("high", "critical") else "medium",
            region_code=row.region_code,
            subject_kind="case",
            subject_id=row.id,
            responsible_org=row.responsible,  # O13: the organisation the case is assigned to answers for it
            facts={"deadline": row.deadline.isoformat(), "state": row.state,
                   "responsible_organisation_id": row.responsible, "title": row.title},
        ))
    return drafts


@registry.register("repeated_misuse")
async def repeated_misuse(ctx: DetectorContext) -> list[AlertDraft]:
    """O9: every organisation's cases opened in the last four quarters up to `as_of` (days in China), counted
    wherever they lie, so that every scan finds the same facts; the alert lies at the smallest region covering the
    cases it names, and a scan raises it only if its jurisdiction covers that region (S2)."""
    since = datetime.combine(rules.repeat_window_start(ctx.as_of), time(), clock.CHINA)
    until = datetime.combine(ctx.as_of + timedelta(days=1), time(), clock.CHINA)
    by_organisation: dict[str, list[tuple[str, str, datetime, list[str]]]] = {}
    for row in await repository.assigned_cases_opened(ctx.session, since, until):
        by_organisation.setdefault(row.responsible, []).append(
            (row.id, row.region_code, row.at, rules.case_types(list(row.alert_types), row.complaint_ref)))
    drafts = []
    for organisation_id, found in sorted(by_organisation.items()):
        regions = {case_id: region for case_id, region, _, _ in found}
        repeated = rules.repeated_types(
            [(case_id, at.astimezone(clock.CHINA).date(), types) for case_id, _, at, types in found], ctx.as_of)
        if not repeated:
            continue
        named = sorted({case_id for seen in repeated.values() for case_id in seen["case_ids"]})
        drafts.append(AlertDraft(
            type=codes.REPEATED_MISUSE,
            severity="high",
            region_code=common_region([regions[c] for c in named]),
            subject_kind="organisation",
            subject_id=organisation_id,
            responsible_org=organisation_id,  # O13: the organisation repeating the misuse
            facts={"organisation_id": organisation_id,
                   "since_quarter": rules.quarter_of(since.date()), "until_quarter": rules.quarter_of(ctx.as_of),
                   "alert_types": [{"alert_type": t, **seen} for t, seen in repeated.items()]},
        ))
    return drafts
