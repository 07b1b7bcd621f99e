"""The projects service's error builders: every problem the service answers with is built here, so its wording and
its fields are read in one place (the rule functions of rules.py raise them; the codes are constants in codes.py).
`not_the_approving_county` is a refusal of P2, not of "the principal must cover this region", so it is built here
rather than through the kernel's check_covers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from services.kernel.errors import (
    Conflict,
    NotFound,
    NotInJurisdiction,
    Problem,
    RuleViolation,
    ServiceUnavailable,
    ValidationProblem,
)
from services.projects import codes


class ObjectionLimit(Problem):
    status = 429
    code = codes.OBJECTION_LIMIT
    title = "Too many open objections"


def registry_lookup_failed(status: int) -> ServiceUnavailable:
    return ServiceUnavailable(f"registry 服务出错 / the registry answered {status} to a lookup", service="registry")


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


def project_not_public(project_id: str) -> NotFound:
    """U2: a project not announced is not public; answered as one that does not exist."""
    return NotFound(f"没有已公示的项目 {project_id} / no announced project {project_id}")


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


# The refusals of the project rules (rules.py)


def not_a_draft(status: str) -> Conflict:
    return Conflict(
        f"项目状态为 {status}，只有草稿可以修改 (P14) / the project is {status}: only a draft is edited (P14)",
        code=codes.NOT_A_DRAFT,
        rule=codes.P14,
        status_now=status,
    )


def village_not_in_county(county_code: str) -> ValidationProblem:
    return ValidationProblem(
        f"村代码应以县代码 {county_code} 开头 / the village code must start with its county {county_code}",
        field="village_code",
    )


def invalid_transition(status: str, action: str, allowed: list[str]) -> Conflict:
    return Conflict(
        f"项目状态为 {status}，不能执行 {action}；允许的操作：{', '.join(allowed) or '无'} / "
        f"a project in status {status} cannot {action}; allowed: {', '.join(allowed) or 'none'}",
        code=codes.INVALID_TRANSITION,
        status_now=status,
        action=action,
        allowed_actions=allowed,
    )


def negative_list(category: str) -> RuleViolation:
    return RuleViolation(
        f"项目类别 {category} 属于负面清单，不得使用扶贫资金 (P4) / category {category} is on the negative list "
        "and may not be funded with poverty money (P4, F5)",
        code=codes.NEGATIVE_LIST,
        rule=codes.P4,
        field="category",
    )


def no_performance_targets() -> RuleViolation:
    return RuleViolation(
        "项目没有绩效目标，不能入库 (P7) / a project without performance targets cannot enter the library (P7)",
        code=codes.NO_PERFORMANCE_TARGETS,
        rule=codes.P7,
        field="performance_targets",
    )


def no_beneficiaries() -> RuleViolation:
    return RuleViolation(
        "项目没有建档立卡受益户 (P3) / the project names no poor beneficiary households (P3)",
        code=codes.NO_POOR_BENEFICIARIES,
        rule=codes.P3,
        field="beneficiary_household_ids",
    )


def ineligible_beneficiaries(bad: list[str]) -> RuleViolation:
    shown = ", ".join(bad[:20])
    return RuleViolation(
        f"受益户不是建档立卡的贫困户、脱贫户或返贫户：{shown} (P3) / these beneficiaries are not registered "
        f"households with status poor, exited or returned: {shown} (P3)",
        code=codes.NO_POOR_BENEFICIARIES,
        rule=codes.P3,
        field="beneficiary_household_ids",
        households=bad[:100],
    )


def announcement_evidence_required(days_late: int) -> RuleViolation:
    return RuleViolation(
        f"公示开始 {days_late} 天后才录入，须提供张贴证据 (P13) / an announcement recorded {days_late} days after its "
        f"start (more than {codes.BACKDATE_GRACE_DAYS}) needs `evidence`: who posted it (`posted_by`) and the "
        "SHA-256 of the photo of the posted notice (`photo_sha256`)",
        code=codes.ANNOUNCEMENT_EVIDENCE_REQUIRED,
        rule=codes.P13,
        field="evidence",
    )


def announcement_too_short(days: int, minimum: int) -> RuleViolation:
    return RuleViolation(
        f"公示期 {days} 天，不足 {minimum} 天 (P1) / an announcement of {days} days is shorter "
        f"than the {minimum} days required (P1)",
        code=codes.ANNOUNCEMENT_TOO_SHORT,
        rule=codes.P1,
        field="days",
    )


def announcement_running(ends_on: date) -> RuleViolation:
    return RuleViolation(
        f"公示期至 {ends_on} 才结束，不能批准入库 (P1) / the announcement runs until {ends_on}; the project "
        "cannot be approved before it has ended (P1)",
        code=codes.ANNOUNCEMENT_TOO_SHORT,
        rule=codes.P1,
        announcement_ends_on=ends_on.isoformat(),
    )


def open_objections(open_objection_ids: Sequence[str]) -> RuleViolation:
    return RuleViolation(
        f"还有 {len(open_objection_ids)} 条异议未处理 (P1) / {len(open_objection_ids)} objection(s) are still "
        "open and must be resolved before approval (P1)",
        code=codes.OPEN_OBJECTIONS,
        rule=codes.P1,
        objections=list(open_objection_ids),
    )


def shares_not_for_kind(kind: str) -> RuleViolation:
    return RuleViolation(
        f"只有经营性资产才能折股量化 (P6) / only income-generating assets carry shares, not {kind} (P6)",
        code=codes.SHARES_NOT_FOR_KIND, rule=codes.P6, field="shares",
    )


def shares_required() -> RuleViolation:
    return RuleViolation(
        "经营性资产应将股份量化到受益户 (P6) / an income-generating asset names the households holding its "
        "shares (P6)",
        code=codes.SHARES_REQUIRED, rule=codes.P6, field="shares",
    )


def shareholders_not_beneficiaries(strangers: list[str]) -> RuleViolation:
    return RuleViolation(
        f"股份只能量化给项目受益户：{', '.join(strangers[:20])} (P6) / shares go to the project's beneficiary "
        f"households only; not beneficiaries: {', '.join(strangers[:20])} (P6)",
        code=codes.SHAREHOLDER_NOT_BENEFICIARY, rule=codes.P6, field="shares", households=strangers[:100],
    )


def funds_lookup_failed(status: int) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"资金服务出错 / the funds service answered {status} about a project's money", service="funds"
    )


def unknown_owner_org(organisation_id: str) -> RuleViolation:
    """O13: the owner unit a project names is an organisation the gateway knows."""
    return RuleViolation(
        f"没有这个单位 / no organisation {organisation_id} to own the project (O13)",
        code=codes.UNKNOWN_ORGANISATION, rule=codes.O13, field="owner_org",
    )


def owner_org_outside_county(organisation_id: str, region_code: str, county_code: str) -> RuleViolation:
    """O13: the owner unit's region is the project's county or a region above it on its line (its city, its province
    or the centre)."""
    return RuleViolation(
        f"单位 {organisation_id}（{region_code}）不管辖项目所在县 {county_code} (O13) / the organisation "
        f"{organisation_id} of region {region_code} does not cover the project's county {county_code}: an owner unit "
        "is of the county, its city, its province or the centre (O13)",
        code=codes.ORGANISATION_REGION, rule=codes.O13, field="owner_org",
    )


# Contracts (P8, P9; issue #17 point 2)


def direct_award_reason_required() -> RuleViolation:
    return RuleViolation(
        "直接委托须说明理由 (P8) / a direct award (直接委托) states its reason in direct_award_reason (P8)",
        code=codes.DIRECT_AWARD_REASON_REQUIRED,
        field="direct_award_reason",
        rule=codes.P8,
    )


def contracts_over_budget(*, budget_fen: int, contracted_fen: int, amount_fen: int) -> RuleViolation:
    return RuleViolation(
        f"合同总额将超过项目预算 {budget_fen} 分（已签 {contracted_fen} 分）(P8, F4) / the project's contracts would "
        f"exceed its budget of {budget_fen} fen ({contracted_fen} fen contracted already) (P8, F4)",
        code=codes.CONTRACTS_OVER_BUDGET,
        field="amount_fen",
        rule=codes.P8,
        budget_fen=budget_fen,
        contracted_fen=contracted_fen,
    )


def project_not_contracting(status: str) -> RuleViolation:
    return RuleViolation(
        f"项目状态为 {status}：入库（approved）或实施中（in_progress）的项目才能登记合同 (P8) / the project is "
        f"{status}: contracts are recorded for an approved or in-progress project (P8)",
        code=codes.PROJECT_NOT_CONTRACTING,
        field="project_id",
        rule=codes.P8,
        status_now=status,
    )


def contract_not_found(project_id: str, contract_id: str) -> NotFound:
    return NotFound(f"项目 {project_id} 没有合同 {contract_id} / project {project_id} has no contract {contract_id}")
# Close-out (issue #17 point 3): P10, P11, P12


def target_result_missing(indicators: list[str]) -> RuleViolation:
    shown = "、".join(indicators[:20])
    return RuleViolation(
        f"验收应记录每项绩效目标的实际值，缺少：{shown} (P10) / acceptance records the actual value of every "
        f"performance target; missing: {shown} (P10)",
        code=codes.TARGET_RESULT_MISSING, rule=codes.P10, field="results", indicators=indicators[:100],
    )


def target_result_unknown(indicators: list[str]) -> RuleViolation:
    shown = "、".join(indicators[:20])
    return RuleViolation(
        f"项目没有这些绩效目标：{shown} (P10) / the project has no performance target named: {shown}; give the "
        "result of each of its targets, by its indicator (P10)",
        code=codes.TARGET_RESULT_UNKNOWN, rule=codes.P10, field="results", indicators=indicators[:100],
    )


def household_asset_owner(owner_kind: str) -> RuleViolation:
    return RuleViolation(
        f"到户资产归受益户所有，不能确权给 {owner_kind} (P11) / a household asset is handed over to the households, "
        f"not to {owner_kind} (P11)",
        code=codes.HANDOVER_OWNER, rule=codes.P11, field="owner_kind",
    )


def handover_value_mismatch(*, total_fen: int, paid_fen: int, tolerance_fen: int, last: bool) -> RuleViolation:
    side = "超过" if total_fen > paid_fen else "低于"
    return RuleViolation(
        f"移交资产价值合计 {total_fen} 分{side}项目已支付 {paid_fen} 分，超出允许偏差 {tolerance_fen} 分 (P11) / the "
        f"project's assets handed over are worth {total_fen} fen against {paid_fen} fen paid to it, beyond the "
        f"tolerance of {tolerance_fen} fen" + (" (the last asset recorded: the whole must be reconciled)" if last
                                               else "") + " (P11)",
        code=codes.HANDOVER_VALUE_MISMATCH, rule=codes.P11, field="value_fen", handed_over_fen=total_fen,
        paid_fen=paid_fen, tolerance_fen=tolerance_fen,
    )


def already_handed_over(asset_id: str) -> Conflict:
    return Conflict(
        f"资产 {asset_id} 已移交确权 (P11) / asset {asset_id} is already handed over (P11)",
        code=codes.ALREADY_HANDED_OVER,
    )


def dividend_recorded_meanwhile(asset_id: str) -> Conflict:
    return Conflict(
        f"资产 {asset_id} 刚刚登记了另一笔分红，请核对后再试 (P12) / another dividend of asset {asset_id} was recorded "
        "meanwhile: read the asset's dividends, then ask again if this one is still due (P12)",
        code=codes.DIVIDEND_RECORDED_MEANWHILE,
    )


def relayed(status: int, answer: dict[str, Any]) -> Problem:
    """A refusal of the funds service (F6, F10, S9, 409), passed on to the caller as funds worded it."""
    extra = {k: v for k, v in answer.items()
             if k not in ("type", "title", "status", "detail", "code", "field", "rule", "instance")}
    return Problem(str(answer.get("detail", "")), code=str(answer.get("code", "")), status=status,
                   field=answer.get("field"), rule=answer.get("rule"), **extra)
