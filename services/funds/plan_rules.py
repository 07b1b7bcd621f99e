"""The county's integration plan (统筹整合方案) as pure rules (issue #17 point 1, docs/rules.md F15–F16)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.funds import problems


@dataclass(frozen=True)
class PlanInForce:
    """The latest reported version of a county's plan for a year: its planned amount per project."""

    plan_id: str
    version: int
    projects: Mapping[str, int]


def plan_required(*, pilot: bool, declared: bool) -> bool:
    """F15: a county in the integration pilot must have a plan in force for the year (钱等项目 — money waits for
    projects that were planned) where an obligation of kind `county_plan` is declared for it and the year (the
    pilot's start is a province's decision: reference data, not a date in the code). Elsewhere a county without a
    plan arranges as before; a county that has one in force is bound by it whether or not it had to."""
    return pilot and declared


def check_in_plan(
    plan: PlanInForce | None, *, required: bool, county_code: str, year: int, project_id: str,
    arranged_fen: int, amount_fen: int,
) -> None:
    """F15: an arrangement goes to a project of the plan in force for its county and year, and the year's
    arrangements to the project (net of reversals) stay within the project's planned amount."""
    if plan is None:
        if required:
            raise problems.not_in_plan(project_id, county_code, year)
        return
    planned = plan.projects.get(project_id)
    if planned is None:
        raise problems.not_in_plan(project_id, county_code, year)
    if arranged_fen + amount_fen > planned:
        raise problems.beyond_plan(project_id=project_id, planned_fen=planned, arranged_fen=arranged_fen,
                                   amount_fen=amount_fen)


def check_balanced(*, sources: Sequence[int], projects: Sequence[int]) -> None:
    """F16: a plan places no more on projects than its sources bring (the projects' total within the sources')."""
    if sum(projects) > sum(sources):
        raise problems.plan_unbalanced(projects_fen=sum(projects), sources_fen=sum(sources))


def check_covers_arranged(projects: Sequence[tuple[str, int]], *, arranged: Mapping[str, int]) -> None:
    """F16: a version (an adjustment above all) plans every project at least what the year already arranged to it:
    money arranged under the plan in force is not planned away afterwards."""
    planned = dict(projects)
    for index, (project_id, amount_fen) in enumerate(projects):
        if amount_fen < arranged.get(project_id, 0):
            raise problems.plan_below_arranged(index, project_id=project_id, planned_fen=amount_fen,
                                               arranged_fen=arranged[project_id])
    for project_id, arranged_fen in sorted(arranged.items()):
        if arranged_fen > 0 and project_id not in planned:
            raise problems.plan_dropped_arranged(project_id, arranged_fen)


def check_reportable(*, version: int, latest: int, reported: bool) -> None:
    """F16: the latest version is reported (上报), once; an older one was superseded by an adjustment."""
    if version != latest:
        raise problems.plan_version_superseded(version, latest)
    if reported:
        raise problems.plan_already_reported(version)
