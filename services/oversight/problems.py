"""Every problem the oversight service answers with, built here (codes in codes.py, rules in docs/rules.md)."""

from __future__ import annotations

from datetime import date

from services.kernel.errors import (
    Conflict,
    NotFound,
    NotInJurisdiction,
    RuleViolation,
    ServiceUnavailable,
    ValidationProblem,
)
from services.oversight import codes


def case_not_found(case_id: str) -> NotFound:
    return NotFound(f"没有这个案件 / no case {case_id}")


def not_answerable(case_id: str) -> NotInJurisdiction:
    """O6: a case is seen by the inspectors of its region and by the principals of its responsible organisation."""
    return NotInJurisdiction(
        f"案件 {case_id} 不由你的单位负责 / case {case_id} is not your organisation's to answer",
        rule=codes.O6,
    )


def no_grounds() -> RuleViolation:
    return RuleViolation(
        "案件须基于预警或举报 / a case is opened from one or more alerts or from a complaint",
        code=codes.NO_GROUNDS, field="alerts", rule=codes.O2,
    )


def unknown_alert(service: str, alert_id: str, field: str) -> RuleViolation:
    return RuleViolation(
        f"{service} 没有这条预警 / {service} has no alert {alert_id}", code=codes.UNKNOWN_ALERT, field=field,
        rule=codes.O2,
    )


def alert_outside_case_region(alert_region: str, case_region: str, field: str) -> RuleViolation:
    return RuleViolation(
        f"预警所在地区 {alert_region} 不在案件地区 {case_region} 内 / the alert's region {alert_region} is not in "
        f"the case's {case_region}",
        code=codes.ALERT_OUTSIDE_CASE_REGION, field=field, rule=codes.O2,
    )


def alert_named_twice(alert_id: str, field: str) -> ValidationProblem:
    return ValidationProblem(f"预警 {alert_id} 重复 / alert {alert_id} is named twice", field=field, rule=codes.O2)


def alert_in_case(alert_id: str, case_id: str) -> Conflict:
    return Conflict(
        f"预警 {alert_id} 已在案件 {case_id} 中 / alert {alert_id} is in case {case_id} already",
        code=codes.ALERT_IN_CASE, rule=codes.O2, case_id=case_id,
    )


def deadline_in_past(given: date, today: date) -> RuleViolation:
    return RuleViolation(
        f"整改期限 {given} 须晚于今天 {today} / the deadline {given} must be after today {today}",
        code=codes.DEADLINE_IN_PAST, field="deadline", rule=codes.O3,
    )


def invalid_transition(move: str, state: str, allowed_from: list[str]) -> Conflict:
    return Conflict(
        f"案件状态为 {state}，不能 {move} / a case that is {state} cannot be moved by {move}; allowed from: "
        f"{', '.join(allowed_from)}",
        code=codes.INVALID_CASE_TRANSITION, rule=codes.O4, state=state,
    )


def unknown_organisation(organisation_id: str) -> RuleViolation:
    return RuleViolation(
        f"没有这个单位 / no organisation {organisation_id}", code=codes.UNKNOWN_ORGANISATION,
        field="organisation_id", rule=codes.O5,
    )


def organisation_outside_case_region(region_code: str, case_region: str, kind: str) -> RuleViolation:
    return RuleViolation(
        f"单位（{kind}，{region_code}）不能作为 {case_region} 案件的责任单位 / an organisation ({kind}, {region_code}) "
        f"cannot be responsible for a case of {case_region}: it must be of the case's region line, and not a "
        "discipline commission",
        code=codes.ORGANISATION_OUTSIDE_CASE_REGION, field="organisation_id", rule=codes.O5,
    )


def not_a_commission(kind: str) -> RuleViolation:
    return RuleViolation(
        f"只能移送纪检监察机关，该单位为 {kind} / a referral goes to a discipline commission, not a {kind}",
        code=codes.NOT_A_DISCIPLINE_COMMISSION, field="organisation_id", rule=codes.O7,
    )


