"""Detectors of the projects service: DUPLICATE_PROJECT (P5, 造盆景 / 垒大户 / near-duplicate projects)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import Any

from services.kernel import clock
from services.kernel.alerts import AlertDraft, DetectorContext, DetectorRegistry
from services.projects import codes, repository, rules
from services.projects.models import Project

registry = DetectorRegistry()


def duplicate_pair(a: Project, b: Project) -> AlertDraft | None:
    """P5: the alert for two projects of one village and category with overlapping periods and similar names."""
    if (a.village_code, a.category) != (b.village_code, b.category):
        return None
    if not rules.periods_overlap((a.start_on, a.end_on), (b.start_on, b.end_on)):
        return None
    score = rules.name_similarity(a.name, b.name)
    if score < rules.DUPLICATE_NAME_THRESHOLD:
        return None
    first, second = sorted((a, b), key=lambda p: p.id)
    facts: dict[str, Any] = {
        "rule": codes.P5,
        "village_code": first.village_code,
        "category": first.category,
        "projects": [_fact(first), _fact(second)],
        "project_ids": [first.id, second.id],
        "names": [first.name, second.name],
        "normalised_names": [rules.normalise_name(first.name), rules.normalise_name(second.name)],
        "similarity": round(score, 4),
        "threshold": rules.DUPLICATE_NAME_THRESHOLD,
        "method": "difflib.SequenceMatcher ratio of names without spaces, punctuation and suffixes 项目/工程/建设",
        "overlap": [max(first.start_on, second.start_on).isoformat(), min(first.end_on, second.end_on).isoformat()],
    }
    return AlertDraft(
        type=codes.DUPLICATE_PROJECT,
        severity="medium",
        region_code=first.village_code,
        subject_kind="project_pair",
        subject_id=f"{first.id}+{second.id}",
        facts=facts,
        responsible_org=rules.pair_responsible_org(first.responsible_org, second.responsible_org),  # O13
    )


def _fact(p: Project) -> dict[str, Any]:
    return {
        "id": p.id, "name": p.name, "status": p.status, "budget_fen": p.budget_fen,
        "start_on": p.start_on.isoformat(), "end_on": p.end_on.isoformat(),
    }


@registry.register(codes.ANNOUNCEMENT_BACKDATED)
async def detect_backdated_announcements(ctx: DetectorContext) -> list[AlertDraft]:
    """P13: announcements recorded more than 3 days after their stated start, for inspectors to check the posting
    (the evidence the county gave is in the facts)."""
    as_of_end = datetime.combine(ctx.as_of + timedelta(days=1), time.min, tzinfo=clock.CHINA)
    rows = await repository.backdated_announcements(ctx.session, recorded_before=as_of_end, prefix=ctx.region_prefix,
                                                    grace_days=codes.BACKDATE_GRACE_DAYS)
    return [
        AlertDraft(
            type=codes.ANNOUNCEMENT_BACKDATED, severity="medium", region_code=r.county_code, subject_kind="project",
            subject_id=r.project_id,
            facts={"rule": codes.P13, "start_on": r.start_on.isoformat(), "recorded_on": r.recorded_on.isoformat(),
                   "days_late": rules.days_backdated(r.start_on, r.recorded_on), "posted_by": r.evidence_posted_by,
                   "photo_sha256": r.evidence_photo_sha256, "grace_days": codes.BACKDATE_GRACE_DAYS},
            responsible_org=r.responsible_org,  # O13: the project's owner unit
        )
        for r in rows
    ]


@registry.register(codes.DUPLICATE_PROJECT)
async def detect_duplicate_projects(ctx: DetectorContext) -> list[AlertDraft]:
    as_of_end = datetime.combine(ctx.as_of + timedelta(days=1), time.min, tzinfo=UTC)
    groups: dict[tuple[str, str], list[Project]] = defaultdict(list)
    for project in await repository.duplicate_candidates(ctx.session, known_before=as_of_end, prefix=ctx.region_prefix):
        groups[(project.village_code, project.category)].append(project)
    drafts: list[AlertDraft] = []
    for members in groups.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                draft = duplicate_pair(a, b)
                if draft is not None:
                    drafts.append(draft)
    return drafts
