"""The loans service's error builders: every problem the service answers with is built here, so its wording and its
fields are read in one place (the rule functions of rules.py raise them; the codes are constants in codes.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    RuleViolation,
    ServiceUnavailable,
    ValidationProblem,
)
from services.kernel.evidence_policy import UnsupportedMediaType
from services.loans import codes


def loan_not_found(loan_id: str) -> NotFound:
    return NotFound(f"没有这笔贷款 / no loan {loan_id}")


def extension_exists(loan_id: str) -> Conflict:
    return Conflict(f"L5: 该贷款已展期一次 / loan {loan_id} has already been extended once",
                    code=codes.EXTENSION_EXISTS, rule="L5")


def loan_repaid(loan_id: str) -> Conflict:
    return Conflict(f"贷款已还清 / loan {loan_id} is repaid: nothing to extend", code=codes.LOAN_REPAID)


def registry_without_eligibility() -> ServiceUnavailable:
    return ServiceUnavailable("registry 无资格接口 / the registry has no eligibility API", service="registry")


def registry_failed(status: int, path: str) -> ServiceUnavailable:
    return ServiceUnavailable(f"registry 服务出错 / the registry service answered {status} to POST {path}",
                              service="registry")


def usage_before_issue() -> RuleViolation:
    return RuleViolation("用途报告日期早于放款日期 / a usage report cannot precede the issue date",
                         code=codes.USAGE_BEFORE_ISSUE, field="reported_on")


def period_reversed() -> ValidationProblem:
    return ValidationProblem("to 不能早于 from / `to` must not precede `from`", field="to")


# The refusals of the loan rules (rules.py), in the order origination checks them


def household_not_registered(household_id: str) -> RuleViolation:
    return RuleViolation(
        f"L1: 农户 {household_id} 不在建档立卡名册中 / household {household_id} is not on the poverty roster",
        code=codes.BORROWER_NOT_REGISTERED, rule="L1", field="household_id",
    )


def borrower_not_head() -> RuleViolation:
    return RuleViolation(
        "L1: 借款人不是该户户主 / the borrower's identity number is not the household head's",
        code=codes.BORROWER_NOT_REGISTERED, rule="L1", field="borrower_id_number",
    )


def borrower_age(age: int) -> RuleViolation:
    return RuleViolation(
        f"L1a: 借款人发放日年龄 {age} 岁，不在 18–65 岁之间 / the borrower is {age} on the issue date, "
        "outside 18 to 65",
        code=codes.BORROWER_NOT_ELIGIBLE, rule="L1a", field="borrower_id_number",
    )


def not_registered_on(household_id: str, issued_on: date) -> RuleViolation:
    return RuleViolation(
        f"L1: 发放日 {issued_on} 农户 {household_id} 尚未建档立卡 / household {household_id} was not on the "
        f"poverty roster on the issue date {issued_on}",
        code=codes.BORROWER_NOT_REGISTERED, rule="L1", field="household_id",
    )


def not_poor_on(issued_on: date, status: str | None) -> RuleViolation:
    return RuleViolation(
        f"L1: 发放日 {issued_on} 农户状态为 {status}，不能申请扶贫小额信贷 / on the issue date the "
        f"household's status was {status}: it may not borrow (only poor, exited or returned "
        "households)",
        code=codes.BORROWER_NOT_ELIGIBLE, rule="L1", field="household_id",
    )


def village_cadre_on(issued_on: date) -> RuleViolation:
    return RuleViolation(
        f"L1: 发放日 {issued_on} 户内有村干部 / on the issue date the household had a sitting village cadre, and "
        "may not be identified as poor",
        code=codes.BORROWER_NOT_ELIGIBLE, rule="L1", field="household_id",
    )


def _enterprise_use(detail: str, field: str, rule: str = "L2a") -> RuleViolation:
    """L2a (户贷企用) and L3: the money would reach someone other than the borrower or a farmers' cooperative."""
    return RuleViolation(f"{rule}: {detail}", code=codes.LOAN_ENTERPRISE_USE, rule=rule, field=field)


def account_not_borrowers() -> RuleViolation:
    return _enterprise_use("放款账户不是借款人本人的 / the disbursement account is not the borrower's own",
                           "disbursement_account.holder_id_number")


def paid_to_organisation() -> RuleViolation:
    return _enterprise_use("放款到单位账户 / the loan would be paid to an organisation's account "
                           "outside the cooperative mode", "disbursement_account.holder_uscc")


