"""The oversight rules as functions of plain values (docs/rules.md "Oversight (O)"): the case's state machine
(O4), the default deadline (O3), who is answerable (O5, O6), where a referral may go (O7), when accountability is
recorded (O8). The service calls them; each raises the problem its rule answers with (problems.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from services.kernel.organisations import DISCIPLINE_COMMISSION
from services.kernel.regions import covers
from services.oversight import problems

State = Literal["open", "assigned", "rectification_submitted", "returned", "accepted", "referred", "closed"]
STATES: tuple[str, ...] = (
    "open", "assigned", "rectification_submitted", "returned", "accepted", "referred", "closed"
)
Move = Literal["assign", "submit", "return", "accept", "refer", "close"]
# O4: each move, the states it may start from, and the state it leads to. Every move is a new event row.
MOVES: dict[str, tuple[frozenset[str], str]] = {
    "assign": (frozenset({"open"}), "assigned"),
    "submit": (frozenset({"assigned", "returned"}), "rectification_submitted"),
    "return": (frozenset({"rectification_submitted"}), "returned"),
    "accept": (frozenset({"rectification_submitted"}), "accepted"),
    "refer": (frozenset({"open", "assigned", "rectification_submitted", "returned", "accepted"}), "referred"),
    "close": (frozenset({"accepted", "referred"}), "closed"),
}
# The event actions: `opened` and one per move (its target state), and what the case's state is after each.
ACTIONS: tuple[str, ...] = ("opened", *(target for _, target in MOVES.values()))
Severity = Literal["low", "medium", "high", "critical"]
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
# O3: days to rectify, by the case's severity, unless the inspector sets the deadline.
DEADLINE_DAYS = {"critical": 15, "high": 15, "medium": 30, "low": 60}
MEASURES: tuple[str, ...] = ("诫勉谈话", "通报批评", "党纪处分", "政务处分", "移送司法", "other")
# O8: accountability is recorded once rectification is accepted or the case was referred, and before it is closed.
ACCOUNTABLE_STATES = frozenset({"accepted", "referred"})


def next_state(move: str, state: str) -> str:
    """O4: the state `move` leads to from `state`, or 409 INVALID_CASE_TRANSITION."""
    sources, target = MOVES[move]
    if state not in sources:
        raise problems.invalid_transition(move, state, sorted(sources))
    return target


def case_severity(severities: list[str], given: str | None) -> str:
    """The case's severity: the one given, else the highest of its alerts', else medium (a complaint)."""
    if given is not None:
        return given
    return max(severities, key=lambda s: SEVERITY_RANK[s], default="medium")


def deadline(severity: str, given: date | None, today: date) -> date:
    """O3: the deadline given (after today), or today plus the days for the severity."""
    if given is None:
        return today + timedelta(days=DEADLINE_DAYS[severity])
    if given <= today:
        raise problems.deadline_in_past(given, today)
    return given


def check_alert_region(alert_region: str, case_region: str, field: str) -> None:
    """O2: every alert of a case lies in the case's region."""
    if not covers(case_region, alert_region):
        raise problems.alert_outside_case_region(alert_region, case_region, field)


def check_complaint_region(complaint_region: str, case_region: str) -> None:
    """O12: a case opened from a public complaint lies over the complaint's region."""
    if not covers(case_region, complaint_region):
        raise problems.complaint_outside_case_region(complaint_region, case_region)


def check_assignee(kind: str, region_code: str, case_region: str) -> None:
    """O5: the responsible organisation is no discipline commission and is of the case's region, at its level,
    above it (a city bureau for a county case) or below it (a township branch)."""
    if kind == DISCIPLINE_COMMISSION or not (covers(region_code, case_region) or covers(case_region, region_code)):
        raise problems.organisation_outside_case_region(region_code, case_region, kind)


def check_referral(kind: str, region_code: str, case_region: str) -> None:
    """O7: a referral goes to a discipline commission of the case's level or higher (its region covers the case's)."""
    if kind != DISCIPLINE_COMMISSION:
        raise problems.not_a_commission(kind)
    if not covers(region_code, case_region):
        raise problems.commission_below_case(region_code, case_region)


def check_accountability(state: str) -> None:
    """O8: accountability is recorded once the case is accepted or referred, not before, not once closed."""
    if state not in ACCOUNTABLE_STATES:
        raise problems.accountability_too_early(state)


def overdue(state: str, deadline_on: date | None, as_of: date) -> bool:
    """CASE_OVERDUE: past its deadline (the day after it) without accepted rectification, and not closed or
    referred on."""
    return deadline_on is not None and as_of > deadline_on and state in {"assigned", "rectification_submitted",
                                                                            "returned"}
