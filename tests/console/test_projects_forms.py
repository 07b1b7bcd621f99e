"""The county office's forms read as the API takes them: 元 to integer fen exactly (Decimal, at most 2 decimals, not
negative), a refusal's field renamed to the form field that carries it, the countdown's last day."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from gateway.console.projects import forms, view


@pytest.mark.parametrize(
    ("typed", "fen"),
    [("1", 100), ("0.01", 1), ("1,234,567.89", 123_456_789), ("12.30", 1230), ("0", 0), (" 7.5 ", 750),
     ("100000000.00", 10_000_000_000)],
)
def test_yuan_become_exact_fen(typed: str, fen: int) -> None:
    assert forms.yuan_to_fen(typed, "budget_yuan", "zh") == fen


@pytest.mark.parametrize("typed", ["12.345", "-1", "0.001", "1e-3"])
def test_more_than_two_decimals_or_negative_is_refused_beside_the_field(typed: str) -> None:
    with pytest.raises(forms.FormProblem) as refused:
        forms.yuan_to_fen(typed, "budget_yuan", "zh")
    assert refused.value.problem["field"] == "budget_yuan" and refused.value.problem["status"] == 422
    assert "两位小数" in refused.value.problem["detail"]


@pytest.mark.parametrize("typed", ["", "abc", "NaN", "Infinity", "1e999999999"])
def test_what_is_not_an_amount_is_refused(typed: str) -> None:
    with pytest.raises(forms.FormProblem) as refused:
        forms.yuan_to_fen(typed, "budget_yuan", "en")
    assert refused.value.problem["detail"].startswith("enter an amount in yuan")


def test_a_registration_form_becomes_the_api_body() -> None:
    form = FormData([
        ("county_code", "430124"), ("village_code", "430124101001"), ("name", " 光伏电站 "), ("category", "industry"),
        ("budget_yuan", "50,000.5"), ("start_on", "2026-03-01"), ("end_on", "2026-12-31"),
        ("beneficiary_household_ids", "hh-1\nhh-2, hh-3\n\n"), ("benefit_mechanism", "分红"),
        ("indicator_0", "增收"), ("target_0", "3000元"), ("indicator_1", ""), ("target_1", ""),
        ("responsible_unit", ""),
    ])
    body = forms.project_body(form, "zh")
    assert body["budget_fen"] == 5_000_050 and body["name"] == "光伏电站"
    assert body["beneficiary_household_ids"] == ["hh-1", "hh-2", "hh-3"]
    assert body["performance_targets"] == [{"indicator": "增收", "target": "3000元"}]
    assert "responsible_unit" not in body  # empty: left to the API's default


def test_each_move_sends_only_what_it_takes() -> None:
    announce = FormData([("start_on", "2026-12-06"), ("days", "10"), ("scope", "village"),
                         ("evidence.posted_by", ""), ("evidence.photo_sha256", "")])
    assert forms.action_body("announce", announce, []) == {"start_on": "2026-12-06", "days": 10, "scope": "village"}
    late = FormData([("start_on", "2026-11-01"), ("days", "10"), ("scope", "county"),
                     ("evidence.posted_by", "村委会"), ("evidence.photo_sha256", "0f" * 32)])
    late_body = forms.action_body("announce", late, [])
    assert late_body is not None and late_body["evidence"] == {"posted_by": "村委会", "photo_sha256": "0f" * 32}
    review = FormData([("passed", "false"), ("opinion", "不可行")])
    assert forms.action_body("review", review, []) == {"passed": False, "opinion": "不可行"}
    accept = FormData([("report", "合格"), ("actual_0", "3200元"), ("met_0", "on"), ("actual_1", "80%")])
    targets = [{"indicator": "增收", "target": "3000元"}, {"indicator": "覆盖率", "target": "90%"}]
    assert forms.action_body("accept", accept, targets) == {"report": "合格", "results": [
        {"indicator": "增收", "actual": "3200元", "met": True},
        {"indicator": "覆盖率", "actual": "80%", "met": False},
    ]}
    assert forms.action_body("submit", FormData([]), []) is None


def test_a_refusal_is_shown_beside_the_form_field_that_carries_it() -> None:
    assert view.for_form({"field": "budget_fen", "detail": "x"})["field"] == "budget_yuan"
    assert view.for_form({"field": "performance_targets.1.target"})["field"] == "target_1"
    assert view.for_form({"field": "evidence"})["field"] == "evidence.posted_by"
    assert view.for_form({"field": "days"})["field"] == "days"
    bare = view.for_form({"code": "OPEN_OBJECTIONS", "rule": "P1", "detail": "有异议"})
    assert bare["field"] is None and bare["rule"] == "P1"  # no field: shown at the top of its form


def test_the_countdown_runs_to_the_last_day_before_ends_on() -> None:
    assert view.last_day("2026-12-16") == "2026-12-15"
    assert view.last_day("2027-01-01") == "2026-12-31"
