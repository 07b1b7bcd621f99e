"""The funds rules as pure functions: both sides of each."""

from __future__ import annotations

import pytest

from services.funds import codes, rules
from services.kernel.errors import Problem


def code_of(fn: object, *args: object, **kwargs: object) -> str | None:
    try:
        fn(*args, **kwargs)  # type: ignore[operator]
    except Problem as problem:
        return problem.code
    return None


@pytest.mark.parametrize(("frm", "to", "ok"), [
    ("000000", "430000", True), ("000000", "430523", True), ("430000", "430500", True), ("430000", "430523", True),
    ("430500", "430523", True), ("430000", "440500", False), ("430500", "430600", False), ("430500", "430623", False),
    ("430500", "430000", False), ("430523", "430524", False), ("430000", "430000", False), ("430000", "000000", False),
])
def test_direction(frm: str, to: str, ok: bool) -> None:
    assert rules.is_below(frm, to) is ok
    assert code_of(rules.check_allocation_direction, frm, to) == (None if ok else codes.ALLOCATION_DIRECTION)


def test_block_grant_f1() -> None:
    pilot = {"poor": True, "integration_pilot": True}
    assert rules.is_block_grant(integrable=True, county=pilot)
    assert not rules.is_block_grant(integrable=False, county=pilot)
    assert not rules.is_block_grant(integrable=True, county={"poor": True, "integration_pilot": False})
    assert not rules.is_block_grant(integrable=True, county={"poor": False, "integration_pilot": True})
    assert not rules.is_block_grant(integrable=True, county=None)
    related = [{"poverty_related": True}]
    assert code_of(rules.check_block_grant, block_grant=True, designated_project_id="p", tasks=[]) == \
        codes.BLOCK_GRANT_DESIGNATED_PROJECT
    assert code_of(rules.check_block_grant, block_grant=True, designated_project_id=None,
                   tasks=[*related, {"poverty_related": False}]) == codes.BLOCK_GRANT_UNRELATED_TASK
    assert code_of(rules.check_block_grant, block_grant=True, designated_project_id=None, tasks=related) is None
    assert code_of(rules.check_block_grant, block_grant=False, designated_project_id="p",
                   tasks=[{"poverty_related": False}]) is None


def test_library_budget_negative_list_arranged_and_card_account() -> None:
    project = {"county_code": "430523", "status": "approved", "category": "industry", "budget_fen": 100}
    assert code_of(rules.check_project_in_library, project, county_code="430523", project_id="p") is None
    assert code_of(rules.check_project_in_library, {**project, "status": "in_progress"}, county_code="430523",
                   project_id="p") is None
    for bad in ({**project, "status": "announced"}, {**project, "county_code": "430524"}, None):
        assert code_of(rules.check_project_in_library, bad, county_code="430523", project_id="p") == \
            codes.PROJECT_NOT_IN_LIBRARY
    assert code_of(rules.check_within_budget, arranged_fen=60, amount_fen=40, budget_fen=100) is None
    assert code_of(rules.check_within_budget, arranged_fen=60, amount_fen=41, budget_fen=100) == \
        codes.OVER_PROJECT_BUDGET
    assert code_of(lambda c: rules.check_not_negative_list(c, negative_list=True), "office_building") == (
        codes.NEGATIVE_LIST
    )
    assert code_of(lambda c: rules.check_not_negative_list(c, negative_list=False), "industry") is None
    assert code_of(rules.check_within_arranged, project_balance_fen=5, amount_fen=5) is None
    assert code_of(rules.check_within_arranged, project_balance_fen=5, amount_fen=6) == codes.OVER_ARRANGED
    household = {"card_account": "6217", "county_code": "430523"}
    assert code_of(rules.check_household_account, household, account_no="6217") is None
    assert code_of(rules.check_household_account, household, account_no="6218") == codes.PAYEE_NOT_HOUSEHOLD_ACCOUNT
    in_county = {"county_code": "430523", "household_id": "h"}
    assert code_of(rules.check_payee_household_of, household, **in_county) is None
    assert code_of(rules.check_payee_household_of, household, county_code="431023", household_id="h") == \
        codes.PAYEE_NOT_IN_COUNTY
    assert code_of(rules.check_payee_household_of, None, **in_county) == codes.PAYEE_NOT_IN_COUNTY


def test_ineligibility_f10_names_the_registry_judgement() -> None:
    """The registry decides (its eligibility on the payment date); F10 names the finding as the alert reports it."""
    def judged(reasons: list[str], status: str | None = "poor") -> dict[str, object]:
        return {"reasons": reasons, "status": status}

    assert rules.ineligibility_on_date(judged([])) is None
    assert rules.ineligibility_on_date(judged([], "returned")) is None
    assert rules.ineligibility_on_date(judged(["not_poor"], "not_poor")) == "status_not_poor"
    assert rules.ineligibility_on_date(judged(["village_cadre"])) == "village_cadre"
    assert rules.ineligibility_on_date(judged(["not_poor", "village_cadre"], "not_poor")) == "village_cadre"
    assert rules.ineligibility_on_date(judged(["not_registered"], None)) == "not_registered"


def test_draw_empties_accounts_in_order() -> None:
    assert rules.draw([(1, 5), (2, 10)], 12) == [rules.Draw(1, 5), rules.Draw(2, 7)]
    assert rules.draw([(1, 0), (2, 10)], 10) == [rules.Draw(2, 10)]
    assert rules.draw([(1, 5), (2, 10)], 16) is None


def test_growth_parity_f2_and_zero_denominators() -> None:
    below = rules.growth_parity(poor_prev=100, poor_curr=105, all_prev=200, all_curr=300)
    assert (below.poor_growth, below.average_growth, below.ok) == (0.05, 0.5, False)
    equal = rules.growth_parity(poor_prev=100, poor_curr=150, all_prev=200, all_curr=300)
    assert equal.ok  # not lower than the average
    assert rules.growth_parity(poor_prev=0, poor_curr=0, all_prev=0, all_curr=10) == rules.Growth(None, None, True)
    assert rules.growth_parity(poor_prev=0, poor_curr=5, all_prev=10, all_curr=20).ok
    assert not rules.growth_parity(poor_prev=0, poor_curr=0, all_prev=10, all_curr=20).ok
    assert rules.growth_parity(poor_prev=0, poor_curr=0, all_prev=10, all_curr=5).ok
    # Exact comparison: 1/3 vs 1/3 is equal, not lower because of float rounding.
    assert rules.growth_parity(poor_prev=3, poor_curr=4, all_prev=300, all_curr=400).ok


def test_responsibility_o13_the_finance_bureau_else_the_recorder() -> None:
    assert rules.responsible_org(recorded_by_org="org_a", finance_bureau="org_bureau") == "org_bureau"
    assert rules.responsible_org(recorded_by_org="org_a", finance_bureau=None) == "org_a"
    assert rules.reversal_responsible_org(target_responsible_org="org_bureau", recorded_by_org="org_a") == "org_bureau"
    assert rules.reversal_responsible_org(target_responsible_org=None, recorded_by_org="org_a") == "org_a"
