"""The close-out's refusals (P10, P11): built here, their codes in codes.py."""

from __future__ import annotations

from typing import Any

from services.kernel.errors import Conflict, NotFound, Problem, RuleViolation
from services.projects import codes


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


def asset_not_found(project_id: str, asset_id: str) -> NotFound:
    return NotFound(f"项目 {project_id} 没有这项资产 / project {project_id} has no asset {asset_id}")


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
