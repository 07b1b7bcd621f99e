"""The funds service's error builders (API.md "Funds"): every problem the service answers with is built here, so its
wording and its fields are read in one place. The codes are constants in codes.py; jurisdiction refusals come from
the kernel's seam (services/kernel/scope.py `check_covers`)."""

from __future__ import annotations

from typing import Any

from services.funds import codes
from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    NotInJurisdiction,
    Problem,
    RuleViolation,
    ValidationProblem,
)
from services.kernel.scope import S1


def in_batch(problem: Problem, index: int | None) -> Problem:
    """Name the batch item a problem is about: `items.3.amount_fen` (and `index`); unchanged outside a batch."""
    if index is not None:
        problem.field = f"items.{index}.{problem.field}" if problem.field else f"items.{index}"
        problem.extra["index"] = index
    return problem


# Reference data


def not_a_county(field: str = "code") -> ValidationProblem:
    return ValidationProblem("不是县级代码 / not a county code", field=field)


def not_a_province(field: str = "province") -> ValidationProblem:
    return ValidationProblem("不是省级代码 / not a province code (PP0000)", field=field)


def county_set_from_above(code: str) -> NotInJurisdiction:
    """S1: a county's status is set from above it (the centre, its province or city), never by the county itself."""
    return NotInJurisdiction(
        f"只有县 {code} 的上级（中央、省、市）可设置其属性 / only a principal of the centre, a province or a city "
        f"above county {code} may set it",
        field="code",
        rule=S1,
    )


def no_source(code: str) -> NotFound:
    return NotFound(f"没有这个资金来源 / no fund source {code}")


def unknown_source(code: str, field: str = "fund_source") -> RuleViolation:
    return RuleViolation(
        f"资金来源 {code} 未登记 / fund source {code} is not registered (PUT /funds/sources/{code})",
        code=codes.UNKNOWN_FUND_SOURCE,
        field=field,
    )


def unregistered_county(code: str, field: str) -> RuleViolation:
    return RuleViolation(
        f"县 {code} 未登记（贫困县、整合试点） / county {code} is not registered (poor, integration pilot): "
        f"PUT /funds/counties/{code} first",
        code=codes.COUNTY_NOT_REGISTERED,
        field=field,
    )


# Records


def duplicate_document(doc_no: str, field: str = "doc_no", **extra: Any) -> Conflict:
    return Conflict(
        f"文号重复 / duplicate document: {doc_no} was already posted (same issuer and fund source, or same voucher)",
        code=codes.DUPLICATE_DOCUMENT,
        field=field,
        **extra,
    )


def no_allocation(allocation_id: str, field: str | None = None) -> NotFound:
    return NotFound(f"没有这笔资金下达 / no allocation {allocation_id}", field=field)


def no_movements(kind: str, subject: str) -> NotFound:
    return NotFound(f"没有 {subject} 的资金记录 / no movements recorded for {kind} {subject}")


def bad_trace_cursor() -> ValidationProblem:
    return ValidationProblem("cursor 无效 / the cursor is not one this API gave out", field="cursor")


def one_trace_subject() -> ValidationProblem:
    return ValidationProblem(
        "请给出且只给出一个追溯对象 / give exactly one of allocation_id, project_id, household_id",
        field="allocation_id",
    )


# The ledger


def insufficient(detail: str, **extra: Any) -> Conflict:
    """409: a move would take an account below 0 (only the external budget account may go there)."""
    return Conflict(f"余额不足 / insufficient funds: {detail}", code=codes.INSUFFICIENT_FUNDS, **extra)


# Corrections


def no_transfer(transfer_id: str) -> NotFound:
    return NotFound(f"没有这笔转账 / no transfer {transfer_id}", field="target_id")


def nothing_to_reverse(target_id: str) -> NotFound:
    return NotFound(f"没有可冲正的记录 / no record {target_id} to reverse", field="target_id")


def reversal_not_reversible(target_id: str) -> RuleViolation:
    return RuleViolation(
        f"冲正记录不能再冲正 / {target_id} is itself a reversal: post the movement again instead",
        code=codes.REVERSAL_NOT_REVERSIBLE,
        field="target_id",
    )


def no_reversal(reversal_id: str) -> NotFound:
    """Also what the internal API answers a principal that is not a service: it knows no jurisdiction (S1)."""
    return NotFound(f"没有这笔冲正 / no reversal {reversal_id}")


