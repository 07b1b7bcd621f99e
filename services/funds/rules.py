"""The funds rules as pure functions (DOMAIN.md F1–F10): each checks one thing and raises the problem it names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from services.funds import codes
from services.kernel.errors import Conflict, RuleViolation
from services.kernel.regions import region_level


def is_below(from_region: str, to_region: str) -> bool:
    """Is `to_region` strictly below `from_region` in the hierarchy (centre → province → city → county)?"""
    level = region_level(from_region)
    if from_region == to_region or region_level(to_region) == "central":
        return False
    if level == "central":
        return True
    if level == "province":
        return to_region[:2] == from_region[:2]
    if level == "city":
        return to_region[:4] == from_region[:4] and region_level(to_region) == "county"
    return False


def check_allocation_direction(from_region: str, to_region: str) -> None:
    """Allocations go only downwards, to a region below the issuer (API.md ALLOCATION_DIRECTION)."""
    if not is_below(from_region, to_region):
        raise RuleViolation(
            f"资金只能向下级下达 / an allocation goes only downwards: {to_region} is not below {from_region}",
            code=codes.ALLOCATION_DIRECTION,
            field="to_region",
        )


def is_block_grant(*, integrable: bool, county: Mapping[str, Any] | None) -> bool:
    """F1: integrable money to a poor county that is an integration pilot is a block grant (切块下达).
    F7: only money of a fund source inside the integration scope (`integrable`) is ever pooled."""
    return bool(integrable and county is not None and county["poor"] and county["integration_pilot"])


def check_block_grant(
    *, block_grant: bool, designated_project_id: str | None, tasks: Sequence[Mapping[str, Any]]
) -> None:
    """F1: a block grant designates no project and attaches no task unrelated to poverty alleviation."""
    if not block_grant:
        return
    if designated_project_id:
        raise RuleViolation(
            "切块下达的整合资金不得指定具体项目 / a block grant to a pilot poor county may not designate a "
            "project (F1)",
            code=codes.BLOCK_GRANT_DESIGNATED_PROJECT,
            rule="F1",
            field="designated_project_id",
        )
    for index, task in enumerate(tasks):
        if not task["poverty_related"]:
            raise RuleViolation(
                "切块下达的整合资金不得提出与脱贫攻坚无关的任务要求 / a block grant may not attach a task "
                f"unrelated to poverty alleviation (F1): tasks[{index}]",
                code=codes.BLOCK_GRANT_UNRELATED_TASK,
                rule="F1",
                field=f"tasks.{index}.poverty_related",
            )


def destination_kind(*, block_grant: bool) -> str:
    """F7: integrable money that reaches a pilot poor county is pooled (统筹整合); anything else stays in its fund."""
    return "pool" if block_grant else "fund"


def check_project_in_library(project: Mapping[str, Any] | None, *, county_code: str, project_id: str) -> None:
    """F4: only projects approved into this county's library (入库) receive integrated money."""
    if project is None or project["county_code"] != county_code:
        # another county's project is answered as no project at all: not its county, nor its status (A5)
        reason = f"不在 {county_code} 县项目库中 / is not in the project library of county {county_code}"
    elif project["status"] not in codes.LIBRARY_STATUSES:
        reason = f"状态为 {project['status']}，未入库 / is {project['status']}, not approved into the library"
    else:
        return
    raise RuleViolation(
        f"项目 {project_id} {reason} (F4)", code=codes.PROJECT_NOT_IN_LIBRARY, rule="F4", field="project_id"
    )


def check_not_negative_list(category: str, *, negative_list: bool) -> None:
    """F5: poverty funds never pay for what is on the negative list (负面清单). The projects service owns the
    categories and says whether a project's is on the list."""
    if negative_list:
        raise RuleViolation(
            f"项目类别 {category} 属于负面清单 / category {category} is on the negative list (F5)",
            code=codes.NEGATIVE_LIST,
            rule="F5",
            field="project_id",
        )


def check_within_budget(*, arranged_fen: int, amount_fen: int, budget_fen: int) -> None:
    """F4: across all arrangements a project never receives more than its budget."""
    if arranged_fen + amount_fen > budget_fen:
        raise RuleViolation(
            f"超出项目预算 / over the project's budget (F4): already arranged {arranged_fen} + {amount_fen} > "
            f"budget {budget_fen} fen",
            code=codes.OVER_PROJECT_BUDGET,
            rule="F4",
            field="amount_fen",
        )


