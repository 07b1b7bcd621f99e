"""The contract rules as pure functions (P8, P9), both sides of each, without a database."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.kernel.errors import Problem
from services.projects import codes, contract_rules
from services.projects.contract_rules import DirectAward, Threshold


def refused(fn: Any, *args: Any, **kwargs: Any) -> str | None:
    try:
        fn(*args, **kwargs)
    except Problem as problem:
        return problem.code
    return None


@pytest.mark.parametrize(("status", "ok"), [
    ("approved", True), ("in_progress", True), ("draft", False), ("announced", False), ("completed", False),
    ("accepted", False), ("rejected", False),
])
def test_p8_contracts_of_an_approved_or_running_project(status: str, ok: bool) -> None:
    assert refused(contract_rules.check_contracting, status) == (None if ok else codes.PROJECT_NOT_CONTRACTING)


def test_p8_a_direct_award_states_its_reason() -> None:
    assert refused(contract_rules.check_direct_award_reason, "direct_award", "抢险") is None
    assert refused(contract_rules.check_direct_award_reason, "public_tender", None) is None
    for reason in (None, "", "  "):
        assert refused(contract_rules.check_direct_award_reason, "direct_award", reason) == \
            codes.DIRECT_AWARD_REASON_REQUIRED


def test_p8_contracts_within_the_budget() -> None:
    assert refused(contract_rules.check_within_budget, budget_fen=100, contracted_fen=60, amount_fen=40) is None
    assert refused(contract_rules.check_within_budget, budget_fen=100, contracted_fen=60, amount_fen=41) == \
        codes.CONTRACTS_OVER_BUDGET


def test_p9_the_threshold_in_force_or_the_default() -> None:
    old = Threshold(300_000, date(2018, 1, 1), "t1")
    new = Threshold(500_000, date(2019, 1, 1), "t2")
    assert contract_rules.threshold_in_force([], date(2019, 1, 1)).amount_fen == codes.DEFAULT_TENDER_THRESHOLD_FEN
    assert contract_rules.threshold_in_force([old, new], date(2017, 12, 31)).id is None
    assert contract_rules.threshold_in_force([old, new], date(2018, 12, 31)) == old
    assert contract_rules.threshold_in_force([new, old], date(2019, 1, 1)) == new


def test_p9_several_direct_awards_above_the_threshold_are_a_split() -> None:
    def awards(*amounts: int) -> list[DirectAward]:
        return [DirectAward(f"c{i}", a, date(2018, 3, 1)) for i, a in enumerate(amounts)]

    assert contract_rules.is_split(awards(200, 200), 300)
    assert not contract_rules.is_split(awards(150, 150), 300)  # exactly the threshold is not above it
    assert not contract_rules.is_split(awards(400), 300)  # one award alone is not a split
