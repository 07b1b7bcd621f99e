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
    ServiceUnavailable,
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


def source_province(level: str) -> ValidationProblem:
    if level == "provincial":
        return ValidationProblem("省级资金须指明所属省份 (F21) / a provincial source names the province it belongs to "
                                 "(province_code, F21)", field="province_code", rule=codes.F21)
    return ValidationProblem("中央资金不属于某一省份 (F21) / a central source belongs to no province: leave "
                             "province_code out (F21)", field="province_code", rule=codes.F21)


def source_outside_province(fund_source: str, province_code: str, region_code: str) -> RuleViolation:
    return RuleViolation(
        f"资金来源 {fund_source} 是 {province_code} 的省级资金，不能在 {region_code} 安排 (F21) / fund source "
        f"{fund_source} is province {province_code}'s own money: it is not appropriated in {region_code} (F21)",
        code=codes.SOURCE_OUTSIDE_PROVINCE, field="region_code", rule=codes.F21,
    )


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


def not_reversible(target_id: str) -> RuleViolation:
    """Without the record's kind: a caller of another region learns no more than that the id exists (as the 404)."""
    return RuleViolation(
        f"此类记录不能冲正 / {target_id} is corrected by its own flow (a risk fund's, a claim's or a dividend's record,"
        " kept by another service), not by a reversal",
        code=codes.NOT_REVERSIBLE,
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
        "切块下达的整合资金不得指定具体项目 / integrable money, issued in blocks at every hop down to a pilot poor "
        "county, may not designate a project (F1)",
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


# The basis of every payment (F11–F14; issue #17 points 2 and 8)


def contract_required() -> RuleViolation:
    return RuleViolation(
        "付给企业的款项须指明合同 (F11) / a payment to an enterprise names the contract it pays (contract_id, F11)",
        code=codes.CONTRACT_REQUIRED, field="contract_id", rule=codes.F11,
    )


def contract_not_found(contract_id: str, project_id: str) -> RuleViolation:
    return RuleViolation(
        f"项目 {project_id} 没有合同 {contract_id}：先登记合同 (POST /projects/{project_id}/contracts) (F11) / project "
        f"{project_id} has no contract {contract_id}: record it first (F11)",
        code=codes.CONTRACT_NOT_FOUND, field="contract_id", rule=codes.F11,
    )


def contract_payee_mismatch(contract_id: str) -> RuleViolation:
    return RuleViolation(
        f"收款企业不是合同 {contract_id} 的承包方 (F11) / the payee is not the contractor of contract {contract_id}: "
        "pay the contractor its credit code names (F11)",
        code=codes.CONTRACT_PAYEE_MISMATCH, field="payee.id", rule=codes.F11,
    )


def contract_exceeded(*, contract_id: str, contract_fen: int, paid_fen: int, amount_fen: int) -> RuleViolation:
    left = contract_fen - paid_fen
    return RuleViolation(
        f"合同 {contract_id} 金额 {contract_fen} 分，已付 {paid_fen} 分，余 {left} 分，不足 {amount_fen} 分 (F11) / "
        f"contract {contract_id} of {contract_fen} fen has {left} fen left after {paid_fen} fen paid: "
        f"{amount_fen} fen exceeds it (F11)",
        code=codes.CONTRACT_EXCEEDED, field="amount_fen", rule=codes.F11,
        contract_fen=contract_fen, paid_fen=paid_fen, left_fen=left,
    )


def enterprise_basis() -> ValidationProblem:
    return ValidationProblem(
        "付给企业的款项以合同为依据，不填 basis / an enterprise is paid on its contract (contract_id), not a basis",
        field="basis",
    )


def household_contract(field: str) -> ValidationProblem:
    return ValidationProblem(
        f"付给农户的款项不指明合同（{field}），填写 basis / a household is paid on a basis, not a contract ({field})",
        field=field,
    )


def basis_required(field: str = "basis", what: str = "") -> RuleViolation:
    return RuleViolation(
        "原则上不直接发钱发物：付给农户的款项须说明依据（劳务报酬/以工代赈 wages、按标准奖补 subsidy、分红 dividend、"
        f"其他 other 附理由）{what} (F12) / no direct cash handout: a payment to a household states its basis (wages, "
        f"a subsidy under a published standard, a dividend, or other with a reason){what} (F12)",
        code=codes.BASIS_REQUIRED, field=field, rule=codes.F12,
    )


def subsidy_standard_missing(county_code: str, category: str) -> RuleViolation:
    return RuleViolation(
        f"县 {county_code} 未公布“{category}”类补助标准 (F13) / county {county_code} has published no subsidy standard "
        f"of category {category} in force that day (POST /funds/subsidy-standards) (F13)",
        code=codes.SUBSIDY_STANDARD_MISSING, field="basis.category", rule=codes.F13,
    )


def subsidy_above_standard(*, category: str, standard_fen: int, paid_fen: int, amount_fen: int) -> RuleViolation:
    return RuleViolation(
        f"“{category}”类奖补标准每户 {standard_fen} 分，该户本年已领 {paid_fen} 分，再付 {amount_fen} 分超标 (F13)"
        f" / the {category} standard is {standard_fen} fen a household a year; {paid_fen} fen paid already this year, "
        f"{amount_fen} fen more exceeds it (F13)",
        code=codes.SUBSIDY_ABOVE_STANDARD, field="amount_fen", rule=codes.F13,
        standard_fen=standard_fen, paid_fen=paid_fen,
    )


def not_payable_after_acceptance(project_id: str, status: str, stage: str | None) -> RuleViolation:
    """F14: once built, a project pays only retention money and final payments, against a contract, and only after
    acceptance (验收)."""
    return RuleViolation(
        f"项目 {project_id} 状态为 {status}：竣工后只能在验收后按合同支付质保金或尾款 (F14) / project {project_id} is "
        f"{status}: after completion only retention money or a final payment against a contract (contract_stage "
        f"retention or final) is paid, once accepted (F14)",
        code=codes.PROJECT_NOT_IN_PROGRESS, field="contract_stage" if stage else "project_id", rule=codes.F14,
        status_now=status,
    )
# P12 (issue #17 point 3): an asset's dividend paid through the ledger


def dividend_payee_ineligible(bad: dict[str, str]) -> RuleViolation:
    shown = ", ".join(f"{h} ({r})" for h, r in list(bad.items())[:20])
    return RuleViolation(
        f"分红之日以下股东户不符合领取条件：{shown} (F10) / on the day paid these shareholding households may not "
        f"receive poverty money: {shown} (F10)",
        code=codes.DIVIDEND_PAYEE_INELIGIBLE, rule="F10", field="payouts", households=bad,
    )


def dividend_conflict(dividend_id: str) -> Conflict:
    return Conflict(
        f"分红 {dividend_id} 已支付或正在支付 / dividend {dividend_id} was paid already (with other payouts) or is "
        "being paid: read the asset's dividends before asking again",
        code=codes.DIVIDEND_CONFLICT,
    )


def internal_only() -> NotFound:
    return NotFound("没有这个接口 / no such route")


def registry_failed(status: int) -> ServiceUnavailable:
    return ServiceUnavailable(f"registry 服务出错 / the registry answered {status}", service="registry")


def gateway_failed(status: int) -> ServiceUnavailable:
    return ServiceUnavailable(f"gateway 服务出错 / the gateway answered {status}", service="gateway")


def projects_failed(status: int) -> ServiceUnavailable:
    return ServiceUnavailable(f"projects 服务出错 / the projects service answered {status}", service="projects")

# The county's integration plan (issue #17 point 1, F15–F16)


def not_in_plan(project_id: str, county_code: str, year: int) -> RuleViolation:
    return RuleViolation(
        f"项目 {project_id} 不在 {county_code} 县 {year} 年已上报的统筹整合方案中 / project {project_id} is not in the "
        f"integration plan in force of county {county_code} for {year} (file it, or adjust the plan, and report it)",
        code=codes.NOT_IN_PLAN, rule="F15", field="project_id",
    )


def beyond_plan(*, project_id: str, planned_fen: int, arranged_fen: int, amount_fen: int) -> RuleViolation:
    return RuleViolation(
        f"超出方案安排 / beyond the plan (F15): project {project_id} is planned {planned_fen} fen, {arranged_fen} "
        f"already arranged this year + {amount_fen} exceeds it (adjust the plan and report it first)",
        code=codes.NOT_IN_PLAN, rule="F15", field="amount_fen", planned_fen=planned_fen, arranged_fen=arranged_fen,
    )


def plan_exists(county_code: str, year: int, plan_id: str | None) -> Conflict:
    return Conflict(
        f"{county_code} 县 {year} 年已有统筹整合方案，请提交调整 / county {county_code} already has a plan for {year}: "
        f"file an adjustment (POST /funds/plans/{plan_id}/adjustments)",
        code=codes.PLAN_EXISTS, rule="F16", field="fiscal_year", plan_id=plan_id,
    )


def no_plan(plan_id: str) -> NotFound:
    return NotFound(f"没有这个统筹整合方案 / no integration plan {plan_id}")


def plan_unbalanced(*, projects_fen: int, sources_fen: int) -> RuleViolation:
    return RuleViolation(
        f"项目安排超过资金来源 / the planned projects ({projects_fen} fen) exceed the planned sources "
        f"({sources_fen} fen)",
        code=codes.PLAN_UNBALANCED, rule="F16", field="projects",
    )


def plan_below_arranged(index: int, *, project_id: str, planned_fen: int, arranged_fen: int) -> RuleViolation:
    return RuleViolation(
        f"项目 {project_id} 本年已安排 {arranged_fen} 分，方案不能少于此数 / project {project_id} already received "
        f"{arranged_fen} fen this year: the plan cannot give it less ({planned_fen})",
        code=codes.PLAN_BELOW_ARRANGED, rule="F16", field=f"projects.{index}.amount_fen", arranged_fen=arranged_fen,
    )


def plan_dropped_arranged(project_id: str, arranged_fen: int) -> RuleViolation:
    return RuleViolation(
        f"项目 {project_id} 本年已安排 {arranged_fen} 分，不能移出方案 / project {project_id} already received "
        f"{arranged_fen} fen this year: the plan cannot drop it",
        code=codes.PLAN_BELOW_ARRANGED, rule="F16", field="projects", project_id=project_id,
        arranged_fen=arranged_fen,
    )


def plan_version_superseded(version: int, latest: int) -> Conflict:
    return Conflict(
        f"第 {version} 版已被第 {latest} 版取代，只能上报最新版本 / version {version} was superseded by version "
        f"{latest}: only the latest version is reported",
        code=codes.PLAN_VERSION_SUPERSEDED, rule="F16", field="version", latest_version=latest,
    )


def plan_already_reported(version: int) -> Conflict:
    return Conflict(
        f"第 {version} 版已上报 / version {version} was already reported",
        code=codes.PLAN_ALREADY_REPORTED, rule="F16", field="version",
    )


def plan_filed_concurrently() -> Conflict:
    return Conflict(
        "同时提交了另一份调整，请刷新后重试 / another adjustment of this plan was filed at the same time: read the "
        "plan and file again",
        field="reason",
    )


def plan_filed_by_county(county_code: str) -> NotInJurisdiction:
    return NotInJurisdiction(
        f"统筹整合方案由 {county_code} 县自己编制、调整和上报 / county {county_code}'s own offices file, adjust and "
        f"report its plan",
        field="county_code",
    )


def no_obligation(code: str) -> NotFound:
    return NotFound(f"没有这项义务 / no obligation {code}")


def obligation_set_from_above(region_code: str) -> NotInJurisdiction:
    """S1: obligations bind the regions below whoever declares them; a county does not set its own."""
    return NotInJurisdiction(
        f"义务由中央、省或市为 {region_code} 设定，县不能自定 / an obligation on {region_code} is declared by the "
        f"centre, a province or a city above it, not by a county",
        field="region_code", rule=S1,
    )


def planned_twice(name: str, field: str) -> ValidationProblem:
    return ValidationProblem(f"{name} 重复 / {name} is planned twice in one version", field=field)


def share_given_wrongly(kind: str, *, needed: bool) -> ValidationProblem:
    wanted = "需要 / needs" if needed else "不要 / takes no"
    return ValidationProblem(f"{kind} {wanted} share_bp", field="share_bp")


def period_reversed() -> ValidationProblem:
    return ValidationProblem("to_year 早于 from_year / to_year is before from_year", field="to_year")


def recovered_to_poverty_exceeds() -> ValidationProblem:
    return ValidationProblem("用于扶贫的部分不能超过回收总额 / to_poverty_fen exceeds amount_fen",
                             field="to_poverty_fen")


def subsidy_payments_for_services() -> NotFound:
    """What the internal subsidy payment answers a principal that is not a service (S1), as an unknown route."""
    return NotFound("没有此接口 / no such route: subsidy payments are made by the loans service")


# The risk-compensation fund's moves (issue #18, internal API of the loans service)


def not_a_service() -> NotFound:
    """What the internal API answers a principal that is not a service: it knows no jurisdiction (S1)."""
    return NotFound("没有这个接口 / no such resource")


def risk_move_conflict(move_id: str) -> Conflict:
    return Conflict(
        f"风险补偿金划转 {move_id} 已按其他内容记录 / the risk-fund move {move_id} was already made with other "
        "figures", code=codes.RISK_MOVE_CONFLICT, field="id",
    )


# How a claim of the loans service is settled (issue #18, loans' L9 and L13): paid or voided, once


def claim_voided(payment_key: str) -> Conflict:
    return Conflict(
        f"申请 {payment_key} 已被驳回作废，不再支付 / the claim paid under {payment_key} was voided (rejected): it is "
        "never paid", code=codes.CLAIM_VOIDED, field="payment_key", payment_key=payment_key, outcome="voided",
    )


def claim_already_paid(payment_key: str) -> Conflict:
    return Conflict(
        f"申请 {payment_key} 已支付，不能作废 / the claim paid under {payment_key} is paid already: it cannot be "
        "voided", code=codes.CLAIM_ALREADY_PAID, field="payment_key", payment_key=payment_key, outcome="paid",
    )
