"""The oversight rules as functions of plain values (docs/rules.md "Oversight (O)"): the case's state machine
(O4), the default deadline (O3), who is answerable (O5, O6), where a referral may go (O7), when accountability is
recorded (O8), repeated misuse (O9), the reversals a rectification names (O10), a case's standing in the report
(O11). The service calls them; each raises the problem its rule answers with (problems.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from services.kernel.organisations import DISCIPLINE_COMMISSION
from services.kernel.regions import covers
from services.oversight import problems
from services.oversight.codes import PUBLIC_COMPLAINT

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


def check_complaint_alert(complaint_id: str, complaint_ref: str | None, field: str) -> None:
    """O12 with O2: a case names one complaint; a PUBLIC_COMPLAINT alert among its alerts is that complaint's (the
    first such alert names it when the case names none), so no complaint is in a case that does not name it."""
    if complaint_ref is not None and complaint_ref != complaint_id:
        raise problems.complaint_alert_mismatch(complaint_id, complaint_ref, field)


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


def check_reversals(found: list[tuple[str, str]], case_region: str) -> None:
    """O10: the reversals a rectification names, (id, the region funds says answers for it), each once, each of the
    case's region line (its region in the case's, or covering it: a city's correction of a county case)."""
    seen: set[str] = set()
    for index, (reversal_id, region_code) in enumerate(found):
        field = f"reversal_ids.{index}"
        if reversal_id in seen:
            raise problems.reversal_named_twice(reversal_id, field)
        seen.add(reversal_id)
        if not (covers(region_code, case_region) or covers(case_region, region_code)):
            raise problems.reversal_outside_case_region(region_code, case_region, field)


def check_reversals_free(reversal_ids: list[str], named_elsewhere: dict[str, str]) -> None:
    """O10: a reversal recovers the money of one case only: one a rectification of another case named already is
    409 `REVERSAL_IN_CASE` naming `reversal_ids.N` (the same case naming it again, after a return, is its own)."""
    for index, reversal_id in enumerate(reversal_ids):
        if reversal_id in named_elsewhere:
            raise problems.reversal_in_case(reversal_id, named_elsewhere[reversal_id], f"reversal_ids.{index}")


def check_accountability(state: str) -> None:
    """O8: accountability is recorded once the case is accepted or referred, not before, not once closed."""
    if state not in ACCOUNTABLE_STATES:
        raise problems.accountability_too_early(state)


def overdue(state: str, deadline_on: date | None, as_of: date) -> bool:
    """CASE_OVERDUE: past its deadline (the day after it) without accepted rectification, and not closed or
    referred on."""
    return deadline_on is not None and as_of > deadline_on and state in {"assigned", "rectification_submitted",
                                                                            "returned"}


# O9: REPEATED_MISUSE. A case opened from a complaint has this kind, besides the types of the alerts it names.
COMPLAINT = "COMPLAINT"
REPEAT_QUARTERS = 4  # the current quarter and the three before it
REPEAT_MIN_QUARTERS = 2


def quarter_of(day: date) -> str:
    """The calendar quarter of a day, as `2026Q4`."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def repeat_window_start(as_of: date) -> date:
    """O9: the first day of the quarter three quarters before `as_of`'s (the last four quarters start there)."""
    index = as_of.year * 4 + (as_of.month - 1) // 3 - (REPEAT_QUARTERS - 1)
    return date(index // 4, index % 4 * 3 + 1, 1)


def case_types(alert_types: list[str], complaint_ref: str) -> list[str]:
    """O9: a case's "alert types": those of the alerts it was opened from, and COMPLAINT for one opened from a
    complaint reference. A public complaint's own alert (PUBLIC_COMPLAINT, O12) is that complaint, so it counts as
    COMPLAINT, not as a second type of the same case."""
    types = {COMPLAINT if t == PUBLIC_COMPLAINT else t for t in alert_types}
    return sorted({*types, *([COMPLAINT] if complaint_ref else [])})


def repeated_types(cases: list[tuple[str, date, list[str]]], as_of: date) -> dict[str, dict[str, list[str]]]:
    """O9: of one organisation's cases (id, day opened in China, types), the types found in cases opened in two or
    more distinct calendar quarters of the last four up to `as_of` (the current one and the three before it), each
    with those quarters and cases; a case opened before the window or after `as_of` does not count."""
    start = repeat_window_start(as_of)
    found: dict[str, dict[str, set[str]]] = {}
    for case_id, opened_on, types in cases:
        if not start <= opened_on <= as_of:
            continue
        for type_ in types:
            seen = found.setdefault(type_, {"quarters": set(), "case_ids": set()})
            seen["quarters"].add(quarter_of(opened_on))
            seen["case_ids"].add(case_id)
    return {
        type_: {"quarters": sorted(seen["quarters"]), "case_ids": sorted(seen["case_ids"])}
        for type_, seen in sorted(found.items()) if len(seen["quarters"]) >= REPEAT_MIN_QUARTERS
    }


@dataclass(frozen=True)
class Step:
    """A case event as O11 reads it: its action, the state after it, the organisation and deadline it names, the
    day (in China) it was recorded, the money recovered it declares."""

    action: str
    state: str
    organisation_id: str
    deadline: date | None
    on: date
    money_recovered_fen: int | None


@dataclass(frozen=True)
class Standing:
    """O11: where a case stands at the end of a report's period."""

    responsible: str | None
    closed_on_time: bool
    overdue: bool
    referred: bool
    money_recovered_fen: int


def standing(steps: list[Step], as_of: date) -> Standing:
    """O11: a case's standing from its events up to the end of the period (`steps`, in order, the first `opened`),
    overdue judged as of `as_of` (the period's last day, or today if that is later than today). Responsible: the
    latest assignment's organisation. Closed on time: closed, its rectification accepted on or before the deadline.
    Overdue: past the deadline without accepted rectification (CASE_OVERDUE's condition, `overdue`), or accepted
    after the deadline (closed late, or not yet closed). Referred: referred to a discipline commission. Money
    recovered: what the accepted rectification declared (its reversals' sum by default, O10); nothing before."""
    assigned = [s for s in steps if s.action == "assigned"]
    responsible = assigned[-1].organisation_id if assigned else None
    deadline_on = assigned[-1].deadline if assigned else None
    accepted = next((i for i, s in enumerate(steps) if s.action == "accepted"), None)
    accepted_on = steps[accepted].on if accepted is not None else None
    late = accepted_on is not None and deadline_on is not None and accepted_on > deadline_on
    recovered = 0
    if accepted is not None:
        answer = next((s for s in reversed(steps[:accepted]) if s.action == "rectification_submitted"), None)
        recovered = (answer.money_recovered_fen or 0) if answer is not None else 0
    state = steps[-1].state
    return Standing(
        responsible=responsible,
        closed_on_time=state == "closed" and accepted_on is not None and not late,
        overdue=overdue(state, deadline_on, as_of) or late,
        referred=any(s.action == "referred" for s in steps),
        money_recovered_fen=recovered,
    )
