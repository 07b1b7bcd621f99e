"""Pure tests of the project rules (P1–P7), the state machine table and the dividend split."""

from __future__ import annotations

import itertools
import random
from datetime import date

import pytest

from services.kernel.errors import Conflict, NotInJurisdiction, RuleViolation
from services.kernel.identity import Principal
from services.projects import codes, rules


def test_the_table_covers_every_status_and_only_known_actions() -> None:
    assert set(rules.TRANSITIONS) == set(rules.STATUSES)
    for moves in rules.TRANSITIONS.values():
        assert set(moves) <= set(rules.ACTIONS)
        assert set(moves.values()) <= set(rules.STATUSES)


ALLOWED = [(s, a, t) for s, moves in rules.TRANSITIONS.items() for a, t in moves.items()]
REFUSED = [(s, a) for s, a in itertools.product(rules.STATUSES, rules.ACTIONS) if a not in rules.TRANSITIONS[s]]


@pytest.mark.parametrize(("status", "action", "target"), ALLOWED)
def test_allowed_move(status: str, action: str, target: str) -> None:
    assert rules.next_status(status, action) == target


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_refused_move_names_status_and_allowed_actions(status: str, action: str) -> None:
    with pytest.raises(Conflict) as caught:
        rules.next_status(status, action)
    body = caught.value.body()
    assert body["status"] == 409 and body["code"] == codes.INVALID_TRANSITION
    assert body["status_now"] == status and body["allowed_actions"] == rules.allowed_actions(status)
    assert status in body["detail"]


def test_withdraw_only_before_approval_and_reject_only_from_the_review_steps() -> None:
    before_approval = {"draft", "submitted", "reviewed", "announced"}
    assert {s for s, m in rules.TRANSITIONS.items() if "withdraw" in m} == before_approval
    assert {s for s, m in rules.TRANSITIONS.items() if "reject" in m} == {"submitted", "reviewed", "announced"}


def test_p4_negative_list_both_sides() -> None:
    for category in rules.POSITIVE_CATEGORIES:
        rules.check_category_not_on_negative_list(category)
    for category in rules.NEGATIVE_CATEGORIES:
        with pytest.raises(RuleViolation) as caught:
            rules.check_category_not_on_negative_list(category)
        assert caught.value.code == codes.NEGATIVE_LIST and caught.value.rule == "P4"
    assert len(rules.NEGATIVE_CATEGORIES) == 9 and len(rules.CATEGORIES) == 18


def test_p7_performance_targets_both_sides() -> None:
    rules.check_has_performance_targets([{"indicator": "受益户增收", "target": "≥2000元/户"}])
    with pytest.raises(RuleViolation) as caught:
        rules.check_has_performance_targets([])
    assert caught.value.code == codes.NO_PERFORMANCE_TARGETS and caught.value.rule == "P7"


def test_p3_eligible_as_the_registry_judges() -> None:
    """The registry decides (no reason: poor, exited or returned); P3 is about the status, so a village cadre in the
    household does not refuse a beneficiary (API.md's P3)."""
    rules.check_poor_beneficiaries(["h1", "h2"], {"h1": [], "h2": ["village_cadre"]})


@pytest.mark.parametrize(
    ("beneficiaries", "registry", "bad"),
    [
        ([], {}, []),
        (["h1"], {}, ["h1"]),  # the registry did not answer for it
        (["h1"], {"h1": ["not_registered"]}, ["h1"]),
        (["h1", "h2"], {"h1": [], "h2": ["not_poor"]}, ["h2"]),
        (["h1", "h2"], {"h1": ["not_poor", "village_cadre"], "h2": []}, ["h1"]),
    ],
)
def test_p3_refused(beneficiaries: list[str], registry: dict[str, list[str]], bad: list[str]) -> None:
    with pytest.raises(RuleViolation) as caught:
        rules.check_poor_beneficiaries(beneficiaries, registry)
    assert caught.value.code == codes.NO_POOR_BENEFICIARIES and caught.value.rule == "P3"
    assert caught.value.extra.get("households", []) == bad


def test_p1_announcement_days_both_sides() -> None:
    rules.check_announcement_days(10)
    rules.check_announcement_days(30)
    for days in (9, 1, 0, -5):
        with pytest.raises(RuleViolation) as caught:
            rules.check_announcement_days(days)
        assert caught.value.code == codes.ANNOUNCEMENT_TOO_SHORT and caught.value.field == "days"