def cooperative_outside_mode() -> RuleViolation:
    return _enterprise_use("只有户贷社管模式可以记录合作社 / only the cooperative mode lets a loan reach a "
                           "cooperative", "cooperative_uscc", rule="L3")


def cooperative_not_named() -> RuleViolation:
    return _enterprise_use("户贷社管须写明农民专业合作社 / the cooperative mode must name the farmers' cooperative",
                           "cooperative_uscc", rule="L3")


def not_a_cooperative() -> RuleViolation:
    return _enterprise_use("只有农民专业合作社（93 开头）可以管理贷款 / only a farmers' cooperative (credit code "
                           "93…) may manage a loan, never a company", "cooperative_uscc", rule="L3")


def account_of_another_organisation() -> RuleViolation:
    return _enterprise_use("放款账户属于另一单位 / the disbursement account belongs to another organisation",
                           "disbursement_account.holder_uscc")


def non_productive_purpose(purpose: str) -> RuleViolation:
    return RuleViolation(
        f"L2b: 贷款不得用于非生产性支出 ({purpose}) / a poverty loan may not fund non-productive use ({purpose})",
        code=codes.LOAN_NON_PRODUCTIVE_PURPOSE, rule="L2b", field="purpose",
    )


def benchmark_above_official(benchmark_rate_bp: int, official: int, *, issued_on: date,
                             term_months: int) -> RuleViolation:
    return RuleViolation(
        f"L2c: 申报的基准利率 {benchmark_rate_bp}bp 高于 {issued_on} 期限 {term_months} 个月的基准利率 "
        f"{official}bp / the declared benchmark is above the official one for this term on the issue date",
        code=codes.LOAN_RATE_ABOVE_BENCHMARK, rule="L2c", field="benchmark_rate_bp", official_benchmark_bp=official,
    )


def rate_above_benchmark(annual_rate_bp: int, benchmark_rate_bp: int) -> RuleViolation:
    return RuleViolation(
        f"L2c: 利率 {annual_rate_bp}bp 高于基准利率 {benchmark_rate_bp}bp / the rate is above the benchmark",
        code=codes.LOAN_RATE_ABOVE_BENCHMARK, rule="L2c", field="annual_rate_bp",
    )


def fees_charged(fees_fen: int) -> RuleViolation:
    return RuleViolation(
        f"L2c: 不得收取费用 ({fees_fen} 分) / fees raise the price above the benchmark covertly",
        code=codes.LOAN_RATE_ABOVE_BENCHMARK, rule="L2c", field="fees_fen",
    )


def collateral_required(field: str) -> RuleViolation:
    return RuleViolation(
        "L2d: 扶贫小额信贷免抵押免担保 / a poverty loan needs neither collateral nor a guarantee",
        code=codes.LOAN_COLLATERAL_REQUIRED, rule="L2d", field=field,
    )


def amount_over_cap(amount_fen: int) -> RuleViolation:
    return RuleViolation(
        f"L4: 贷款金额 {amount_fen} 分超过 5 万元 / the amount is over the 50,000 yuan cap",
        code=codes.LOAN_AMOUNT_OVER_CAP, rule="L4", field="amount_fen",
    )


def term_over_cap(term_months: int) -> RuleViolation:
    return RuleViolation(
        f"L4: 期限 {term_months} 个月超过 3 年 / the term is over 36 months",
        code=codes.LOAN_TERM_OVER_CAP, rule="L4", field="term_months",
    )


def household_over_cap(outstanding_fen: int, amount_fen: int) -> RuleViolation:
    return RuleViolation(
        f"L4: 该户未还本金 {outstanding_fen} 分加本笔 {amount_fen} 分超过 5 万元 / the household's outstanding "
        "principal with this loan would exceed 50,000 yuan",
        code=codes.LOAN_HOUSEHOLD_CAP, rule="L4", field="amount_fen",
    )


def repayment_before_issue() -> RuleViolation:
    return RuleViolation(
        "还款日期早于放款日期 / a repayment cannot precede the issue date",
        code=codes.REPAYMENT_BEFORE_ISSUE, field="paid_on",
    )


def repayment_over_outstanding(principal_fen: int, outstanding_fen: int) -> RuleViolation:
    return RuleViolation(
        f"还款本金 {principal_fen} 分超过未还本金 {outstanding_fen} 分 / the principal repaid is more than "
        "the principal outstanding",
        code=codes.REPAYMENT_OVER_OUTSTANDING, field="principal_fen",
    )


