"""The oversight service's detector (issue #16 point 4): CASE_OVERDUE, a case past its deadline without accepted
rectification, subject the case, naming the responsible organisation."""

from __future__ import annotations

from services.kernel.alerts import AlertDraft, DetectorContext, DetectorRegistry
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
            facts={"deadline": row.deadline.isoformat(), "state": row.state,
                   "responsible_organisation_id": row.responsible, "title": row.title},
        ))
    return drafts