def test_p1_announcement_ended_both_sides() -> None:
    start = date(2018, 3, 1)
    rules.check_announcement_ended(start, 10, date(2018, 3, 11))  # 1–10 March: ended on the 11th
    rules.check_announcement_ended(start, 10, date(2019, 1, 1))
    with pytest.raises(RuleViolation) as caught:
        rules.check_announcement_ended(start, 10, date(2018, 3, 10))
    assert caught.value.code == codes.ANNOUNCEMENT_TOO_SHORT
    assert caught.value.extra["announcement_ends_on"] == "2018-03-11"


def test_p1_open_objections_both_sides() -> None:
    rules.check_no_open_objections([])
    with pytest.raises(RuleViolation) as caught:
        rules.check_no_open_objections(["obj_1"])
    assert caught.value.code == codes.OPEN_OBJECTIONS


def test_p2_only_the_county_manager_approves() -> None:
    rules.check_may_approve(Principal("p", "project_manager", "430523"), "430523")
    refused = (
        Principal("p", "project_manager", "430524"),  # another county
        Principal("p", "project_manager", "430500"),  # the city above: approval is the county's (P2)
        Principal("p", "project_manager", "430523101001"),  # a village of the county
        Principal("p", "finance", "430523"),
    )
    for principal in refused:
        with pytest.raises(NotInJurisdiction):
            rules.check_may_approve(principal, "430523")


def test_p6_shares_go_to_beneficiaries_of_income_generating_assets_only() -> None:
    rules.check_shares("income_generating", ["h1", "h2"], ["h1", "h2", "h3"])
    rules.check_shares("public_welfare", [], ["h1"])
    refused: tuple[tuple[tuple[str, list[str], list[str]], str], ...] = (
        (("public_welfare", ["h1"], ["h1"]), codes.SHARES_NOT_FOR_KIND),
        (("income_generating", [], ["h1"]), codes.SHARES_REQUIRED),
        (("income_generating", ["h1", "x9"], ["h1"]), codes.SHAREHOLDER_NOT_BENEFICIARY),
    )
    for (kind, shareholders, beneficiaries), code in refused:
        with pytest.raises(RuleViolation) as caught:
            rules.check_shares(kind, shareholders, beneficiaries)
        assert (caught.value.code, caught.value.rule) == (code, codes.P6)


def test_dividend_split_awkward_numbers_sum_exactly() -> None:
    split = rules.split_by_shares(100, {"a": 1, "b": 1, "c": 1})
    assert split == {"a": 34, "b": 33, "c": 33}  # tie → lowest household id first
    split = rules.split_by_shares(1, {"z": 1, "y": 1})
    assert split == {"y": 1, "z": 0}
    split = rules.split_by_shares(1_000_003, {"h1": 7, "h2": 11, "h3": 13, "h4": 17})
    assert sum(split.values()) == 1_000_003
    # largest remainder: each within one fen of its exact share
    for h, s in {"h1": 7, "h2": 11, "h3": 13, "h4": 17}.items():
        assert abs(split[h] - 1_000_003 * s / 48) < 1


def test_dividend_split_random_totals_preserved() -> None:
    rng = random.Random(42)
    for _ in range(500):
        shares = {f"h{i:03d}": rng.randint(1, 1000) for i in range(rng.randint(1, 40))}
        amount = rng.randint(1, 10**12)
        split = rules.split_by_shares(amount, shares)
        assert sum(split.values()) == amount
        total = sum(shares.values())
        assert all(amount * s // total <= split[h] <= amount * s // total + 1 for h, s in shares.items())


def test_dividend_split_refuses_nonpositive_shares() -> None:
    with pytest.raises(ValueError):
        rules.split_by_shares(10, {"a": 0})


def test_name_normalisation_and_similarity_both_sides_of_the_threshold() -> None:
    assert rules.normalise_name(" 石门村 光伏电站建设项目。") == "石门村光伏电站"
    assert rules.name_similarity("石门村光伏电站建设项目", "石门村 光伏电站工程") == 1.0
    near = rules.name_similarity("石门村光伏发电站项目", "石门村光伏电站项目")
    assert near >= rules.DUPLICATE_NAME_THRESHOLD
    far = rules.name_similarity("石门村光伏电站项目", "石门村茶叶种植基地项目")
    assert far < rules.DUPLICATE_NAME_THRESHOLD


def test_periods_overlap() -> None:
    a = (date(2018, 1, 1), date(2018, 6, 30))
    assert rules.periods_overlap(a, (date(2018, 6, 30), date(2018, 12, 31)))
    assert not rules.periods_overlap(a, (date(2018, 7, 1), date(2018, 12, 31)))