def extension_not_later() -> RuleViolation:
    return RuleViolation(
        "L5: 展期后的到期日须晚于原到期日 / the new maturity must lie after the original maturity",
        code=codes.EXTENSION_NOT_LATER, rule="L5", field="new_maturity_on",
    )


def extension_too_long() -> RuleViolation:
    return RuleViolation(
        "L5: 展期不得超过原到期日后 12 个月 / an extension reaches at most 12 months beyond the original maturity",
        code=codes.EXTENSION_TOO_LONG, rule="L5", field="new_maturity_on",
    )


# Subsidy settlement (issue #18 point 3: L11, L12, L13)


def subsidy_rate_overlap(county_code: str, period_from: date, period_to: date) -> Conflict:
    return Conflict(
        f"L11: 县 {county_code} 在 {period_from}–{period_to} 已有贴息利率 / county {county_code} already has a "
        "subsidy rate declared for part of this period: declare the periods without overlap",
        code=codes.SUBSIDY_RATE_OVERLAP, rule="L11", field="period_from",
    )


def subsidy_rate_not_declared(county_code: str, period_from: date, period_to: date) -> RuleViolation:
    return RuleViolation(
        f"L11: 县 {county_code} 未声明覆盖 {period_from}–{period_to} 的贴息利率 / no subsidy rate of county "
        f"{county_code} covers the whole period {period_from}–{period_to}: finance declares it first "
        "(POST /loans/subsidy-rates), or claim within one declared period",
        code=codes.SUBSIDY_RATE_NOT_DECLARED, rule="L11", field="period_from",
    )


def subsidy_period_too_long(days: int) -> RuleViolation:
    return RuleViolation(
        f"L12: 贴息申报期最长 {codes.SUBSIDY_MAX_PERIOD_DAYS} 天，本次 {days} 天 / a subsidy claim covers at most "
        f"{codes.SUBSIDY_MAX_PERIOD_DAYS} days ({days} asked): claim by quarter",
        code=codes.SUBSIDY_PERIOD_TOO_LONG, rule="L12", field="period_to",
    )


def subsidy_period_not_over(period_to: date) -> RuleViolation:
    return RuleViolation(
        f"L12: 申报期尚未结束（至 {period_to}）/ the period runs until {period_to} (not counted): claim it once it "
        "has ended",
        code=codes.SUBSIDY_PERIOD_NOT_OVER, rule="L12", field="period_to",
    )


def subsidy_already_claimed(loan_ids: list[str], claim_ids: list[str]) -> Conflict:
    shown = ", ".join(loan_ids[:5]) + ("…" if len(loan_ids) > 5 else "")
    return Conflict(
        f"L12: {len(loan_ids)} 笔贷款的该期贴息已申报 / the subsidy of {len(loan_ids)} loan(s) ({shown}) for part of "
        f"this period is already claimed (claims {', '.join(claim_ids[:5])}): claim another period",
        code=codes.SUBSIDY_ALREADY_CLAIMED, rule="L12", field="period_from", loan_ids=loan_ids[:100],
        claim_ids=claim_ids[:100],
    )


def subsidy_nothing_to_claim(county_code: str, lender_name: str) -> RuleViolation:
    return RuleViolation(
        f"L12: {lender_name} 在县 {county_code} 该期无贷款 / {lender_name} has no loan in county {county_code} "
        "issued before the period's end: nothing to claim",
        code=codes.SUBSIDY_NOTHING_TO_CLAIM, rule="L12", field="lender_name",
    )


def subsidy_claim_not_found(claim_id: str) -> NotFound:
    return NotFound(f"没有这笔贴息申报 / no subsidy claim {claim_id}")


def subsidy_claim_decided(claim_id: str, decision: str) -> Conflict:
    return Conflict(f"L13: 贴息申报 {claim_id} 已{'批准' if decision == 'approved' else '驳回'} / subsidy claim "
                    f"{claim_id} is already {decision}: a claim is decided once",
                    code=codes.SUBSIDY_CLAIM_DECIDED, rule="L13")


