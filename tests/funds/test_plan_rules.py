"""F15–F18 as pure functions, both sides of each boundary, without a database (the routes are tested through the
gateway in test_plans.py and test_input_obligations.py)."""

from __future__ import annotations

import pytest

from services.funds import codes, input_rules, plan_rules
from services.kernel.errors import Problem

PLAN = plan_rules.PlanInForce("pln_1", 2, {"prj_a": 300})


def refusal(call: object) -> Problem:
    assert callable(call)
    with pytest.raises(Problem) as caught:
        call()
    return caught.value


def test_f15_within_the_plan_in_force() -> None:
    plan_rules.check_in_plan(PLAN, required=True, county_code="430523", year=2018, project_id="prj_a",
                             arranged_fen=200, amount_fen=100)
    beyond = refusal(lambda: plan_rules.check_in_plan(PLAN, required=False, county_code="430523", year=2018,
                                                      project_id="prj_a", arranged_fen=200, amount_fen=101))
    assert (beyond.code, beyond.field, beyond.rule) == (codes.NOT_IN_PLAN, "amount_fen", "F15")
    outside = refusal(lambda: plan_rules.check_in_plan(PLAN, required=False, county_code="430523", year=2018,
                                                       project_id="prj_b", arranged_fen=0, amount_fen=1))
    assert (outside.code, outside.field) == (codes.NOT_IN_PLAN, "project_id")


@pytest.mark.parametrize(("pilot", "declared", "refused"), [
    (True, True, True), (True, False, False), (False, True, False), (False, False, False)])
def test_f15_no_plan_is_refused_only_where_one_is_required(pilot: bool, declared: bool, refused: bool) -> None:
    required = plan_rules.plan_required(pilot=pilot, declared=declared)

    def arrange() -> None:
        plan_rules.check_in_plan(None, required=required, county_code="430523", year=2018, project_id="prj_a",
                                 arranged_fen=0, amount_fen=1)

    if refused:
        assert refusal(arrange).code == codes.NOT_IN_PLAN
    else:
        arrange()


def test_f16_balanced_covering_and_reportable() -> None:
    plan_rules.check_balanced(sources=[100, 50], projects=[150])
    assert refusal(lambda: plan_rules.check_balanced(sources=[100], projects=[101])).code == codes.PLAN_UNBALANCED
    plan_rules.check_covers_arranged([("prj_a", 200)], arranged={"prj_a": 200})
    below = refusal(lambda: plan_rules.check_covers_arranged([("prj_a", 199)], arranged={"prj_a": 200}))
    assert (below.code, below.field) == (codes.PLAN_BELOW_ARRANGED, "projects.0.amount_fen")
    dropped = refusal(lambda: plan_rules.check_covers_arranged([], arranged={"prj_a": 1}))
    assert dropped.code == codes.PLAN_BELOW_ARRANGED
    plan_rules.check_reportable(version=3, latest=3, reported=False)
    assert refusal(lambda: plan_rules.check_reportable(version=2, latest=3, reported=False)).code == \
        codes.PLAN_VERSION_SUPERSEDED
    assert refusal(lambda: plan_rules.check_reportable(version=3, latest=3, reported=True)).code == \
        codes.PLAN_ALREADY_REPORTED


def test_f17_revenue_increment_rounds_the_requirement_up() -> None:
    judged = input_rules.revenue_increment(share_bp=1_500, revenue_prev=1_000, revenue_curr=1_067,
                                           appropriated_fen=11)
    assert (judged.status, judged.required_fen) == ("pass", 11)  # 15 % of 67 is 10.05: 11
    assert input_rules.revenue_increment(share_bp=1_500, revenue_prev=1_000, revenue_curr=1_067,
                                         appropriated_fen=10).status == "fail"
    shrunk = input_rules.revenue_increment(share_bp=2_000, revenue_prev=1_000, revenue_curr=900, appropriated_fen=0)
    assert (shrunk.status, shrunk.required_fen) == ("pass", 0)
    assert input_rules.revenue_increment(share_bp=2_000, revenue_prev=None, revenue_curr=900,
                                         appropriated_fen=0).status == "no_figures"


def test_f17_f18_recovered_growth_industry() -> None:
    assert input_rules.recovered_idle(share_bp=5_000, recovered_fen=3, to_poverty_fen=2).status == "pass"
    assert input_rules.recovered_idle(share_bp=5_000, recovered_fen=3, to_poverty_fen=1).status == "fail"
    assert input_rules.recovered_idle(share_bp=5_000, recovered_fen=0, to_poverty_fen=0).status == "pass"
    assert input_rules.year_on_year_growth(appropriated_prev=5, appropriated_curr=6).status == "pass"
    assert input_rules.year_on_year_growth(appropriated_prev=5, appropriated_curr=5).status == "fail"
    assert input_rules.year_on_year_growth(appropriated_prev=0, appropriated_curr=0).status == "fail"
    assert input_rules.industry_share(share_bp=5_000, arranged_fen=100, industry_fen=50).status == "pass"
    assert input_rules.industry_share(share_bp=5_000, arranged_fen=100, industry_fen=49).status == "fail"