def commission_below_case(region_code: str, case_region: str) -> RuleViolation:
    return RuleViolation(
        f"纪委监委 {region_code} 低于案件地区 {case_region} / the commission of {region_code} is below the case's "
        f"region {case_region}: refer to one of the same or a higher level",
        code=codes.COMMISSION_BELOW_CASE, field="organisation_id", rule=codes.O7,
    )


def accountability_too_early(state: str) -> Conflict:
    return Conflict(
        f"案件状态为 {state}，不能记录问责 / accountability is recorded once a case is accepted or referred, and "
        f"before it is closed; it is {state}",
        code=codes.ACCOUNTABILITY_TOO_EARLY, rule=codes.O8, state=state,
    )


def lookup_failed(service: str, status: int) -> ServiceUnavailable:
    return ServiceUnavailable(f"{service} 服务出错 / the {service} answered {status} to a lookup", service=service)


def no_case_to_document(organisation_id: str) -> NotInJurisdiction:
    """E1 with O6: a document is uploaded by an inspector, or by a principal of an organisation that has a case."""
    return NotInJurisdiction(
        f"你的单位没有需要整改的案件 / organisation {organisation_id or '(none)'} has no case to document",
        rule=codes.O6,
    )


def bad_document(field: str, message: str) -> ValidationProblem:
    return ValidationProblem(f"文件引用无效 / {field}: {message}", field=field, rule=codes.E1)


def unknown_reversal(reversal_id: str, field: str) -> RuleViolation:
    return RuleViolation(
        f"资金系统没有这笔冲正 / funds has no reversal {reversal_id}", code=codes.UNKNOWN_REVERSAL, field=field,
        rule=codes.O10,
    )


def reversal_outside_case_region(reversal_region: str, case_region: str, field: str) -> RuleViolation:
    return RuleViolation(
        f"冲正所属地区 {reversal_region} 不在案件地区 {case_region} 一线 / the reversal answers for {reversal_region}, "
        f"not of the case's region line {case_region}",
        code=codes.REVERSAL_OUTSIDE_CASE_REGION, field=field, rule=codes.O10,
    )


def reversal_in_case(reversal_id: str, case_id: str, field: str) -> Conflict:
    return Conflict(
        f"冲正 {reversal_id} 已是案件 {case_id} 的整改 / reversal {reversal_id} is named by case {case_id}'s "
        "rectification already: one reversal recovers the money of one case",
        code=codes.REVERSAL_IN_CASE, field=field, rule=codes.O10, case_id=case_id,
    )


def reversal_named_twice(reversal_id: str, field: str) -> ValidationProblem:
    return ValidationProblem(f"冲正 {reversal_id} 重复 / reversal {reversal_id} is named twice", field=field,
                             rule=codes.O10)


def bad_period(start: date, end: date) -> ValidationProblem:
    return ValidationProblem(f"起始日期 {start} 晚于截止日期 {end} / `from` {start} is after `to` {end}", field="from",
                             rule=codes.O11)
def unknown_complaint(complaint_id: str) -> RuleViolation:
    return RuleViolation(
        f"没有这条举报 / no complaint {complaint_id}", code=codes.UNKNOWN_COMPLAINT, field="complaint_ref",
        rule=codes.O12,
    )


def complaint_outside_case_region(complaint_region: str, case_region: str) -> RuleViolation:
    return RuleViolation(
        f"举报所在地区 {complaint_region} 不在案件地区 {case_region} 内 / the complaint's region {complaint_region} is "
        f"not in the case's {case_region}",
        code=codes.COMPLAINT_OUTSIDE_CASE_REGION, field="complaint_ref", rule=codes.O12,
    )


def complaint_alert_mismatch(complaint_id: str, complaint_ref: str, field: str) -> RuleViolation:
    return RuleViolation(
        f"该预警是举报 {complaint_id} 的，而案件指明的是 {complaint_ref}；一个案件只对应一条举报 / "
        f"this alert is complaint {complaint_id}'s, and the case names {complaint_ref}: a case names one complaint; "
        "open another case for it",
        code=codes.COMPLAINT_ALERT_MISMATCH, field=field, rule=codes.O12,
    )


def complaint_not_found(complaint_id: str) -> NotFound:
    return NotFound(f"没有这条举报 / no complaint {complaint_id}")
