"""Detectors of the projects service: DUPLICATE_PROJECT (P5, 造盆景 / 垒大户 / near-duplicate projects) and
CONTRACT_SPLITTING (P9, 拆分规避招标) and
TARGETS_UNMET (P10, a project accepted with performance targets not met)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import Any

from services.kernel import clock
from services.kernel.alerts import AlertDraft, DetectorContext, DetectorRegistry
from services.projects import codes, contract_rules, repository, rules
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


def split_contracts(rows: list[Any], threshold: contract_rules.Threshold) -> AlertDraft | None:
    """P9: the alert for one project's direct awards to one contractor that together exceed the county's tender
    threshold (拆分规避招标), or None."""
    awards = [contract_rules.DirectAward(r.id, int(r.amount_fen), r.signed_on) for r in rows]
    if not contract_rules.is_split(awards, threshold.amount_fen):
        return None
    first = rows[0]
    facts: dict[str, Any] = {
        "rule": codes.P9,
        "project_id": first.project_id,
        "contractor_uscc": first.contractor_uscc,
        "contractor_name": first.contractor_name,
        "contracts": [{"id": a.id, "amount_fen": a.amount_fen, "signed_on": a.signed_on.isoformat()} for a in awards],
        "total_fen": sum(a.amount_fen for a in awards),
        "threshold_fen": threshold.amount_fen,
        "threshold_default": threshold.id is None,
        "threshold_doc_no": threshold.doc_no,
    }
    return AlertDraft(
        type=codes.CONTRACT_SPLITTING, severity="high", region_code=first.county_code,
        subject_kind="project_contractor", subject_id=f"{first.project_id}:{first.contractor_uscc}", facts=facts,
        responsible_org=first.responsible_org,  # O13: the project's owner unit
    )


@registry.register(codes.CONTRACT_SPLITTING)
async def detect_contract_splitting(ctx: DetectorContext) -> list[AlertDraft]:
    groups: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for row in await repository.direct_awards(ctx.session, prefix=ctx.region_prefix, as_of=ctx.as_of):
        groups[(row.county_code, row.project_id, row.contractor_uscc)].append(row)
    counties = sorted({county for county, _, _ in groups})
    published: dict[str, list[contract_rules.Threshold]] = defaultdict(list)
    for t in await repository.thresholds_of(ctx.session, counties):
        published[t.county_code].append(contract_rules.Threshold(t.amount_fen, t.effective_on, t.id, t.doc_no))
    # each group judged by the threshold in force when its latest award was signed: one published afterwards
    # neither excuses nor condemns awards made before it
    drafts = [split_contracts(rows, contract_rules.threshold_in_force(published[key[0]],
                                                                      max(r.signed_on for r in rows)))
              for key, rows in groups.items()]
    return [d for d in drafts if d is not None]
@registry.register(codes.TARGETS_UNMET)
async def detect_targets_unmet(ctx: DetectorContext) -> list[AlertDraft]:
    """P10: a project accepted with performance targets found not met at acceptance: one alert per project, naming
    each unmet target, its declared target and the actual value (one query of the results recorded by the day)."""
    as_of_end = datetime.combine(ctx.as_of + timedelta(days=1), time.min, tzinfo=UTC)
    by_project: dict[str, list[Any]] = defaultdict(list)
    for row in await repository.unmet_results(ctx.session, known_before=as_of_end, prefix=ctx.region_prefix):
        by_project[row[0].project_id].append(row)
    return [_targets_unmet(project_id, rows) for project_id, rows in by_project.items()]


def _targets_unmet(project_id: str, rows: list[Any]) -> AlertDraft:
    first, village_code, name, responsible_org = rows[0]
    facts: dict[str, Any] = {
        "rule": codes.P10,
        "project_id": project_id,
        "project_name": name,
        "county_code": first.county_code,
        "village_code": village_code,
        "accepted_at": first.recorded_at.isoformat(),
        "unmet": [{"indicator": r[0].indicator, "target": r[0].target, "actual": r[0].actual} for r in rows],
    }
    return AlertDraft(
        type=codes.TARGETS_UNMET, severity="medium", region_code=village_code, subject_kind="project",
        subject_id=project_id, facts=facts, responsible_org=responsible_org,  # O13: the project's owner unit
    )