def already_reversed(target_id: str) -> Conflict:
    return Conflict(
        f"该记录已冲正 / {target_id} has already been reversed", code=codes.ALREADY_REVERSED, field="target_id"
    )


# The rules (rules.py decides, these say it)


def allocation_direction(from_region: str, to_region: str) -> RuleViolation:
    return RuleViolation(
        f"资金只能向下级下达 / an allocation goes only downwards: {to_region} is not below {from_region}",
        code=codes.ALLOCATION_DIRECTION,
        field="to_region",
    )


def block_grant_designated_project() -> RuleViolation:
    return RuleViolation(
        "切块下达的整合资金不得指定具体项目 / a block grant to a pilot poor county may not designate a project (F1)",
        code=codes.BLOCK_GRANT_DESIGNATED_PROJECT,
        rule="F1",
        field="designated_project_id",
    )


def block_grant_unrelated_task(index: int) -> RuleViolation:
    return RuleViolation(
        "切块下达的整合资金不得提出与脱贫攻坚无关的任务要求 / a block grant may not attach a task unrelated to "
        f"poverty alleviation (F1): tasks[{index}]",
        code=codes.BLOCK_GRANT_UNRELATED_TASK,
        rule="F1",
        field=f"tasks.{index}.poverty_related",
    )


def project_not_in_library(project_id: str, reason: str) -> RuleViolation:
    return RuleViolation(
        f"项目 {project_id} {reason} (F4)", code=codes.PROJECT_NOT_IN_LIBRARY, rule="F4", field="project_id"
    )


def negative_list(category: str) -> RuleViolation:
    return RuleViolation(
        f"项目类别 {category} 属于负面清单 / category {category} is on the negative list (F5)",
        code=codes.NEGATIVE_LIST,
        rule="F5",
        field="project_id",
    )


def over_project_budget(*, arranged_fen: int, amount_fen: int, budget_fen: int) -> RuleViolation:
    return RuleViolation(
        f"超出项目预算 / over the project's budget (F4): already arranged {arranged_fen} + {amount_fen} > "
        f"budget {budget_fen} fen",
        code=codes.OVER_PROJECT_BUDGET,
        rule="F4",
        field="amount_fen",
    )


def project_not_in_progress(project_id: str, status: str) -> RuleViolation:
    return RuleViolation(
        f"项目状态为 {status}，不能支付 / project {project_id} is {status}, payments need it in_progress",
        code=codes.PROJECT_NOT_IN_PROGRESS,
        field="project_id",
    )


def over_arranged(*, amount_fen: int, project_balance_fen: int) -> RuleViolation:
    return RuleViolation(
        f"超出已安排未支付的资金 / more than arranged and not yet paid: {amount_fen} > {project_balance_fen} fen",
        code=codes.OVER_ARRANGED,
        field="amount_fen",
    )


def payee_not_in_county(household_id: str) -> RuleViolation:
    return RuleViolation(
        f"农户 {household_id} 不在项目所在县的建档立卡名册中 (S9) / household {household_id} is not on the poverty "
        "roster of the project's county (S9)",
        code=codes.PAYEE_NOT_IN_COUNTY,
        rule="S9",
        field="payee.id",
    )


def payee_not_household_account() -> RuleViolation:
    return RuleViolation(
        "收款账户不是该户登记的一卡通账户 (F6) / the account is not the household's registered card account (F6)",
        code=codes.PAYEE_NOT_HOUSEHOLD_ACCOUNT,
        rule="F6",
        field="payee.account_no",
    )


def sources_kept_by_admins() -> Forbidden:
    return Forbidden("只有管理员可以修改资金来源 / only an admin maintains fund sources")


# The risk-compensation fund's moves (issue #18, internal API of the loans service)


def not_a_service() -> NotFound:
    """What the internal API answers a principal that is not a service: it knows no jurisdiction (S1)."""
    return NotFound("没有这个接口 / no such resource")


def risk_move_conflict(move_id: str) -> Conflict:
    return Conflict(
        f"风险补偿金划转 {move_id} 已按其他内容记录 / the risk-fund move {move_id} was already made with other "
        "figures", code=codes.RISK_MOVE_CONFLICT, field="id",
    )