def subsidy_claim_settled(claim_id: str, decision: str) -> Conflict:
    """L13: funds settled the claim the other way first (its payment made, or voided by a rejection) while this
    decision was being made: nothing is recorded; the other decision is completed by asking it again."""
    paid = decision == "approved"
    zh, how = ("批准（已支付）", "its payment was made") if paid else ("驳回（已作废）", "its payment was voided")
    return Conflict(f"L13: 贴息申报 {claim_id} 正在{zh} / subsidy claim {claim_id} is being {decision} ({how} in "
                    "funds): a claim is decided once", code=codes.SUBSIDY_CLAIM_DECIDED, rule="L13",
                    decision=decision)


def subsidy_same_person(step: str) -> Forbidden:
    return Forbidden(
        f"L13: 贴息申报须由两人审核：{step} / a subsidy claim is checked and approved by two people of finance, "
        f"neither of them its submitter: {step}",
        code=codes.SUBSIDY_SAME_PERSON, rule="L13",
    )


def subsidy_not_checked(claim_id: str) -> Conflict:
    return Conflict(f"L13: 贴息申报 {claim_id} 尚未初审 / subsidy claim {claim_id} is not checked yet: a first "
                    "person of finance checks it (decision `checked`), then another approves it",
                    code=codes.SUBSIDY_NOT_CHECKED, rule="L13", field="decision")


def funds_refused(status: int, answer: dict[str, Any]) -> Problem:
    """Funds' own refusal of a move the loans service asked for (a subsidy payment, L13; a risk fund's money, L7,
    L9): INSUFFICIENT_FUNDS, an unregistered fund or county, RISK_MOVE_CONFLICT…, answered as funds gave it."""
    extra = {k: v for k, v in answer.items() if k in ("balance_fen", "account")}
    return Problem(str(answer.get("detail", "")), code=str(answer.get("code")), status=status,
                   field=answer.get("field"), rule=answer.get("rule"), **extra)


def funds_failed(status: int) -> ServiceUnavailable:
    return ServiceUnavailable(f"funds 服务出错 / the funds service answered {status}: nothing was recorded; retry "
                              "(funds moves a claim's or a record's money once)", service="funds")


# Risk-compensation funds and compensation claims (issue #18, rules L7–L10)


def risk_fund_not_found(fund_id: str) -> NotFound:
    return NotFound(f"没有这个风险补偿金 / no risk-compensation fund {fund_id}")


def claim_not_found(claim_id: str) -> NotFound:
    return NotFound(f"没有这笔代偿申请 / no compensation claim {claim_id}")


def risk_fund_exists(county_code: str, bank_name: str, fund_id: str) -> Conflict:
    return Conflict(
        f"L7: 县 {county_code} 与 {bank_name} 已设立风险补偿金 / county {county_code} already has a risk fund with "
        f"{bank_name}: {fund_id}", code=codes.RISK_FUND_EXISTS, rule="L7", field="bank_name", fund_id=fund_id,
    )


def capacity_exceeded(*, used_fen: int, amount_fen: int, capacity_fen: int, fund_id: str) -> RuleViolation:
    return RuleViolation(
        f"L7: 该行在本县的扶贫小额信贷余额 {used_fen} 分加本笔 {amount_fen} 分超过风险补偿金放大后的额度 "
        f"{capacity_fen} 分 / "
        "the bank's outstanding poverty loans in the county with this one would exceed the risk fund's deposit × "
        "leverage", code=codes.RISK_FUND_CAPACITY_EXCEEDED, rule="L7", field="amount_fen", fund_id=fund_id,
        used_fen=used_fen, capacity_fen=capacity_fen,
    )


def no_risk_fund(county_code: str, lender_name: str) -> RuleViolation:
    return RuleViolation(
        f"L8: 县 {county_code} 未与 {lender_name} 设立风险补偿金 / county {county_code} has no risk fund with "
        f"{lender_name}: there is nothing to claim from", code=codes.NO_RISK_FUND, rule="L8", field="loan_id",
    )


def claim_not_overdue(days_overdue: int, threshold: int) -> RuleViolation:
    return RuleViolation(
        f"L8: 贷款逾期 {days_overdue} 天，未超过风险补偿金约定的 {threshold} 天 / the loan is {days_overdue} days "
        f"overdue on the claim's date, not more than the fund's {threshold}",
        code=codes.CLAIM_NOT_OVERDUE, rule="L8", field="claimed_on", days_overdue=days_overdue,
        threshold_days=threshold,
    )


def loan_of_another_branch(loan_id: str) -> Forbidden:
    return Forbidden(
        f"L8: 贷款 {loan_id} 由其他网点发放，本网点不能为其申请代偿或登记追回 / loan {loan_id} was lent by another "
        "branch: a bank claims, and records recoveries, on its own branch's loans only",
        code=codes.LOAN_OF_ANOTHER_BRANCH, rule="L8", field="loan_id",
    )


