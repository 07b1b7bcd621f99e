"""The funds rules as pure functions (DOMAIN.md F1–F10): each checks one thing and raises the problem it names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from services.funds import codes, problems
from services.kernel.regions import covers, region_level


def is_below(from_region: str, to_region: str) -> bool:
    """Is `to_region` strictly below `from_region` in the hierarchy (centre → province → city → county)? Below means
    inside the issuer's region (kernel/regions.py `covers`), and a city passes money to its counties only."""
    level = region_level(from_region)
    if from_region == to_region or region_level(to_region) == "central" or level == "county":
        return False
    if level == "city" and region_level(to_region) != "county":
        return False
    return covers(from_region, to_region)


def check_source_province(level: str, province_code: str | None) -> None:
    """F21: a provincial source names the province it belongs to; a central one belongs to none."""
    if (level == "provincial") != (province_code is not None):
        raise problems.source_province(level)


def check_appropriated_in_province(fund_source: str, province_code: str | None, region_code: str) -> None:
    """F21: a provincial source's money is appropriated in its own province only (so, allocations going only
    downwards, it never leaves it); a central source's anywhere."""
    if province_code is not None and not covers(province_code, region_code):
        raise problems.source_outside_province(fund_source, province_code, region_code)


def check_allocation_direction(from_region: str, to_region: str) -> None:
    """Allocations go only downwards, to a region below the issuer (API.md ALLOCATION_DIRECTION)."""
    if not is_below(from_region, to_region):
        raise problems.allocation_direction(from_region, to_region)


def is_block_grant(*, integrable: bool, county: Mapping[str, Any] | None) -> bool:
    """F1: integrable money to a poor county that is an integration pilot is a block grant (切块下达), pooled.
    F7: only money of a fund source inside the integration scope (`integrable`) is ever pooled."""
    return bool(integrable and county is not None and county["poor"] and county["integration_pilot"])


def is_issued_in_blocks(*, integrable: bool, to_region: str, county: Mapping[str, Any] | None) -> bool:
    """F1 (extended) at every hop (seed 002: "由省级主管部门一律切块下达，不得指定具体项目"): integrable money on
    its way down, to a province or a city, is issued in blocks too, whatever county it ends in; at a county, only a
    pilot poor county's is (`is_block_grant`)."""
    if region_level(to_region) in ("province", "city"):
        return integrable
    return is_block_grant(integrable=integrable, county=county)


def check_block_grant(
    *, block_grant: bool, designated_project_id: str | None, tasks: Sequence[Mapping[str, Any]]
) -> None:
    """F1: a block grant designates no project and attaches no task unrelated to poverty alleviation."""
    if not block_grant:
        return
    if designated_project_id:
        raise problems.block_grant_designated_project()
    for index, task in enumerate(tasks):
        if not task["poverty_related"]:
            raise problems.block_grant_unrelated_task(index)


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
    raise problems.project_not_in_library(project_id, reason)


def check_not_negative_list(category: str, *, negative_list: bool) -> None:
    """F5: poverty funds never pay for what is on the negative list (负面清单). The projects service owns the
    categories and says whether a project's is on the list."""
    if negative_list:
        raise problems.negative_list(category)


def check_within_budget(*, arranged_fen: int, amount_fen: int, budget_fen: int) -> None:
    """F4: across all arrangements a project never receives more than its budget."""
    if arranged_fen + amount_fen > budget_fen:
        raise problems.over_project_budget(arranged_fen=arranged_fen, amount_fen=amount_fen, budget_fen=budget_fen)


def check_project_in_progress(project: Mapping[str, Any] | None, *, project_id: str) -> None:
    """Payments are made to a project under implementation (实施) only."""
    if project is None:
        raise problems.project_not_in_library(project_id, "不在项目库中 / is not in the library")
    if project["status"] != "in_progress":
        raise problems.project_not_in_progress(project_id, project["status"])


def check_within_arranged(*, project_balance_fen: int, amount_fen: int) -> None:
    """A project pays out at most what was arranged to it and not yet paid."""
    if amount_fen > project_balance_fen:
        raise problems.over_arranged(amount_fen=amount_fen, project_balance_fen=project_balance_fen)


def check_payee_household_of(household: Mapping[str, Any] | None, *, county_code: str, household_id: str) -> None:
    """S9 (A5): a project pays households on its own county's roster (F6: only a registered household). A household
    of another county is answered as one not on the roster at all: the answer says nothing about other counties."""
    if household is None or household["county_code"] != county_code:
        raise problems.payee_not_in_county(household_id)


def check_household_account(household: Mapping[str, Any], *, account_no: str) -> None:
    """F6: a household is paid into its registered 一卡通 account (compared last: the caller sees it masked, S6)."""
    if household["card_account"] != account_no:
        raise problems.payee_not_household_account()


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


def responsible_org(*, recorded_by_org: str | None, finance_bureau: str | None) -> str | None:
    """O13 (issue #16): who answers for a funds record. The finance bureau (an organisation of kind `finance_bureau`
    registered for exactly the record's region, the first registered if several) answers for the money of its
    region: an appropriation into it, an allocation it issues, a county's pool, the arrangements out of the pool
    and the payments out of its projects. Where the region has none registered, the organisation that recorded
    the record answers for it. A reversal answers to whoever answers for the record it corrects
    (`reversal_responsible_org`)."""
    return finance_bureau or recorded_by_org


def reversal_responsible_org(*, target_responsible_org: str | None, recorded_by_org: str | None) -> str | None:
    """O13: a correction is answered for by the organisation responsible for the record it corrects; a record made
    before organisations were (none kept) leaves it to the organisation recording the correction."""
    return target_responsible_org or recorded_by_org


def holding_responsible_org(*, finance_bureau: str | None) -> str | None:
    """O13 for money held rather than a record (IDLE_FUNDS, LATE_PASS_DOWN, GROWTH_BELOW_AVERAGE): the finance bureau
    of the region holding it (a county's pool and project accounts, a province's or city's treasury and fund
    accounts, a province's allocations) answers for it; with none registered the alert names none (no record, so no
    recorder)."""
    return finance_bureau
