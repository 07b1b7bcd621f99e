"""The projects service's error builders (the codes are in codes.py; the rules' own refusals are raised by the rule
functions in rules.py)."""

from __future__ import annotations

from services.kernel.errors import Conflict, NotFound, NotInJurisdiction, Problem, ValidationProblem
from services.projects import codes


class ObjectionLimit(Problem):
    status = 429
    code = codes.OBJECTION_LIMIT
    title = "Too many open objections"


def project_not_found(project_id: str) -> NotFound:
    return NotFound(f"没有这个项目 / no project {project_id}")


def not_the_approving_county() -> NotInJurisdiction:
    """P2 (审批权下放到县): approval is the project's own county's, not a region's above it."""
    return NotInJurisdiction(
        "只有项目所在县的项目管理人员可以批准入库 (P2) / only a project manager of the project's own county may "
        "approve it (P2)",
        rule=codes.P2,
    )


def announcement_not_found(project_id: str) -> NotFound:
    return NotFound(f"没有这个项目的公示 / no announcement of project {project_id}")


def bad_cursor() -> ValidationProblem:
    return ValidationProblem("cursor 无效 / the cursor is not one this API gave out", field="cursor")


def not_announced(status: str) -> Conflict:
    return Conflict(
        f"项目状态为 {status}，不在公示中，不能提出异议 (P1) / the project is {status}, not "
        "announced: objections are accepted while it is announced (P1)",
        code=codes.NOT_ANNOUNCED,
        status_now=status,
    )


def objection_limit(open_objections: int) -> ObjectionLimit:
    return ObjectionLimit(
        f"您对该项目已有 {open_objections} 条异议尚未答复，答复前不能再提出 (S8) / you have {open_objections} open "
        f"objections to this project (at most {codes.OPEN_OBJECTIONS_PER_PRINCIPAL}): wait until they are answered "
        "(S8)",
        rule=codes.S8, open_objections=open_objections,
    )


def objection_not_found(objection_id: str, project_id: str | None = None) -> NotFound:
    if project_id is None:
        return NotFound(f"没有这条异议 / no objection {objection_id}")
    return NotFound(f"项目 {project_id} 没有这条异议 / project {project_id} has no objection {objection_id}")


def objection_resolved(objection_id: str) -> Conflict:
    return Conflict(f"异议已处理 / objection {objection_id} is already resolved", code=codes.OBJECTION_RESOLVED)


def assets_before_acceptance(status: str, allowed_actions: list[str]) -> Conflict:
    return Conflict(
        f"项目状态为 {status}，验收后才能登记资产 (P6) / the project is {status}: assets are "
        "recorded after acceptance (P6)",
        code=codes.INVALID_TRANSITION,
        status_now=status,
        allowed_actions=allowed_actions,
    )


def asset_not_found(project_id: str, asset_id: str) -> NotFound:
    return NotFound(f"项目 {project_id} 没有这项资产 / project {project_id} has no asset {asset_id}")


def no_shares(asset_id: str, kind: str) -> Conflict:
    return Conflict(
        f"资产 {asset_id} 没有量化股份，不能分红 (P6) / asset {asset_id} ({kind}) has no shares to pay a "
        "dividend on (P6)",
        code=codes.NO_SHARES,
    )