def claim_loan_misused(alert_types: list[str]) -> RuleViolation:
    return RuleViolation(
        f"L8: 该贷款有未解决的违规使用预警 {', '.join(alert_types)} / the loan has an open misuse alert: the fund "
        "does not compensate a loan used against L2", code=codes.CLAIM_LOAN_MISUSED, rule="L8", field="loan_id",
        alert_types=alert_types,
    )


def claim_over_outstanding(principal_lost_fen: int, claimable_fen: int) -> RuleViolation:
    return RuleViolation(
        f"L8: 申请代偿本金 {principal_lost_fen} 分超过尚未申请的未还本金 {claimable_fen} 分 / the principal claimed is "
        "more than the principal outstanding not claimed already",
        code=codes.CLAIM_OVER_OUTSTANDING, rule="L8", field="principal_lost_fen", claimable_fen=claimable_fen,
    )


def dated_before(field: str, what_zh: str, what_en: str) -> RuleViolation:
    return RuleViolation(f"日期早于{what_zh} / the date precedes {what_en}", code=codes.CLAIM_BEFORE_ISSUE,
                         field=field)


def claim_decided(claim_id: str, decision: str) -> Conflict:
    return Conflict(f"L9: 代偿申请 {claim_id} 已{'批准' if decision == 'approved' else '驳回'} / claim {claim_id} is "
                    f"{decision} already", code=codes.CLAIM_DECIDED, rule="L9")


def claim_settled(claim_id: str, decision: str) -> Conflict:
    """L9: funds settled the claim the other way first (its compensation paid, or voided by a rejection) while this
    decision was being made: nothing is recorded; the other decision is completed by asking it again."""
    paid = decision == "approved"
    zh, how = ("批准（已代偿）", "its compensation was paid") if paid else ("驳回（已作废）", "its payment was voided")
    return Conflict(f"L9: 代偿申请 {claim_id} 正在{zh} / claim {claim_id} is being {decision} ({how} in funds): a "
                    "claim is decided once", code=codes.CLAIM_DECIDED, rule="L9", decision=decision)


def self_approval() -> Forbidden:
    return Forbidden("L9: 代偿申请须由录入人以外的人审批 / the one who recorded a claim may not decide it",
                     code=codes.CLAIM_SELF_APPROVAL, rule="L9")


def claim_not_approved(claim_id: str) -> Conflict:
    return Conflict(f"L9: 代偿申请 {claim_id} 未获批准代偿 / claim {claim_id} was not compensated: no recovery to "
                    "return", code=codes.CLAIM_NOT_APPROVED, rule="L9")


def recovery_raced(claim_id: str) -> Conflict:
    return Conflict(f"代偿申请 {claim_id} 的另一笔追回款刚刚记录，请重新提交 / another recovery of claim {claim_id} "
                    "was recorded meanwhile: send this one again")


def recovery_over_lost(recovered_fen: int, lost_fen: int) -> RuleViolation:
    return RuleViolation(
        f"L9: 累计追回 {recovered_fen} 分超过申请代偿的本金 {lost_fen} 分 / the principal recovered would exceed the "
        "principal claimed lost", code=codes.RECOVERY_OVER_LOST, rule="L9", field="amount_fen",
    )



# Issue #18's loan records (L14–L19, docs/rules.md "Loan records"): renewals, extensions' dates, the 一自两合
# records, the provinces' product names, the credit-line import


def renewal_exists(loan_id: str) -> Conflict:
    return Conflict(f"L14: 该贷款已续贷一次 / loan {loan_id} has been renewed once already (at most "
                    f"{codes.RENEWAL_LIMIT})", code=codes.RENEWAL_EXISTS, rule="L14")


def renewal_other_household(household_id: str) -> RuleViolation:
    return RuleViolation(
        f"L14: 续贷须贷给原贷款的农户 {household_id} / a renewal is lent to the old loan's household, {household_id}",
        code=codes.RENEWAL_OTHER_HOUSEHOLD, rule="L14", field="household_id",
    )


def renewal_not_later(old_issued_on: date) -> RuleViolation:
    return RuleViolation(
        f"L14: 续贷的放款日须晚于原贷款的放款日 {old_issued_on} / a renewal is issued after the loan it renews",
        code=codes.RENEWAL_NOT_LATER, rule="L14", field="issued_on",
    )


