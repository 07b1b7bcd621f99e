"""O3, O4, O5, O7, O8 as functions (services/oversight/rules.py): every move from every state, allowed or refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.kernel.errors import Conflict, RuleViolation
from services.oversight import rules

ALLOWED = {
    ("assign", "open"), ("submit", "assigned"), ("submit", "returned"), ("return", "rectification_submitted"),
    ("accept", "rectification_submitted"), ("close", "accepted"), ("close", "referred"),
    *(("refer", s) for s in ("open", "assigned", "rectification_submitted", "returned", "accepted")),
}


@pytest.mark.parametrize("move", sorted(rules.MOVES))
@pytest.mark.parametrize("state", rules.STATES)
def test_o4_every_move_from_every_state(move: str, state: str) -> None:
    if (move, state) in ALLOWED:
        assert rules.next_state(move, state) == rules.MOVES[move][1]
    else:
        with pytest.raises(Conflict) as refused:
            rules.next_state(move, state)
        assert refused.value.code == "INVALID_CASE_TRANSITION" and refused.value.rule == "O4"


def test_o3_default_deadline_by_severity_and_a_given_one_after_today() -> None:
    today = date(2026, 12, 4)
    assert [rules.deadline(s, None, today) - today for s in ("critical", "high", "medium", "low")] == [
        timedelta(days=15), timedelta(days=15), timedelta(days=30), timedelta(days=60)]
    assert rules.deadline("low", today + timedelta(days=1), today) == today + timedelta(days=1)
    for day in (today, today - timedelta(days=1)):
        with pytest.raises(RuleViolation) as refused:
            rules.deadline("low", day, today)
        assert refused.value.code == "DEADLINE_IN_PAST"


def test_o5_the_responsible_organisation_is_on_the_case_region_line() -> None:
    for kind, region in (("finance_bureau", "451021"), ("finance_bureau", "451000"), ("bank_branch", "450000")):
        rules.check_assignee(kind, region, "451021")
    for kind, region in (("finance_bureau", "451022"), ("discipline_commission", "451021"), ("other", "520000")):
        with pytest.raises(RuleViolation):
            rules.check_assignee(kind, region, "451021")


def test_o7_referral_to_a_commission_of_the_same_or_a_higher_level() -> None:
    for region in ("451021", "451000", "450000", "000000"):
        rules.check_referral("discipline_commission", region, "451021")
    with pytest.raises(RuleViolation) as lower:
        rules.check_referral("discipline_commission", "451021", "451000")
    assert lower.value.code == "COMMISSION_BELOW_CASE"
    with pytest.raises(RuleViolation) as not_commission:
        rules.check_referral("finance_bureau", "450000", "451021")
    assert not_commission.value.code == "NOT_A_DISCIPLINE_COMMISSION"


@pytest.mark.parametrize("state", rules.STATES)
def test_o8_accountability_once_accepted_or_referred(state: str) -> None:
    if state in ("accepted", "referred"):
        rules.check_accountability(state)
    else:
        with pytest.raises(Conflict):
            rules.check_accountability(state)


def test_a_case_takes_the_highest_severity_of_its_alerts() -> None:
    assert rules.case_severity(["low", "critical", "medium"], None) == "critical"
    assert rules.case_severity([], None) == "medium"
    assert rules.case_severity(["critical"], "low") == "low"