def check_project_in_progress(project: Mapping[str, Any] | None, *, project_id: str) -> None:
    """Payments are made to a project under implementation (实施) only."""
    if project is None:
        raise RuleViolation(
            f"项目 {project_id} 不在项目库中 / project {project_id} is not in the library (F4)",
            code=codes.PROJECT_NOT_IN_LIBRARY,
            rule="F4",
            field="project_id",
        )
    if project["status"] != "in_progress":
        raise RuleViolation(
            f"项目状态为 {project['status']}，不能支付 / project {project_id} is {project['status']}, "
            "payments need it in_progress",
            code=codes.PROJECT_NOT_IN_PROGRESS,
            field="project_id",
        )


def check_within_arranged(*, project_balance_fen: int, amount_fen: int) -> None:
    """A project pays out at most what was arranged to it and not yet paid."""
    if amount_fen > project_balance_fen:
        raise RuleViolation(
            f"超出已安排未支付的资金 / more than arranged and not yet paid: {amount_fen} > {project_balance_fen} fen",
            code=codes.OVER_ARRANGED,
            field="amount_fen",
        )


def check_payee_household_of(household: Mapping[str, Any] | None, *, county_code: str, household_id: str) -> None:
    """S9 (A5): a project pays households on its own county's roster (F6: only a registered household). A household
    of another county is answered as one not on the roster at all: the answer says nothing about other counties."""
    if household is None or household["county_code"] != county_code:
        raise RuleViolation(
            f"农户 {household_id} 不在项目所在县的建档立卡名册中 (S9) / household {household_id} is not on the poverty "
            "roster of the project's county (S9)",
            code=codes.PAYEE_NOT_IN_COUNTY, rule="S9", field="payee.id",
        )


def check_household_account(household: Mapping[str, Any], *, account_no: str) -> None:
    """F6: a household is paid into its registered 一卡通 account (compared last: the caller sees it masked, S6)."""
    if household["card_account"] != account_no:
        raise RuleViolation(
            "收款账户不是该户登记的一卡通账户 (F6) / the account is not the household's registered card account (F6)",
            code=codes.PAYEE_NOT_HOUSEHOLD_ACCOUNT, rule="F6", field="payee.account_no",
        )


NOT_REGISTERED = codes.REGISTRY_NOT_REGISTERED


def ineligibility_on_date(eligibility: Mapping[str, Any]) -> str | None:
    """F10 on the payment date: why the household could not receive poverty money then, or None if it could.

    The registry decides (its eligibility on that date, the one definition of L1, P3 and F10); this names the
    finding as the INELIGIBLE_PAYEE alert reports it: `not_registered` (建档立卡 later than the payment: not a
    registered poor household when paid, as an inspector matching payments against that day's roster would find;
    F6 only checked, when the payment was recorded, that the household exists now), `village_cadre`, or
    `status_<status>`.
    """
    reasons = eligibility["reasons"]
    if not reasons:
        return None
    if NOT_REGISTERED in reasons:
        return NOT_REGISTERED
    if codes.REGISTRY_VILLAGE_CADRE in reasons:
        return codes.REGISTRY_VILLAGE_CADRE
    return f"status_{eligibility['status']}"


@dataclass(frozen=True)
class Draw:
    account_id: int
    amount_fen: int


def draw(balances: Sequence[tuple[int, int]], amount_fen: int) -> list[Draw] | None:
    """Take `amount_fen` from accounts in the given order, emptying each before the next; None if they hold too
    little. Every movement is then one transfer per account drawn."""
    parts: list[Draw] = []
    remaining = amount_fen
    for account_id, balance in balances:
        if remaining == 0:
            break
        take = min(balance, remaining)
        if take > 0:
            parts.append(Draw(account_id, take))
            remaining -= take
    return parts if remaining == 0 else None


def insufficient(detail: str, **extra: Any) -> Conflict:
    return Conflict(f"余额不足 / insufficient funds: {detail}", code=codes.INSUFFICIENT_FUNDS, **extra)


@dataclass(frozen=True)
class Growth:
    poor_growth: float | None
    average_growth: float | None
    ok: bool


def growth_parity(*, poor_prev: int, poor_curr: int, all_prev: int, all_curr: int) -> Growth:
    """F2: the increase of what poor counties receive is not below the fund's average increase.

    Zero denominators: with nothing allocated in the previous year at all (all_prev = 0) there is no baseline and
    the rule holds (average_growth and poor_growth are null). With money the year before but none of it to poor
    counties (poor_prev = 0), poor_growth is null and the rule holds if poor counties now receive something, or if
    the fund did not grow (average_growth ≤ 0). Comparisons are exact (fractions), the figures rounded to 6 places.
    """
    if all_prev == 0:
        return Growth(None, None, True)
    average = Fraction(all_curr - all_prev, all_prev)
    if poor_prev == 0:
        return Growth(None, round(float(average), 6), poor_curr > 0 or average <= 0)
    poor = Fraction(poor_curr - poor_prev, poor_prev)
    return Growth(round(float(poor), 6), round(float(average), 6), poor >= average)