def renewal_old_loan_outstanding(outstanding_fen: int, issued_on: date) -> RuleViolation:
    return RuleViolation(
        f"L14: 原贷款在 {issued_on} 尚有未还本金 {outstanding_fen} 分，须先还清 / the old loan still owes "
        f"{outstanding_fen} fen on the new loan's issue date: record its repayment first",
        code=codes.RENEWAL_OLD_LOAN_OUTSTANDING, rule="L14", field="issued_on", outstanding_fen=outstanding_fen,
    )


def extension_before_issue() -> RuleViolation:
    return RuleViolation("L14: 展期日期早于放款日期 / an extension cannot be agreed before the loan was issued",
                         code=codes.EXTENSION_BEFORE_ISSUE, rule="L14", field="extended_on")


def agreement_missing() -> RuleViolation:
    return RuleViolation(
        "L15: 户贷社管须附农户与合作社的委托协议 / a cooperative-mode loan needs the household's entrustment "
        "agreement with the cooperative (agreement: signed_on, cooperative_uscc, return_terms, document_sha256)",
        code=codes.LOAN_AGREEMENT_MISSING, rule="L15", field="agreement",
    )


def agreement_of_another_cooperative() -> RuleViolation:
    return RuleViolation(
        "L15: 委托协议须与本笔贷款的合作社签订 / the agreement must be with the loan's own cooperative",
        code=codes.LOAN_AGREEMENT_MISSING, rule="L15", field="agreement.cooperative_uscc",
    )


def agreement_after_issue() -> RuleViolation:
    return RuleViolation(
        "L15: 委托协议须在放款前签订 / the agreement is signed on or before the issue date",
        code=codes.LOAN_AGREEMENT_MISSING, rule="L15", field="agreement.signed_on",
    )


def partners_missing() -> RuleViolation:
    return RuleViolation(
        "L16: 合伙发展须列明合伙农户 / a partnership-mode loan names its partner households (partners)",
        code=codes.LOAN_PARTNERS_MISSING, rule="L16", field="partners",
    )


def partner_is_borrower(index: int) -> RuleViolation:
    return RuleViolation("L16: 合伙农户不能是借款户本身 / a partner is another household than the borrower's",
                         code=codes.LOAN_PARTNERS_MISSING, rule="L16", field=f"partners.{index}")


def partner_not_registered(index: int, household_id: str, issued_on: date) -> RuleViolation:
    return RuleViolation(
        f"L16: 合伙农户 {household_id} 在 {issued_on} 不在建档立卡名册中 / partner household {household_id} is not "
        "on the roster on the issue date",
        code=codes.PARTNER_NOT_REGISTERED, rule="L16", field=f"partners.{index}",
    )


def loan_not_cooperative(mode: str) -> RuleViolation:
    return RuleViolation(
        f"L17: 仅户贷社管的贷款记录合作社给农户的收益 (本笔为 {mode}) / returns are recorded on cooperative-mode loans",
        code=codes.LOAN_NOT_COOPERATIVE, rule="L17", field="loan_id",
    )


def return_before_issue() -> RuleViolation:
    return RuleViolation("L17: 收益日期早于放款日期 / a return cannot precede the issue date",
                         code=codes.RETURN_BEFORE_ISSUE, rule="L17", field="paid_on")


def product_renamed(official: Sequence[str]) -> RuleViolation:
    names = "、".join(official)
    return RuleViolation(
        f"L2e, L18: 产品名称须为本省登记的名称 ({names}) / the product is sold under its national name or one its "
        f"province registered: {names}",
        code=codes.LOAN_PRODUCT_RENAMED, rule="L2e", field="product_name", official_names=list(official),
    )


def product_name_exists(province_code: str, name: str) -> Conflict:
    return Conflict(f"L18: {province_code} 已登记产品名称 {name} / the province has registered this name already",
                    code=codes.PRODUCT_NAME_EXISTS, rule="L18")


def not_csv(media_type: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"应为 text/csv (UTF-8) / the body must be text/csv (UTF-8), not {media_type or 'unspecified'}",
        field="content-type",
    )


def credit_lines_header(found: list[str]) -> ValidationProblem:
    header = ",".join(codes.CREDIT_LINES_HEADER)
    return ValidationProblem(
        f"L19: 首行须为 {header} / the first line must be the header {header}, not {','.join(found[:6])}",
        rule="L19", field="body",
    )
